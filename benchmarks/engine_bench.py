"""Engine benchmarks: CLI start-up, cold vs cached re-run in a new process, branch concurrency.

Each figure is a ratio (or a median) measured side by side in one run, because absolute times on
shared machines are noisy. `python benchmarks/run.py --json` includes these under "engine".
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import artflow as af
from artflow.cache import Cache
from artflow.engine import Engine

ARTFLOW = str(Path(sys.executable).parent / "artflow")


def help_seconds(repeats: int = 7) -> float:
    """Median wall time of `artflow --help` in a fresh process."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.run([ARTFLOW, "--help"], check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def ten_node_graph(size: int = 1536) -> af.Graph:
    """Ten CPU-heavy nodes in a chain with one side branch: a cold run takes seconds."""
    g = af.Graph(seed=3)
    noise = g.add("generate.noise", "noise", width=size, height=size, kind="fbm", octaves=8, color="rgb")
    blur = g.add("filter.blur", "blur", image=noise, radius=6)
    sharp = g.add("filter.sharpen", "sharp", image=blur)
    edges = g.add("filter.edges", "edges", image=sharp)
    med = g.add("filter.median", "median", image=edges, size=5)
    adj = g.add("color.adjust", "adjust", image=med, contrast=1.3, saturation=1.2)
    cmap = g.add("color.colormap", "cmap", image=adj, colormap="magma")
    dith = g.add("color.dither", "dither", image=cmap, levels=4)
    small = g.add("image.resize", "small", image=dith, width=512)
    g.add("image.save", "save", image=small, path="bench.png")
    return g


def _run_graph_json(graph_file: Path, out: Path, cache: Path, *extra: str) -> dict[str, Any]:
    env = dict(os.environ, ARTFLOW_CACHE=str(cache))
    t0 = time.perf_counter()
    proc = subprocess.run([ARTFLOW, "run", str(graph_file), "-o", str(out), "--json", *extra],
                          capture_output=True, text=True, env=env, check=True)
    data = json.loads(proc.stdout)
    data["wall_s"] = time.perf_counter() - t0
    return data


def cold_vs_cached() -> dict[str, Any]:
    """Cold run, then the same graph in a new process (cache on disk), then one param changed."""
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        graph_file = ten_node_graph().save(tmp_path / "g.json")
        cold = _run_graph_json(graph_file, tmp_path / "out", tmp_path / "cache")
        warm = _run_graph_json(graph_file, tmp_path / "out", tmp_path / "cache")
        tweak = _run_graph_json(graph_file, tmp_path / "out", tmp_path / "cache",
                                "--set", "save.path=bench2.png")
    ran = [n for n, v in tweak["nodes"].items() if v["status"] == "ran"]
    return {
        "cold_s": round(cold["wall_s"], 3),
        "rerun_new_process_s": round(warm["wall_s"], 3),
        "rerun_over_cold": round(warm["wall_s"] / cold["wall_s"], 4),
        "tweak_last_node_ran": ran,
    }


def branches() -> dict[str, Any]:
    """Two independent CPU-heavy branches: concurrent engine vs one worker (serial)."""
    g = af.Graph(seed=5)
    for name in ("a", "b"):
        src = g.add("generate.noise", f"noise_{name}", width=1536, height=1536, kind="fbm", octaves=8)
        g.add("filter.blur", f"blur_{name}", image=src, radius=12)

    def timed(workers: int) -> float:
        times = []
        for _ in range(3):
            engine = Engine(Cache(disk=False), workers=workers)
            t0 = time.perf_counter()
            engine.run(g, use_cache=False, progress=False)
            times.append(time.perf_counter() - t0)
        return statistics.median(times)

    serial = timed(1)
    parallel = timed(2)
    return {"serial_s": round(serial, 3), "parallel_s": round(parallel, 3),
            "parallel_over_serial": round(parallel / serial, 3)}


def run_engine_benchmarks() -> dict[str, Any]:
    return {"help_s_median": round(help_seconds(), 3), **cold_vs_cached(), "branches": branches()}


if __name__ == "__main__":
    print(json.dumps(run_engine_benchmarks(), indent=2))
