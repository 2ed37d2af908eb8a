"""How `artflow watch` sees a sketch's runs: through the engine's supported hook
(`artflow.engine.observe_runs`), never by replacing `Engine.run` on the class for the whole
process (issue 19's review, issue 22)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

import artflow as af
from artflow.engine import Engine, observe_runs
from artflow.errors import NodeError
from artflow.sketch import node


def _define_boom() -> None:
    """A sketch node that always fails, defined when a test needs it (other tests reset the
    sketch's node types, as a watch session does between runs)."""

    @node("watchtest.boom", category="sketch", inputs={"image": af.IMAGE}, outputs={"image": af.IMAGE})
    def boom(ctx, image):  # noqa: ANN001, ANN201
        """Fail, so the observer sees a failed run."""
        raise ValueError("boom")


def _graph(fail: bool = False) -> af.Graph:
    g = af.Graph(seed=1)
    art = g.add("generate.voronoi", "art", width=8, height=8, cells=2)
    if fail:
        _define_boom()
        g.add("watchtest.boom", "boom", image=art)
    return g


def test_observed_runs_take_the_defaults_and_report_their_results(tmp_path: Path) -> None:
    seen: list = []
    engine = Engine()
    with observe_runs(seen.append, output_dir=tmp_path / "default", progress=False):
        first = engine.run(_graph())
        second = engine.run(_graph(), output_dir=tmp_path / "given")  # a given option wins
        with pytest.raises(NodeError, match="boom") as failed:
            engine.run(_graph(fail=True))
    after = engine.run(_graph())  # outside the block: not observed, no defaults
    assert seen == [first, second, failed.value.result]
    assert first.output_dir == tmp_path / "default" and second.output_dir == tmp_path / "given"
    assert after.output_dir == Path.cwd()


def test_another_threads_runs_are_not_observed(tmp_path: Path) -> None:
    seen: list = []
    elsewhere: list = []
    with observe_runs(seen.append, output_dir=tmp_path):
        worker = threading.Thread(target=lambda: elsewhere.append(Engine().run(_graph())))
        worker.start()
        worker.join()
        mine = Engine().run(_graph())
    assert seen == [mine] and elsewhere[0] not in seen


SKETCH = """
from pathlib import Path
import artflow as af
from artflow.engine import Engine

g = af.Graph(seed=2)
g.add("generate.voronoi", "art", width=16, height=16, cells=3)
(Path(__file__).parent / "run_seen_by_sketch.txt").write_text(Engine.run.__qualname__)
g.run()
"""


def test_a_watched_sketch_finds_engine_run_untouched(tmp_path: Path) -> None:
    from artflow.watch import WatchSession

    (tmp_path / "sketch.py").write_text(SKETCH)
    before = Engine.__dict__["run"]
    session = WatchSession(tmp_path / "sketch.py", tmp_path / "out")
    try:
        state = session.run_once()
    finally:
        session.close()
    assert state["phase"] == "done" and [n["id"] for n in state["nodes"]] == ["art"]
    assert (tmp_path / "run_seen_by_sketch.txt").read_text() == "Engine.run"  # was a stand-in
    assert Engine.__dict__["run"] is before
