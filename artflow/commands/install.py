"""`artflow install` and `artflow uninstall`: add or remove a plugin with pip in this environment,
and say what it contributes."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import click


def _pip(*args: str) -> None:
    import subprocess

    cmd = [sys.executable, "-m", "pip", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        lines = [ln for ln in (proc.stderr or proc.stdout).splitlines() if ln.strip()
                 and not ln.startswith("WARNING: Location")]
        reason = lines[-1] if lines else f"pip exited with {proc.returncode}"
        from ..errors import PluginError

        raise PluginError(f"pip {' '.join(args)} failed: {reason}")


def _plugin_dists() -> dict[str, set[str]]:
    from importlib import metadata

    from ..plugins import GROUP

    out: dict[str, set[str]] = {}
    for ep in metadata.entry_points(group=GROUP):
        if ep.dist is not None:
            out.setdefault(ep.dist.name, set()).add(ep.name)
    return out


@click.command()
@click.argument("package")
@click.option("-e", "--editable", is_flag=True, help="Install a local folder in editable mode.")
def install(package: str, editable: bool) -> None:
    """Install a plugin (a PyPI name or a local folder) into this environment with pip."""
    from ..plugins import get_plugins, reset_plugins

    before = _plugin_dists()
    args = ["install", "--disable-pip-version-check", "-q"]
    if editable:
        args.append("-e")
    local = Path(package)
    _pip(*args, str(local.resolve()) if local.exists() else package)
    importlib.invalidate_caches()
    import site

    for folder in site.getsitepackages():
        site.addsitedir(folder)  # picks up .pth files of editable installs
    reset_plugins()
    new = sorted(set(_plugin_dists()) - set(before))
    if not new:
        click.echo(f"installed {package}; it registers no new artflow plugin")
        return
    ps = get_plugins()
    for dist in new:
        info = next((p for p in ps.plugins.values() if p.distribution == dist), None)
        nodes_added = ", ".join(info.nodes) if info and info.nodes else "no nodes"
        click.echo(f"installed plugin {dist}: {nodes_added}")


@click.command()
@click.argument("package")
def uninstall(package: str) -> None:
    """Uninstall a plugin distribution from this environment with pip."""
    from ..errors import PluginError
    from ..plugins import BUILTIN_DIST, reset_plugins

    if package.lower() == BUILTIN_DIST:
        raise PluginError("refusing to uninstall artflow itself; use pip directly if you mean it")
    dists = {d.lower() for d in _plugin_dists()}
    if package.lower().replace("_", "-") not in {d.replace("_", "-") for d in dists}:
        raise PluginError(f"'{package}' is not an installed artflow plugin; `artflow plugins` lists them")
    _pip("uninstall", "-y", "-q", package)
    reset_plugins()
    click.echo(f"uninstalled {package}")
