"""The cache never serves a wrong or stale result: entries carry their key, and a node's key
includes a fingerprint of its code (so an edit re-runs it, and only it)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np

from artflow.cache import Cache
from artflow.engine import Engine
from artflow.fingerprint import code_fingerprint
from artflow.graph import Graph


def test_an_entry_moved_under_another_key_is_a_miss_and_is_removed(engine, plugins, tmp_path):
    dark, bright = Graph(), Graph()
    dark.add("test.const", "c", value=0.1)
    bright.add("test.const", "c", value=0.9)
    engine.run(dark)
    engine.run(bright)
    root = tmp_path / "cache"
    key_dark = engine.keys(dark)["c"]
    key_bright = engine.keys(bright)["c"]
    path = {k: next(root.rglob(f"{k}.npz")) for k in (key_dark, key_bright)}
    path[key_bright].write_bytes(path[key_dark].read_bytes())  # a valid entry, wrong key
    fresh = Engine(Cache(root), plugins=plugins)
    result = fresh.run(bright)
    assert result.ran == ["c"]
    np.testing.assert_allclose(result["c"], 0.9)


def test_fingerprint_follows_same_module_helpers_and_constants_not_neighbours():
    namespace: dict = {}
    source = textwrap.dedent('''
        SCALE = 2
        def helper(x):
            return x * SCALE
        def node_a(ctx, x):
            return helper(x)
        def node_b(ctx, x):
            return x + 1
    ''')
    exec(compile(source, "sketch_a", "exec"), namespace)  # noqa: S102 - test code, not user data
    a1, b1 = code_fingerprint(namespace["node_a"]), code_fingerprint(namespace["node_b"])
    edited: dict = {}
    exec(compile("\n\n\n" + source.replace("SCALE = 2", "SCALE = 3"), "sketch_a", "exec"), edited)  # noqa: S102
    assert code_fingerprint(edited["node_a"]) != a1  # a constant it reads changed
    assert code_fingerprint(edited["node_b"]) == b1  # moved down three lines, untouched
    helper_edit: dict = {}
    exec(compile(source.replace("x * SCALE", "x * SCALE + 0"), "sketch_a", "exec"), helper_edit)  # noqa: S102
    assert code_fingerprint(helper_edit["node_a"]) != a1
    assert code_fingerprint(helper_edit["node_b"]) == b1


PLUGIN = '''
import numpy as np
import artflow as af

@af.node("edit.first", category="test", outputs={"image": af.IMAGE})
def first(ctx):
    """A constant image."""
    return np.full((1, 4, 4, 3), VALUE, np.float32)

@af.node("edit.second", category="test", inputs={"image": af.IMAGE}, outputs={"image": af.IMAGE})
def second(ctx, image):
    """Halve it."""
    return image * 0.5

VALUE = 0.25
'''

RUN = '''
import json, sys
sys.path.insert(0, sys.argv[1])
import edit_nodes
from artflow.cache import Cache
from artflow.engine import Engine
from artflow.graph import Graph
from artflow.plugins import PluginSet
from artflow.models import ModelRegistry
from artflow.registry import NodeRegistry, TrainerRegistry
import pluggy
nodes = NodeRegistry()
nodes.add(edit_nodes.first, "edit")
nodes.add(edit_nodes.second, "edit")
plugins = PluginSet(pluggy.PluginManager("artflow"), nodes, ModelRegistry(), TrainerRegistry(), {})
g = Graph()
a = g.add("edit.first", "a")
g.add("edit.second", "b", image=a)
result = Engine(Cache(sys.argv[2]), plugins=plugins).run(g)
print(json.dumps({"ran": result.ran, "value": float(result["b"].mean())}))
'''


def _run(code_dir: Path, cache: Path) -> dict:
    import json
    import os

    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    proc = subprocess.run([sys.executable, "-c", RUN, str(code_dir), str(cache)], capture_output=True,
                          text=True, check=True, env=env)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_an_edited_node_reruns_in_a_new_process_and_its_neighbour_stays_cached(tmp_path):
    code, cache = tmp_path / "code", tmp_path / "cache"
    code.mkdir()
    module = code / "edit_nodes.py"
    module.write_text(PLUGIN)
    assert _run(code, cache) == {"ran": ["a", "b"], "value": 0.125}
    assert _run(code, cache)["ran"] == []
    module.write_text(PLUGIN.replace("return image * 0.5", "return image * 0.25"))  # no version bump
    assert _run(code, cache) == {"ran": ["b"], "value": 0.0625}
    module.write_text(PLUGIN.replace("return image * 0.5", "return image * 0.25").replace("VALUE = 0.25",
                                                                                          "VALUE = 0.5"))
    assert _run(code, cache) == {"ran": ["a", "b"], "value": 0.125}
