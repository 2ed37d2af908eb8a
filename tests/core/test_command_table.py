"""`artflow --help` lists the plugins' commands from a cached table, without importing the
plugins; the table is rebuilt when what it was made from changes; a listed plugin command still
runs (the plugins load when it is invoked)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = """
import json, sys
from artflow.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print(json.dumps({"plugins": "artflow.plugins" in sys.modules,
                  "detector": any(m.startswith("artflow_detector") for m in sys.modules),
                  "numpy": "numpy" in sys.modules}), file=sys.stderr)
"""


def _run(cache: Path, *args: str) -> tuple[str, dict]:
    env = dict(os.environ, XDG_CACHE_HOME=str(cache))
    env.pop("ARTFLOW_HELP_FAST", None)
    proc = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, env=env,
                          timeout=300)
    return proc.stdout, json.loads(proc.stderr.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def cold(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, dict]:
    """A cache folder after one `artflow --help` that had no table yet."""
    cache = tmp_path_factory.mktemp("cache")
    out, loaded = _run(cache, "--help")
    return cache, out, loaded


def _copy(cache: Path, tmp_path: Path) -> Path:
    shutil.copytree(cache, tmp_path / "cache")
    return tmp_path / "cache"


def test_help_lists_plugin_commands_from_the_table_without_importing_plugins(cold, tmp_path: Path) -> None:
    cache, first, loaded = cold
    assert "eval" in first and loaded["plugins"]  # no table yet: the plugins load once
    tables = list((cache / "artflow-cli").glob("commands-*.json"))
    assert len(tables) == 1
    assert json.loads(tables[0].read_text())["commands"]["eval"].startswith("Evaluate")
    again, loaded = _run(_copy(cache, tmp_path), "--help")
    assert again == first  # the same listing, plugin commands and their help lines included
    assert loaded == {"plugins": False, "detector": False, "numpy": False}  # a light --help


def test_a_listed_plugin_command_loads_the_plugins_when_it_runs(cold, tmp_path: Path) -> None:
    out, loaded = _run(_copy(cold[0], tmp_path), "eval", "--help")
    assert "detector" in out and loaded["detector"]  # the real command's own help


def test_the_table_is_rebuilt_when_a_source_changes(cold, tmp_path: Path) -> None:
    tmp_path = _copy(cold[0], tmp_path)
    table = next((tmp_path / "artflow-cli").glob("commands-*.json"))
    data = json.loads(table.read_text())
    some = next(iter(data["sources"]))
    data["sources"][some] -= 1  # as if the plugin's file had been edited since
    data["commands"]["stale-verb"] = "should disappear"
    table.write_text(json.dumps(data))
    out, loaded = _run(tmp_path, "--help")
    assert loaded["plugins"] and "stale-verb" not in out
    assert "stale-verb" not in json.loads(table.read_text())["commands"]
