"""Engine behaviour: content-keyed cache, re-running only what changed, concurrency, failures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from artflow.cache import Cache
from artflow.engine import Engine
from artflow.errors import NodeError
from artflow.graph import Graph

from .conftest import CALLS


def chain(n: int = 4) -> tuple[Graph, list]:
    g = Graph(seed=1)
    refs = [g.add("test.const", "c", value=0.1)]
    for i in range(n - 1):
        refs.append(g.add("test.add", f"a{i}", image=refs[-1], amount=0.05))
    return g, refs


def test_second_run_is_all_cached(engine):
    g, refs = chain()
    first = engine.run(g)
    assert set(first.status.values()) == {"ran"}
    second = engine.run(g)
    assert second.ran == []
    np.testing.assert_array_equal(first[refs[-1]], second[refs[-1]])


def test_changed_param_reruns_only_downstream(engine):
    g, refs = chain(5)
    engine.run(g)
    refs[2].set(amount=0.2)
    again = engine.run(g)
    assert again.ran == ["a1", "a2", "a3"]
    assert again.status["c"] == "cached" and again.status["a0"] == "cached"


def test_changed_param_of_last_node_reruns_exactly_that_node(engine):
    g, refs = chain(5)
    engine.run(g)
    refs[-1].set(amount=0.3)
    assert engine.run(g).ran == [refs[-1].id]


def test_disk_cache_serves_a_fresh_engine(engine, plugins, tmp_path):
    g, refs = chain()
    engine.run(g)
    fresh = Engine(Cache(tmp_path / "cache"), plugins=plugins)
    result = fresh.run(g)
    assert result.ran == []
    assert result[refs[-1]].shape == (1, 8, 8, 3)


def test_equivalent_param_spellings_share_a_key(engine):
    g = Graph()
    g.add("test.mode", "m", tint="#f80")
    engine.run(g)
    g.set("m", tint=[255, 136, 0])
    assert engine.run(g).ran == []


def test_no_cache_runs_everything(engine):
    g, _ = chain()
    engine.run(g)
    assert len(engine.run(g, use_cache=False).ran) == 4


def test_stochastic_node_is_reproducible_per_seed_and_item(engine):
    g = Graph(seed=5)
    g.add("test.noise", "n", count=3)
    a = engine.run(g, use_cache=False)["n"]
    b = engine.run(g, use_cache=False)["n"]
    np.testing.assert_array_equal(a, b)
    g.set("n", count=1)
    single = engine.run(g, use_cache=False)["n"]
    np.testing.assert_array_equal(single[0], a[0])
    g.seed = 6
    assert not np.array_equal(engine.run(g)["n"], a[:1])


def test_independent_branches_run_concurrently(engine):
    g = Graph()
    g.add("test.sleep", "s1", seconds=0.5)
    g.add("test.sleep", "s2", seconds=0.5)
    start = time.perf_counter()
    engine.run(g, use_cache=False)
    # sleeping branches overlap; run serially they would take 1 s
    assert time.perf_counter() - start < 0.9


def test_failing_node_is_reported_with_id_type_and_cause(engine):
    g = Graph()
    c = g.add("test.const", "c")
    g.add("test.fail", "boom", image=c)
    g.add("test.add", "after", image=g.node("boom"))
    g.add("test.add", "other", image=c)
    with pytest.raises(NodeError) as exc:
        engine.run(g)
    assert str(exc.value) == "node 'boom' (test.fail) failed: ValueError: this node always fails"
    result = exc.value.result
    assert result.status["boom"] == "failed"
    assert result.status["after"] == "skipped"
    assert result.status["other"] == "ran"


def test_outputs_are_read_only_so_nodes_cannot_corrupt_the_cache(engine):
    g, refs = chain(2)
    out = engine.run(g)[refs[-1]]
    with pytest.raises(ValueError):
        out[0, 0, 0, 0] = 1.0


def test_run_json_shape(engine):
    g = Graph()
    c = g.add("test.const", "c", value=0.9)
    g.add("test.labels", "lab", image=c)
    data = engine.run(g).to_json()
    assert data["nodes"]["c"]["status"] == "ran"
    assert isinstance(data["nodes"]["c"]["seconds"], float)
    assert data["outputs"]["c"]["image"] == {"shape": [1, 8, 8, 3]}
    assert data["outputs"]["lab"]["labels"][0][0]["label"] == "bright"
    json.dumps(data)


def test_upstream_of_a_cached_node_is_not_recomputed(engine):
    g, refs = chain(3)
    engine.run(g)
    CALLS.clear()
    refs[-1].set(amount=0.4)
    engine.run(g)
    assert CALLS == {"test.add": 1}


def test_two_processes_share_the_disk_cache_safely(tmp_path):
    script = textwrap.dedent("""
        import sys, numpy as np
        sys.path.insert(0, %r)
        from tests.core.conftest import make_plugins
        from artflow.cache import Cache
        from artflow.engine import Engine
        from artflow.graph import Graph
        engine = Engine(Cache(%r), plugins=make_plugins())
        for i in range(30):
            g = Graph(seed=i %% 5)
            g.add("test.const", "c", value=(i %% 5) / 10, size=64)
            out = engine.run(g)["c"]
            assert out.shape == (1, 64, 64, 3) and abs(out.mean() - (i %% 5) / 10) < 1e-6
        print("ok")
    """) % (os.getcwd(), str(tmp_path / "shared"))
    procs = [subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(2)]
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        assert out.strip() == "ok"


def test_disk_cache_stays_under_its_bound(tmp_path, plugins):
    engine = Engine(Cache(tmp_path / "c", max_disk_mb=2, max_memory_mb=1), plugins=plugins)
    for i in range(40):
        g = Graph()
        g.add("test.const", "c", value=i / 40, size=128)  # 196 KB each
        engine.run(g)
    assert engine.cache.disk is not None
    assert engine.cache.disk.size_bytes() <= 2 * 1024 * 1024


def test_corrupt_cache_entry_is_a_miss_not_a_crash(engine, plugins, tmp_path):
    g, refs = chain(2)
    engine.run(g)
    for path in (tmp_path / "cache").rglob("*.npz"):
        path.write_bytes(b"garbage")
    fresh = Engine(Cache(tmp_path / "cache"), plugins=plugins)
    assert len(fresh.run(g).ran) == 2
