"""`artflow install` and `artflow uninstall`: add or remove a plugin with pip in this environment,
and say what it contributes."""

from __future__ import annotations

import importlib
import re
import sys
from pathlib import Path

import click

from ..errors import PluginError


def _pip(*args: str) -> None:
    import subprocess

    cmd = [sys.executable, "-m", "pip", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        lines = [ln for ln in (proc.stderr or proc.stdout).splitlines() if ln.strip()
                 and not ln.startswith("WARNING: Location")]
        reason = lines[-1] if lines else f"pip exited with {proc.returncode}"
        raise PluginError(f"pip {' '.join(args)} failed: {reason}")


def _plugin_dists() -> dict[str, set[str]]:
    from importlib import metadata

    from ..plugins import GROUP

    out: dict[str, set[str]] = {}
    for ep in metadata.entry_points(group=GROUP):
        if ep.dist is not None:
            out.setdefault(ep.dist.name, set()).add(ep.name)
    return out


def _dist_of(package: str, local: Path) -> str | None:
    """The distribution name ``package`` installs: a folder's pyproject name, or the requirement's."""
    if local.is_dir():
        try:
            import tomllib

            return str(tomllib.loads((local / "pyproject.toml").read_text())["project"]["name"])
        except (ImportError, OSError, KeyError, ValueError):
            return None
    return re.split(r"[<>=!~\[ ;@]", package.strip(), maxsplit=1)[0] or None


def _key(dist: str) -> str:
    return re.sub(r"[-_.]+", "-", dist).lower()


def _contributions(dist: str) -> str:
    """What the loaded plugin ``dist`` contributes, in words."""
    from ..plugins import get_plugins

    info = next((p for p in get_plugins().plugins.values() if _key(p.distribution) == _key(dist)), None)
    if info is None:
        return "not loaded"
    if info.error:
        return info.error
    parts = [f"{what} {', '.join(names)}" for what, names in
             (("nodes", info.nodes), ("models", info.models), ("trainers", info.trainers)) if names]
    return "; ".join(parts) or "nothing yet (no nodes, models or trainers)"


@click.command()
@click.argument("package")
@click.option("-e", "--editable", is_flag=True,
              help="Install a local folder in editable mode: edits to it apply without reinstalling.")
def install(package: str, editable: bool) -> None:
    """Install a plugin (a PyPI name or a local folder) into this environment with pip.

    A folder installed with -e is used in place, so edits apply at once; without -e it is copied.
    """
    from importlib import metadata

    from ..plugins import reset_plugins

    local = Path(package)
    if editable and not local.is_dir():
        raise PluginError(f"-e needs a local folder with a pyproject.toml; '{package}' is not a folder")
    before = {_key(d) for d in _plugin_dists()}
    args = ["install", "--disable-pip-version-check", "-q", *(["-e"] if editable else [])]
    _pip(*args, str(local.resolve()) if local.exists() else package)
    importlib.invalidate_caches()
    import site

    for folder in site.getsitepackages():
        site.addsitedir(folder)  # picks up .pth files of editable installs
    reset_plugins()
    plugins = {_key(d): d for d in _plugin_dists()}
    dist = _dist_of(package, local)
    names = [plugins[_key(dist)]] if dist and _key(dist) in plugins else sorted(set(plugins) - before)
    if not names:
        click.echo(f"installed {dist or package}; it is not an artflow plugin (no 'artflow' entry point)")
        return
    how = (f" (editable: edits to {local} apply at once)" if editable else
           f" (a copy: edits to {local} apply after `artflow install -e {local}`)" if local.is_dir() else "")
    for name in names:
        verb = "reinstalled" if _key(name) in before else "installed"
        click.echo(f"{verb} plugin {name} {metadata.version(name)}{how}: {_contributions(name)}")


@click.command()
@click.argument("package")
def uninstall(package: str) -> None:
    """Uninstall a plugin distribution from this environment with pip."""
    from ..plugins import BUILTIN_DIST, reset_plugins

    if package.lower() == BUILTIN_DIST:
        raise PluginError("refusing to uninstall artflow itself; use pip directly if you mean it")
    dists = {d.lower() for d in _plugin_dists()}
    if package.lower().replace("_", "-") not in {d.replace("_", "-") for d in dists}:
        raise PluginError(f"'{package}' is not an installed artflow plugin; `artflow plugins` lists them")
    _pip("uninstall", "-y", "-q", package)
    reset_plugins()
    click.echo(f"uninstalled {package}")
