"""The commands plugins add to the CLI, listed without importing the plugins.

`artflow --help` lists every verb, the plugins' too, but importing every plugin to learn its
verbs costs more than the rest of the start-up. So the first run that needs them loads the
plugins once and records their commands (name, one-line help) in a small table in the user's
cache folder; later runs read the table as long as nothing it depends on changed:

- the installed distributions (the modification times of the folders on ``sys.path``: pip adds
  and removes ``*.dist-info`` folders there),
- the files of the plugin modules and of the modules that define their commands, and the
  entry-point files of their distributions (an editable plugin edited in place),
- artflow's version, the Python executable, and the settings that choose plugins
  (``ARTFLOW_LOAD_PLUGINS``, ``ARTFLOW_NO_PLUGINS``).

A plugin command is imported only when it runs (or shows its own ``--help``).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

FORMAT = 1
SELECTING = ("ARTFLOW_LOAD_PLUGINS", "ARTFLOW_NO_PLUGINS")


def table_path(digest: str) -> Path:
    """Where the table of one environment lives: ``<user cache dir>/artflow-cli/commands-*.json``
    (one per environment: a virtualenv's console script and ``python -m`` see different paths)."""
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("artflow-cli")) / f"commands-{digest[:16]}.json"


def _mtime(path: str) -> int:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return -1


def environment() -> str:
    """A digest of what decides which plugins load: sys.path folders, versions, settings."""
    from . import __version__

    parts: list[Any] = [FORMAT, __version__, sys.executable]
    parts += [(name, os.environ.get(name, "")) for name in SELECTING]
    parts += [(entry, _mtime(entry)) for entry in sys.path if entry and os.path.isabs(entry)]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


def read_table() -> dict[str, str] | None:
    """Plugin command name → one-line help, or None when the table is missing or stale."""
    digest = environment()
    try:
        data = json.loads(table_path(digest).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("environment") != digest:
        return None
    sources = data.get("sources")
    if not isinstance(sources, dict) or any(_mtime(p) != m for p, m in sources.items()):
        return None
    commands = data.get("commands")
    if not isinstance(commands, dict):
        return None
    return {str(k): str(v) for k, v in commands.items()}


def _module_files(obj: Any) -> set[str]:
    """Files of the modules behind a command (its callback, and a group's subcommands)."""
    files: set[str] = set()
    callback = getattr(obj, "callback", None)
    module = sys.modules.get(getattr(callback, "__module__", "") or "")
    if module is not None and getattr(module, "__file__", None):
        files.add(module.__file__)
    for sub in getattr(obj, "commands", {}).values():
        files |= _module_files(sub)
    return files


def write_table(commands: dict[str, Any], plugin_modules: list[Any]) -> dict[str, str]:
    """Record the plugins' commands (name → click command); return name → one-line help."""
    table = {name: (cmd.get_short_help_str(limit=80) or "") for name, cmd in sorted(commands.items())}
    files: set[str] = set()
    for cmd in commands.values():
        files |= _module_files(cmd)
    for module in plugin_modules:
        path = getattr(module, "__file__", None)
        if path:
            files.add(path)
            files |= _entry_point_files(module)
    digest = environment()
    data = {"format": FORMAT, "environment": digest,
            "sources": {p: _mtime(p) for p in sorted(files)}, "commands": table}
    path = table_path(digest)
    try:
        from .imaging import atomic_write_bytes

        atomic_write_bytes(path, (json.dumps(data, indent=1) + "\n").encode("utf-8"))
    except OSError:
        pass  # a read-only cache folder: the next run loads the plugins again
    return table


def _entry_point_files(module: Any) -> set[str]:
    """entry_points.txt of the distribution that provides ``module`` (changes with a reinstall)."""
    from importlib import metadata

    top = (getattr(module, "__name__", "") or "").split(".")[0]
    try:
        names = metadata.packages_distributions().get(top, [])
    except Exception:  # noqa: BLE001 - metadata of odd installs is not worth failing --help
        return set()
    out = set()
    for name in names:
        try:
            located = metadata.distribution(name).locate_file("")
        except metadata.PackageNotFoundError:
            continue
        for info in Path(str(located)).glob(f"{name.replace('-', '_')}*.*-info/entry_points.txt"):
            out.add(str(info))
    return out
