"""Plugins load through real entry points; a broken one is named and skipped, the rest works."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sys
import warnings
from pathlib import Path

import pytest

from artflow import hookspecs
from artflow.errors import ModelError
from artflow.plugins import PluginWarning, get_plugins

ROOT = Path(__file__).resolve().parents[2]

GOOD = """
    import numpy as np
    import artflow as af

    @af.node("good.fill", category="test", outputs={"image": af.IMAGE},
             params={"value": af.Float(0.5, min=0, max=1, doc="level")})
    def fill(ctx, value):
        "Fill with one grey."
        return np.full((1, 4, 4, 3), value, np.float32)

    @af.hookimpl
    def register_nodes(register):
        register(fill)
"""


def test_hook_register_nodes_adds_node_types(fake_plugin):
    fake_plugin("artflow-good", "artflow_good", GOOD)
    ps = get_plugins()
    assert "good.fill" in ps.nodes
    info = ps.plugins["artflow-good"]
    assert info.nodes == ["good.fill"] and info.version == "1.0" and not info.error


def test_hook_register_models_checks_sha256(fake_plugin, tmp_path):
    model = tmp_path / "m.onnx"
    model.write_bytes(b"pretend model bytes")
    sha = hashlib.sha256(model.read_bytes()).hexdigest()
    fake_plugin("artflow-models", "artflow_models", f"""
        import artflow as af

        @af.hookimpl
        def register_models(register):
            register(name="tiny", kind="classifier", path={str(model)!r}, sha256={sha!r}, note="x")
    """)
    ps = get_plugins()
    entry = ps.models.resolve("tiny", "classifier")
    assert entry.sha256 == sha and entry.extra == {"note": "x"}
    model.write_bytes(b"tampered model bytes")
    os.utime(model, (1, 1))
    with pytest.raises(ModelError) as exc:
        ps.models.resolve("tiny", "classifier")
    assert "does not match its registered sha256" in str(exc.value) and "\n" not in str(exc.value)
    model.unlink()
    with pytest.raises(ModelError, match="missing its file"):
        ps.models.resolve("tiny", "classifier")


def test_hook_register_trainers_adds_a_kind(fake_plugin):
    fake_plugin("artflow-trainer", "artflow_trainer", """
        import artflow as af

        def train_toy(**options):
            return "trained"

        @af.hookimpl
        def register_trainers(register):
            register("toy", train_toy)
    """)
    ps = get_plugins()
    assert "toy" in ps.trainers.kinds()
    assert ps.trainers.get("toy")() == "trained"


def test_hook_register_commands_adds_a_cli_verb(fake_plugin, artflow_cli):
    site = fake_plugin("artflow-verb", "artflow_verb", """
        import artflow as af

        @af.hookimpl
        def register_commands(cli):
            import click

            @cli.command(name="hello")
            def hello():
                "Say hello."
                click.echo("hello from a plugin")
    """)
    env = {"PYTHONPATH": str(site)}
    proc = artflow_cli("hello", env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "hello from a plugin"
    assert "hello" in artflow_cli("--help", env=env).stdout


def test_plugin_whose_import_raises_is_named_and_skipped(fake_plugin, artflow_cli):
    site = fake_plugin("artflow-broken", "artflow_broken", "raise RuntimeError('broken on purpose')\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ps = get_plugins()
    messages = [str(w.message) for w in caught if issubclass(w.category, PluginWarning)]
    assert any("plugin 'artflow-broken' was skipped: RuntimeError: broken on purpose" in m for m in messages)
    assert "image.load" in ps.nodes
    proc = artflow_cli("nodes", env={"PYTHONPATH": str(site)})
    assert proc.returncode == 0
    assert "image.load" in proc.stdout
    assert "warning: plugin 'artflow-broken' was skipped" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_plugin_whose_hook_raises_is_skipped_but_others_keep_their_nodes(fake_plugin):
    fake_plugin("artflow-good", "artflow_good", GOOD)
    fake_plugin("artflow-hookfail", "artflow_hookfail", """
        import artflow as af

        @af.hookimpl
        def register_nodes(register):
            raise KeyError("no such thing")
    """)
    with pytest.warns(PluginWarning, match="artflow-hookfail.*KeyError.*register_nodes"):
        ps = get_plugins()
        assert "good.fill" in ps.nodes
    assert ps.plugins["artflow-hookfail"].error


def test_plugin_implementing_an_unknown_hook_is_skipped(fake_plugin):
    fake_plugin("artflow-typo", "artflow_typo", """
        import artflow as af

        @af.hookimpl
        def register_node(register):
            pass
    """)
    with pytest.warns(PluginWarning, match="artflow-typo"):
        get_plugins()


def test_load_plugins_env_allows_only_listed(fake_plugin, monkeypatch):
    fake_plugin("artflow-good", "artflow_good", GOOD)
    monkeypatch.setenv("ARTFLOW_LOAD_PLUGINS", "something-else")
    ps = get_plugins()
    assert "good.fill" not in ps.nodes and "image.load" in ps.nodes
    from artflow.plugins import reset_plugins

    monkeypatch.setenv("ARTFLOW_LOAD_PLUGINS", "artflow-good")
    reset_plugins()
    assert "good.fill" in get_plugins().nodes


def test_no_plugins_flag_keeps_only_builtins(fake_plugin, artflow_cli):
    site = fake_plugin("artflow-good", "artflow_good", GOOD)
    env = {"PYTHONPATH": str(site)}
    assert "good.fill" in artflow_cli("nodes", env=env).stdout
    proc = artflow_cli("--no-plugins", "nodes", env=env)
    assert proc.returncode == 0 and "good.fill" not in proc.stdout and "image.load" in proc.stdout


def test_graph_using_a_broken_plugin_still_runs_other_graphs(fake_plugin, artflow_cli, tmp_path):
    site = fake_plugin("artflow-broken", "artflow_broken", "import does_not_exist\n")
    graph = tmp_path / "g.json"
    graph.write_text('{"artflow": 1, "seed": 1, "nodes": {"n": {"type": "generate.solid", '
                     '"params": {"width": 8, "height": 8}}}}')
    proc = artflow_cli("run", str(graph), "--json", env={"PYTHONPATH": str(site)})
    assert proc.returncode == 0, proc.stderr
    assert "artflow-broken" in proc.stderr


@pytest.mark.slow
def test_example_plugin_installs_and_uninstalls_with_the_cli(artflow_cli, tmp_path):
    src = tmp_path / "artflow-example-plugin"
    shutil.copytree(ROOT / "examples" / "artflow-example-plugin", src)
    proc = artflow_cli("install", str(src))
    try:
        assert proc.returncode == 0, proc.stderr
        assert "installed plugin artflow-example-plugin: example.halftone, example.vignette" in proc.stdout
        listed = artflow_cli("nodes")
        assert "example.halftone" in listed.stdout
        assert "example.halftone" in artflow_cli("plugins").stdout
        info = artflow_cli("example-info")
        assert info.returncode == 0 and "example.halftone" in info.stdout
        graph = tmp_path / "g.json"
        graph.write_text('{"artflow": 1, "nodes": {"g": {"type": "generate.gradient", "params": '
                         '{"width": 32, "height": 32}}, "h": {"type": "example.halftone", '
                         '"inputs": {"image": "g"}, "params": {"cell": 4}}}}')
        ran = artflow_cli("run", str(graph), "--json")
        assert ran.returncode == 0, ran.stderr
    finally:
        removed = artflow_cli("uninstall", "artflow-example-plugin")
    assert removed.returncode == 0, removed.stderr
    assert "example.halftone" not in artflow_cli("nodes").stdout


def test_uninstall_of_a_non_plugin_is_refused(artflow_cli):
    proc = artflow_cli("uninstall", "numpy")
    assert proc.returncode == 2
    assert proc.stderr.strip() == ("error: 'numpy' is not an installed artflow plugin; "
                                   "`artflow plugins` lists them")


def test_plugin_hooks_have_tests():
    """Every hook in the plugin contract has a test named test_hook_<hook>..."""
    source = "\n".join(p.read_text() for p in (ROOT / "tests").rglob("test_*.py"))
    for hook in _hooks():
        assert re.search(rf"def test_hook_{hook}", source), f"hook {hook} has no test_hook_{hook}_* test"


def test_plugin_hooks_are_documented():
    """Every hook has its own section in docs/plugins.md."""
    doc = (ROOT / "docs" / "plugins.md").read_text()
    for hook in _hooks():
        assert re.search(rf"^### `?{hook}", doc, re.M), f"hook {hook} is not documented in docs/plugins.md"


def _hooks() -> list[str]:
    return [name for name in dir(hookspecs) if name.startswith("register_")]


def test_artflow_import_stays_light():
    code = ("import sys, artflow, artflow.graph, artflow.engine; heavy = [m for m in "
            "('tensorflow', 'keras', 'tf2onnx', 'ray', 'onnxruntime', 'onnx') if m in sys.modules]; "
            "print(','.join(heavy))")
    import subprocess

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
