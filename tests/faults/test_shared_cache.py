"""Two `artflow run` processes sharing one cache folder at the same moment: both succeed, their
pictures are byte-identical, and a third run served from that cache gives the same bytes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

GRAPH = {"artflow": 1, "seed": 21, "nodes": {
    "noise": {"type": "generate.noise", "params": {"width": 160, "height": 120, "count": 3, "color": "rgb"}},
    "glass": {"type": "generate.voronoi", "params": {"width": 160, "height": 120, "count": 3, "cells": 40}},
    "mix": {"type": "composite.blend", "inputs": {"base": "glass", "top": "noise"},
            "params": {"mode": "overlay", "opacity": 0.6}},
    "soft": {"type": "filter.blur", "inputs": {"image": "mix"}, "params": {"radius": 1.5}},
    "save": {"type": "image.save", "inputs": {"image": "soft"}, "params": {"path": "art-{index}.png"}},
}}


def _start(graph: Path, out: Path, cache: Path) -> subprocess.Popen[str]:
    exe = Path(sys.executable).parent / "artflow"
    env = dict(os.environ, ARTFLOW_CACHE=str(cache))
    return subprocess.Popen([str(exe), "run", str(graph), "-o", str(out), "--json"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _pictures(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.glob("*.png"))}


def test_two_processes_share_one_cache(tmp_path: Path) -> None:
    graph = tmp_path / "g.json"
    graph.write_text(json.dumps(GRAPH))
    for round_ in range(2):
        cache = tmp_path / f"cache{round_}"
        procs = [_start(graph, tmp_path / f"r{round_}-{i}", cache) for i in range(2)]
        for proc in procs:
            _, err = proc.communicate(timeout=240)
            assert proc.returncode == 0, err
        first, second = (_pictures(tmp_path / f"r{round_}-{i}") for i in range(2))
        assert len(first) == 3 and first == second
        again = _start(graph, tmp_path / f"r{round_}-again", cache)
        out, err = again.communicate(timeout=240)
        assert again.returncode == 0, err
        statuses = {n: v["status"] for n, v in json.loads(out)["nodes"].items()}
        assert statuses["soft"] == "cached", statuses
        assert _pictures(tmp_path / f"r{round_}-again") == first
        names = [p.name for p in cache.rglob("*") if p.is_file()]
        assert not [n for n in names if n.startswith(".tmp") or ".part" in n]
