"""`artflow eval detector` comes from the detector plugin's register_commands hook, not the core."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import artflow_detector
import pytest

import artflow

SHIPPED = Path(artflow_detector.__file__).parent / "models" / "shapes.onnx"


def test_the_detector_distribution_registers_eval_through_its_entry_point():
    from importlib.metadata import entry_points

    from artflow.plugins import get_plugins

    (ep,) = [e for e in entry_points(group="artflow") if e.value == "artflow_detector"]
    assert ep.dist is not None and ep.dist.name == "artflow"
    impls = get_plugins().manager.hook.register_commands.get_hookimpls()
    assert any(impl.plugin is artflow_detector for impl in impls)


def test_help_lists_eval_without_loading_the_evaluation():
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from artflow.cli import cli\n"
        "r = CliRunner().invoke(cli, ['--help'])\n"
        "assert r.exit_code == 0, r.output\n"
        "assert 'eval' in r.output.split('Commands:')[1], r.output\n"
        "heavy = [m for m in sys.modules if m.startswith(('tensorflow', 'keras', 'onnxruntime',\n"
        "         'artflow_detector.scenes', 'artflow_detector.evaluation', 'artflow_detector.detect'))]\n"
        "assert not heavy, heavy\n"
        "r = CliRunner().invoke(cli, ['eval', '--help'])\n"
        "assert r.exit_code == 0 and 'detector' in r.output, r.output\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]


def test_eval_detector_runs_from_the_installed_cli(artflow_cli):
    if not SHIPPED.is_file():
        pytest.skip("the shipped shapes detector is not there yet")
    proc = artflow_cli("eval", "detector", "--model", "shapes", "--scenes", "3", "--size", "128", "--json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert 0.0 <= result["map50"] <= 1.0 and result["model"] == str(SHIPPED)
    bad = artflow_cli("eval", "detector", "--model", "nope")
    assert bad.returncode == 2 and "unknown detector model 'nope'" in bad.stderr


def test_the_core_imports_no_plugin_package():
    root = Path(artflow.__file__).parent
    found = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            elif (isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", ""))
                  == "import_module" and node.args and isinstance(node.args[0], ast.Constant)):
                names = [str(node.args[0].value)]
            found += [f"{path.relative_to(root)}:{node.lineno} {n}" for n in names
                      if n.split(".")[0].startswith("artflow_")]
    assert not found, found
