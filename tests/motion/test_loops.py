"""Seamless loops: each loopable generator's ``phase`` has period 1, so a loop of N frames closes
exactly (frame N, rendered as the loop's next frame, equals frame 0), and it really moves."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import artflow as af
from artflow.cache import NullCache
from artflow.engine import Engine

N = 12
LOOPABLE = {
    "noise fbm": ("generate.noise", {"color": "magma"}),
    "noise value rgb": ("generate.noise", {"kind": "value", "color": "rgb"}),
    "flow field": ("generate.flow_field", {"lines": 200, "steps": 30}),
    "voronoi drift": ("generate.voronoi", {"cells": 24}),
    "gradient linear": ("generate.gradient", {"kind": "linear"}),
    "gradient conic": ("generate.gradient", {"kind": "conic"}),
}


def _frames(node_type: str, params: dict, tmp_path: Path, source: str | None = None) -> list[np.ndarray]:
    """Frames 0..N of a run whose phase goes 0 -> 1 over N frames (no wrap: frame N has phase 1)."""
    seen: dict[int, np.ndarray] = {}
    g = af.Graph(seed=9)
    phase = af.keyframes({0: 0.0, N: 1.0})
    if source is None:
        node = g.add(node_type, width=64, height=64, phase=phase, **params)
    else:
        image = g.add(source, width=64, height=64, color="viridis")
        node = g.add(node_type, image=image, phase=phase, **params)
    from artflow.timeline import run_frames

    engine = Engine(NullCache())
    run_frames(engine, g, g.validate(), frames=N + 1, outputs=[node],
               on_frame=lambda f, values: seen.__setitem__(f, values[node.id]["image"][0].copy()))
    return [seen[f] for f in range(N + 1)]


@pytest.mark.parametrize("name", sorted(LOOPABLE))
def test_frame_n_of_a_loop_equals_frame_0(name: str, tmp_path: Path) -> None:
    node_type, params = LOOPABLE[name]
    frames = _frames(node_type, params, tmp_path)
    assert np.abs(frames[N] - frames[0]).max() <= 1 / 255
    steps = [float(np.abs(frames[k + 1] - frames[k]).mean()) for k in range(N)]
    assert min(steps) > 1e-3, steps  # every frame moves
    assert float(np.abs(frames[N // 2] - frames[0]).mean()) > 0.02  # and it goes somewhere


def test_kaleidoscope_rotation_loops_at_one_turn(tmp_path: Path) -> None:
    frames = _frames("image.kaleidoscope", {"segments": 6}, tmp_path, source="generate.noise")
    assert np.abs(frames[N] - frames[0]).max() <= 1 / 255
    assert float(np.abs(frames[N // 2] - frames[0]).mean()) > 0.02


def test_the_loops_gallery_closes_every_schedule_at_its_last_frame() -> None:
    from artflow.gallery import load_spec
    from artflow.schedule import Curve

    spec = load_spec(Path(__file__).resolve().parents[2] / "gallery" / "loops.toml")
    assert spec.size * len(spec.save) >= 6 and spec.graph.frames == 96  # at least six loops
    vg = spec.graph.validate()
    curves = [(n, p, v) for n, params in vg.params.items() for p, v in params.items() if isinstance(v, Curve)]
    assert len(curves) >= 6
    for node, param, curve in curves:
        assert curve.at(spec.graph.frames) == curve.at(0), (node, param)
        assert curve.at(spec.graph.frames // 4) != curve.at(0), (node, param)  # and it moves


def test_a_gallery_keys_its_items_when_a_model_node_sits_beside_schedules(tmp_path: Path) -> None:
    # loops.toml runs style.transfer (a model node: items get content keys) on a scheduled source
    from artflow.gallery import render

    spec = Path(__file__).resolve().parents[2] / "gallery" / "loops.toml"
    summary = render(spec, tmp_path / "out", workers=0, dry_run=True)
    assert (summary.total, summary.skipped) == (1, 0)
    assert not (tmp_path / "out").exists()
