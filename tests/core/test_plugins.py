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


def test_a_trainer_registered_by_reference_is_imported_only_when_used(fake_plugin):
    site = fake_plugin("artflow-lazytrain", "artflow_lazytrain", """
        import artflow as af

        @af.hookimpl
        def register_trainers(register):
            register("lazy", "artflow_lazytrain_cmd:command")
            register("broken", "not a reference")
    """)
    ps, messages = _load_recording_warnings()
    assert "lazy" in ps.trainers.kinds() and "broken" not in ps.trainers.kinds()
    assert any("trainer 'broken' was refused: register it as register(kind, "
               "'your_plugin.train:command')" in m for m in messages)
    (site / "artflow_lazytrain_cmd.py").write_text("command = 'the trainer'\n")  # not imported before
    try:
        assert ps.trainers.get("lazy") == "the trainer"
    finally:
        sys.modules.pop("artflow_lazytrain_cmd", None)


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
        assert proc.stdout.startswith("installed plugin artflow-example-plugin 0.2.0 (a copy: edits to ")
        assert ": nodes example.halftone, example.vignette" in proc.stdout
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
    assert _untested(hookspecs.hook_names()) == []


def test_plugin_hooks_are_documented():
    """Every hook has its own section in docs/plugins.md."""
    assert _undocumented(hookspecs.hook_names()) == []


def test_hook_checks_cover_every_hookspec_whatever_its_name(monkeypatch):
    """A new hook, named like no other, is caught by both checks until it has a test and docs."""
    def on_frame_rendered(frame):
        """A hook named unlike the register_* ones."""

    monkeypatch.setattr(hookspecs, "on_frame_rendered", hookspecs.hookspec(on_frame_rendered),
                        raising=False)
    hooks = hookspecs.hook_names()
    assert {"register_nodes", "register_models", "register_trainers", "register_commands",
            "on_frame_rendered"} <= set(hooks)
    assert _untested(hooks) == ["on_frame_rendered"]
    assert _undocumented(hooks) == ["on_frame_rendered"]


def _untested(hooks: list[str]) -> list[str]:
    source = "\n".join(p.read_text() for p in (ROOT / "tests").rglob("test_*.py"))
    return [hook for hook in hooks if not re.search(rf"def test_hook_{hook}_?", source)]


def _undocumented(hooks: list[str]) -> list[str]:
    doc = (ROOT / "docs" / "plugins.md").read_text()
    return [hook for hook in hooks if not re.search(rf"^### `?{hook}\b", doc, re.M)]


# --- precedence: built-ins own their names; later contributions are refused one by one ---

def _plugin_warnings(caught: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in caught if issubclass(w.category, PluginWarning)]


def _load_recording_warnings():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ps = get_plugins()
        ps.nodes, ps.models, ps.trainers  # noqa: B018 - run the registration hooks now
    return ps, _plugin_warnings(caught)


def test_plugin_registering_a_core_node_type_is_refused_and_core_keeps_it(fake_plugin, artflow_cli):
    """`af-collide` sorts before `artflow`: it must still not replace image.load nor skip core."""
    site = fake_plugin("af-collide", "af_collide", """
        import numpy as np
        import artflow as af

        @af.node("image.load", category="io", outputs={"image": af.IMAGE},
                 params={"path": af.File(doc="ignored")})
        def impostor(ctx, path):
            "Not the real image.load."
            return np.zeros((1, 2, 2, 3), np.float32)

        @af.node("collide.extra", category="test", outputs={"image": af.IMAGE})
        def extra(ctx):
            "A node of its own."
            return np.zeros((1, 2, 2, 3), np.float32)

        @af.hookimpl
        def register_nodes(register):
            register(impostor)
            register(extra)
    """)
    ps, messages = _load_recording_warnings()
    assert ps.nodes.get("image.load").plugin == "core"
    assert ps.nodes.get("image.load").fn.__module__ != "af_collide"
    assert "image.resize" in ps.nodes and ps.plugins["core"].error is None
    assert ps.nodes.get("collide.extra").plugin == "af-collide"
    info = ps.plugins["af-collide"]
    assert info.nodes == ["collide.extra"] and info.error is None
    assert messages == [
        "plugin 'af-collide': node type 'image.load' was refused: the name belongs to the built-in "
        "plugin 'core'; rename it, or allow the replacement with "
        "ARTFLOW_PLUGIN_OVERRIDES='af-collide:image.load'"
    ]
    proc = artflow_cli("nodes", env={"PYTHONPATH": str(site)})
    assert proc.returncode == 0 and "image.resize" in proc.stdout and "collide.extra" in proc.stdout
    assert proc.stderr == f"warning: {messages[0]}\n"


def test_plugin_registering_a_builtin_model_or_trainer_is_refused(fake_plugin, tmp_path):
    model = tmp_path / "glass.onnx"
    model.write_bytes(b"not the real glass")
    sha = hashlib.sha256(model.read_bytes()).hexdigest()
    fake_plugin("af-collide", "af_collide", f"""
        import artflow as af

        @af.hookimpl
        def register_models(register):
            register(name="glass", kind="style", path={str(model)!r}, sha256={sha!r})
            register(name="collide", kind="style", path={str(model)!r}, sha256={sha!r})

        def fake_train(**options):
            return "fake"

        @af.hookimpl
        def register_trainers(register):
            register("style", fake_train)
            register("collide", fake_train)
    """)
    ps, messages = _load_recording_warnings()
    glass = ps.models.get("glass", "style")
    assert glass is not None and glass.plugin == "style" and glass.path != model
    assert ps.models.get("collide", "style").plugin == "af-collide"
    assert ps.trainers.get("style").__module__ != "af_collide"
    assert ps.trainers.get("collide")() == "fake"
    assert all(p.error is None for p in ps.plugins.values())
    assert ps.plugins["af-collide"].models == ["style:collide"]
    assert len(messages) == 2
    assert messages[0].startswith("plugin 'af-collide': model 'style:glass' was refused: the name "
                                  "belongs to the built-in plugin 'style'")
    assert messages[1].startswith("plugin 'af-collide': trainer 'style' was refused: the name "
                                  "belongs to the built-in plugin 'style'")


def test_override_setting_lets_a_named_distribution_replace_only_the_named(fake_plugin, monkeypatch,
                                                                          tmp_path):
    model = tmp_path / "glass.onnx"
    model.write_bytes(b"a replacement glass")
    sha = hashlib.sha256(model.read_bytes()).hexdigest()
    monkeypatch.setenv("ARTFLOW_PLUGIN_OVERRIDES", "zz-override:image.load,style:glass")
    fake_plugin("zz-override", "zz_override", f"""
        import numpy as np
        import artflow as af

        def make(name):
            @af.node(name, category="io", outputs={{"image": af.IMAGE}})
            def replacement(ctx):
                "A deliberate replacement."
                return np.zeros((1, 2, 2, 3), np.float32)
            return replacement

        @af.hookimpl
        def register_nodes(register):
            register(make("image.load"))
            register(make("image.save"))

        @af.hookimpl
        def register_models(register):
            register(name="glass", kind="style", path={str(model)!r}, sha256={sha!r})
    """)
    ps, messages = _load_recording_warnings()
    assert ps.nodes.get("image.load").plugin == "zz-override"
    assert ps.nodes.get("image.save").plugin == "core"
    assert ps.models.get("glass", "style").path == model
    assert ps.plugins["zz-override"].error is None
    assert messages[0] == ("plugin 'zz-override' replaces node type 'image.load' of the built-in "
                           "plugin 'core' (allowed by ARTFLOW_PLUGIN_OVERRIDES)")
    assert messages[1].startswith("plugin 'zz-override': node type 'image.save' was refused")
    assert messages[2] == ("plugin 'zz-override' replaces model 'style:glass' of the built-in plugin "
                           "'style' (allowed by ARTFLOW_PLUGIN_OVERRIDES)")
    assert len(messages) == 3


SLOPPY = """
    import numpy as np
    import artflow as af

    def out():
        return np.zeros((1, 2, 2, 3), np.float32)

    @af.node("sloppy.good", category="test", outputs={"image": af.IMAGE},
             params={"level": af.Float(0.5, min=0, max=1, doc="grey level")})
    def good(ctx, level):
        "Declared completely."
        return out()

    @af.node("sloppy.undocumented", category="test", outputs={"image": af.IMAGE},
             params={"level": af.Float(0.5, min=0, max=1)})
    def undocumented(ctx, level):
        "A param without a doc."
        return out()

    @af.node("sloppy.out_of_range", category="test", outputs={"image": af.IMAGE},
             params={"level": af.Float(2.0, min=0, max=1, doc="grey level")})
    def out_of_range(ctx, level):
        "A default outside its own range."
        return out()

    @af.node("sloppy.bad_choice", category="test", outputs={"image": af.IMAGE},
             params={"mode": af.Choice(["a", "b"], "c", doc="a or b")})
    def bad_choice(ctx, mode):
        "A default that is not one of the choices."
        return out()

    @af.node("Sloppy Name", category="test", outputs={"image": af.IMAGE})
    def bad_name(ctx):
        "A name that is not dotted."
        return out()

    @af.node("sloppy.untyped", category="test", outputs={"image": af.Out("IMAGE", "a string")})
    def untyped(ctx):
        "An output without a socket type."
        return out()

    @af.hookimpl
    def register_nodes(register):
        for spec in (undocumented, out_of_range, good, bad_choice, bad_name, untyped):
            register(spec)
"""


def test_third_party_node_with_a_bad_declaration_is_refused_and_its_siblings_load(fake_plugin):
    fake_plugin("artflow-sloppy", "artflow_sloppy", SLOPPY)
    ps, messages = _load_recording_warnings()
    assert ps.plugins["artflow-sloppy"].nodes == ["sloppy.good"]
    assert ps.plugins["artflow-sloppy"].error is None
    assert "sloppy.good" in ps.nodes and "image.load" in ps.nodes
    for name in ("sloppy.undocumented", "sloppy.out_of_range", "sloppy.bad_choice", "sloppy.untyped"):
        assert name not in ps.nodes
    assert messages == [
        "plugin 'artflow-sloppy': node type 'sloppy.undocumented' was refused: param 'level' has no doc",
        "plugin 'artflow-sloppy': node type 'sloppy.out_of_range' was refused: param 'level' default "
        "2.0 is not allowed: it must be a number in [0, 1]",
        "plugin 'artflow-sloppy': node type 'sloppy.bad_choice' was refused: param 'mode' default 'c' "
        "is not allowed: it must be one of 'a', 'b'",
        "plugin 'artflow-sloppy': node type 'Sloppy Name' was refused: name 'Sloppy Name' is not "
        "dotted lower-case words like 'pack.node'",
        "plugin 'artflow-sloppy': node type 'sloppy.untyped' was refused: output 'image' has no "
        "socket type (got 'IMAGE'); use af.IMAGE, af.TEXT, ...",
    ]


def test_every_registered_node_passes_the_registration_checks():
    """Whoever wrote them, the loaded nodes all passed check_node (the built-ins included)."""
    from artflow.registry import check_node

    ps, messages = _load_recording_warnings()
    assert messages == []
    assert len(ps.nodes) >= 40
    for spec in ps.nodes:
        assert check_node(spec) == [], spec.name


def test_artflow_import_stays_light():
    code = ("import sys, artflow, artflow.graph, artflow.engine, artflow.settings, artflow.paths, "
            "artflow.plugins; heavy = [m for m in "
            "('tensorflow', 'keras', 'tf2onnx', 'ray', 'onnxruntime', 'onnx') if m in sys.modules]; "
            "print(','.join(heavy))")
    import subprocess

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
