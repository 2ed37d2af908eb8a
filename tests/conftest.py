"""Shared fixtures: an isolated cache per test session, artflow's CLI, and fake plugins."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Keep the tests' cache out of the user's cache folder, and their settings out of the user's
    config file."""
    os.environ["ARTFLOW_CACHE"] = str(tmp_path_factory.mktemp("artflow-cache"))
    os.environ["ARTFLOW_CONFIG"] = str(tmp_path_factory.mktemp("artflow-config") / "config.toml")


@pytest.fixture
def artflow_cli():
    """Run the installed `artflow` command in a subprocess: (returncode, stdout, stderr)."""
    exe = Path(sys.executable).parent / "artflow"

    def run(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
            timeout: float = 300) -> subprocess.CompletedProcess[str]:
        full_env = dict(os.environ)
        full_env.update(env or {})
        return subprocess.run([str(exe), *args], capture_output=True, text=True, cwd=cwd,
                              env=full_env, timeout=timeout)

    return run


@pytest.fixture
def fake_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Make an installed-looking distribution with an `artflow` entry point, on sys.path.

    Real entry-point discovery (importlib.metadata) finds it, exactly as after `pip install`.
    """
    from artflow.plugins import reset_plugins

    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    made: list[str] = []

    def make(dist: str, module: str, source: str, version: str = "1.0") -> Path:
        (site / f"{module}.py").write_text(textwrap.dedent(source))
        info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
        (info / "entry_points.txt").write_text(f"[artflow]\n{module} = {module}\n")
        made.append(module)
        reset_plugins()
        return site

    yield make
    for module in made:
        sys.modules.pop(module, None)
    reset_plugins()
