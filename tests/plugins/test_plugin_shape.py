"""The built-in plugins keep the plugin contract's shape: short __init__s, one shipping path."""

from __future__ import annotations

import ast
from pathlib import Path

PLUGINS = Path(__file__).resolve().parents[2] / "plugins"


def test_no_plugin_init_runs_past_30_lines():
    long = {p.parent.name: n for p in sorted(PLUGINS.glob("*/__init__.py"))
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 30}
    assert long == {}


def test_every_ship_script_ships_through_artflow_shipping_and_writes_no_manifest_itself():
    scripts = sorted(PLUGINS.glob("*/ship.py")) + sorted(PLUGINS.glob("*/*_ship.py"))
    assert len(scripts) >= 6
    for path in scripts:
        text = path.read_text(encoding="utf-8")
        calls = {f"{n.func.value.id}.{n.func.attr}" for n in ast.walk(ast.parse(text))
                 if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
                 and isinstance(n.func.value, ast.Name)}
        assert "shipping.ship" in calls or "shipping.reship" in calls, path
        assert not calls & {"json.dump", "json.dumps", "shutil.copyfile"}, (path, calls)
