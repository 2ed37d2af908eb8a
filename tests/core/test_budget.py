"""Resource budgets: a plan over the memory budget or the work limit is refused before any pixel
is computed; itemwise nodes run in chunks instead; intermediates nobody asked for are dropped."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import artflow as af
from artflow.budget import MB, Budget, BudgetError, Estimate
from artflow.cache import Cache
from artflow.engine import Engine
from artflow.graph import Graph

CALLS: list[int] = []


def _chunky_estimate(params, inputs, input_dir):
    n = inputs["image"][0]
    return Estimate({"image": inputs["image"]}, working_bytes=n * 40 * MB)


@af.node("test.chunky", category="test", inputs={"image": af.IMAGE}, outputs={"image": af.IMAGE},
         itemwise=True, estimate=_chunky_estimate)
def chunky(ctx, image):
    """Needs 40 MB of scratch per item (so says its estimate)."""
    CALLS.append(len(image))
    return image * 0.5


@af.node("test.batch", category="test", outputs={"image": af.IMAGE},
         params={"count": af.Int(8, min=1, max=64, doc="items")},
         estimate=lambda params, inputs, input_dir: Estimate({"image": (params["count"], 4, 4, 3)}))
def batch(ctx, count):
    """Random 4×4 pixels per item."""
    return np.stack([ctx.rng(i).random((4, 4, 3), dtype=np.float32) for i in range(count)])


def test_over_budget_generator_and_filter_are_refused_before_running(tmp_path):
    code = (
        "import artflow as af, resource, json\n"
        "g = af.Graph()\n"
        "s = g.add('generate.solid', width=8192, height=8192, count=6)\n"
        "g.add('filter.blur', image=s, radius=3)\n"
        "g.save('big.json')\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=tmp_path, check=True)
    env = {"ARTFLOW_MAX_MEMORY_MB": "2000", "ARTFLOW_CACHE": str(tmp_path / "cache"), "PATH": ""}
    probe = ("import resource, subprocess, sys\n"
             "from artflow.cli import main\n"
             "sys.argv = ['artflow', 'run', 'big.json']\n"
             "try:\n    main()\nexcept SystemExit as e:\n    code = e.code\n"
             "print('RSS', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024, 'EXIT', code)\n")
    proc = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True,
                          env={**env, "PYTHONPATH": ":".join(sys.path)})
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "node 'solid1' (generate.solid)" in lines[0] and "memory budget of 2,000 MB" in lines[0]
    rss, exit_code = proc.stdout.split()[1], proc.stdout.split()[3]
    assert exit_code == "2" and int(rss) < 1000  # refused before allocating 6 × 8192² pixels


def test_work_over_the_limit_is_refused():
    engine = Engine(Cache(disk=False))
    g = Graph()
    g.add("generate.flow_field", "f", width=64, height=64, count=1024, lines=100000, steps=2000)
    with pytest.raises(BudgetError, match=r"node 'f' \(generate.flow_field\) would do about "
                                          r"204,800,000,000 units of work, over the limit"):
        engine.run(g)

    slow = Graph()
    big = slow.add("generate.gradient", width=4096, height=4096)
    slow.add("filter.median", "m", image=big, size=31)  # about 20 minutes of Pillow here
    with pytest.raises(BudgetError, match=r"node 'm' \(filter.median\) would do about"):
        engine.run(slow)


def test_an_itemwise_node_over_budget_runs_in_chunks_with_the_same_result(plugins, tmp_path):
    plugins.nodes.add(chunky, "tests")
    plugins.nodes.add(batch, "tests")
    g = Graph()
    n = g.add("test.batch", "n", count=8)
    g.add("test.chunky", "k", image=n)
    roomy = Engine(Cache(disk=False), plugins=plugins, budget=Budget(10_000 * MB))
    CALLS.clear()
    whole = roomy.run(g)["k"]
    assert CALLS == [8]
    tight = Engine(Cache(disk=False), plugins=plugins, budget=Budget(130 * MB))
    CALLS.clear()
    chunked = tight.run(g)["k"]
    assert CALLS == [3, 3, 2]
    np.testing.assert_array_equal(whole, chunked)


def test_intermediates_not_asked_for_are_dropped(engine):
    g = Graph()
    c = g.add("test.const", "c")
    a = g.add("test.add", "a", image=c)
    b = g.add("test.add", "b", image=a)
    result = engine.run(g, outputs=["b"])
    assert set(result.values) == {"b"}
    with pytest.raises(af.ArtflowError, match="was not computed by this run"):
        result[a]
    assert result[b].shape == (1, 8, 8, 3)


def test_image_headers_size_the_plan_before_decoding(tmp_path):
    Image.new("RGB", (6000, 6000), "white").save(tmp_path / "huge.png")
    g = Graph(source=tmp_path / "g.json")
    img = g.add("image.load", "photo", path="huge.png")
    g.add("filter.blur", "soft", image=img, radius=2)
    engine = Engine(Cache(disk=False), budget=Budget(200 * MB))
    with pytest.raises(BudgetError) as err:
        engine.run(g)
    assert "node 'photo' (image.load)" in str(err.value) and "\n" not in str(err.value)
    assert json.dumps(str(err.value))
