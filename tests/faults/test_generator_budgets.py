"""Generators declare what they need, found by tests/fuzz: generate.shapes with 1024 images of
500 shapes ran for a minute and past a 512 MB budget (its estimate counted one image and no
masks); generate.voronoi with 1024 images of 5000 cells relaxed 10 times ran 30 s (no work)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

import artflow as af
from artflow.budget import nbytes

from ..fuzz.harness import _status_mb, reset_peak
from .inproc import run_cli


def test_a_huge_shapes_request_is_refused_before_it_runs(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARTFLOW_MAX_WORK", "20000000")
    graph = tmp_path / "g.json"
    graph.write_text(json.dumps({"artflow": 1, "nodes": {"s": {"type": "generate.shapes", "params": {
        "count": 1024, "width": 8192, "height": 2, "max_shapes": 500, "overlap": False}}}}))
    start = time.perf_counter()
    res = run_cli("run", str(graph), "-o", str(tmp_path / "out"), "--no-cache")
    assert res.code == 2 and len(res.error_lines) == 1, res.err
    assert "'s' (generate.shapes)" in res.error_lines[0] and "ARTFLOW_MAX_WORK" in res.error_lines[0]
    assert time.perf_counter() - start < 20  # refused from the plan, not after drawing


def test_the_shapes_estimate_covers_what_a_run_uses() -> None:
    from artflow_core.nodes_generate import _shapes_estimate

    params = {"count": 48, "width": 256, "height": 192, "max_shapes": 40, "min_shapes": 40,
              "max_size": 0.6, "min_size": 0.3, "overlap": True, "background": "solid", "shapes": None}
    est = _shapes_estimate(params)
    claimed = sum(nbytes(s) for s in est.outputs.values() if s and len(s) == 4) + est.working_bytes
    warm = af.Graph(seed=2)  # imports, plugin loading and first-use buffers are not the run's
    warm.add("generate.shapes", "s", count=1, width=16, height=16)
    warm.run(use_cache=False)
    g = af.Graph(seed=2)
    g.add("generate.shapes", "s", **{k: v for k, v in params.items() if k != "shapes"})
    resident = reset_peak()
    if resident is None:
        pytest.skip("needs /proc/self/clear_refs to measure one run's peak")
    result = g.run(use_cache=False)
    used = (_status_mb("VmHWM") - resident) * 2**20
    assert result.outputs("s")["image"].shape == (48, 192, 256, 3)
    print(f"used {used / 2**20:.1f} MB, estimated {claimed / 2**20:.1f} MB")
    assert used <= claimed, (used / 2**20, claimed / 2**20)
    assert est.outputs["mask"] == (48, 192, 256, 1)


def test_a_huge_voronoi_request_is_refused_before_it_runs(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARTFLOW_MAX_WORK", "20000000")
    graph = tmp_path / "g.json"
    graph.write_text(json.dumps({"artflow": 1, "nodes": {"v": {"type": "generate.voronoi", "params": {
        "count": 1024, "height": 9, "cells": 5000, "relax": 10}}}}))
    start = time.perf_counter()
    res = run_cli("run", str(graph), "-o", str(tmp_path / "out"), "--no-cache")
    assert res.code == 2 and "'v' (generate.voronoi)" in res.err and "ARTFLOW_MAX_WORK" in res.err, res.err
    assert time.perf_counter() - start < 10
    small = tmp_path / "small.json"  # the default 48 cells on a 256 x 256 picture stays far inside
    small.write_text(json.dumps({"artflow": 1, "nodes": {"v": {"type": "generate.voronoi"}}}))
    assert run_cli("run", str(small), "-o", str(tmp_path / "out"), "--no-cache").code == 0
