"""Motion benchmark: 96 frames at 512² of a 6-node graph whose last node alone is animated.

The graph: generate.noise -> filter.blur -> color.adjust -> filter.vignette -> filter.glow (five
static nodes) -> image.kaleidoscope with its ``phase`` keyframed 0 -> 1 (the animated node).
Frames go to a consumer that drops them (``on_frame``), so the figures are the engine's; the
MP4 figure adds an ``image.save_animation`` sink that streams them into H.264.

Figures (one process, cache off, both sides of each ratio measured in this run):

- ``runs``: how often each node ran (the lineage): the five upstream nodes once, the last 96x;
- ``over_ideal``: the run's wall time over (one upstream run + 96 x the animated node's own
  time), both from the run's own lineage (the seconds the engine measured around each node),
  so the ratio is the timeline's overhead measured side by side; ``over_ideal_direct`` divides
  by the same sum measured apart (a plain run of the five nodes, and the median of direct calls
  of the animated node on the same 512² input), which load on a shared machine shifts;
- ``workers_speedup``: frames/s with 2 frame workers over 1, the median of interleaved rounds
  (1, 2, 1, 2 workers); ``load`` is the machine's load average while it ran (with 2 cores
  shared with other jobs, a load well over 2 leaves no idle core to gain), and
  ``cpu_per_wall`` the cores the run kept busy (process CPU seconds per wall second);
- ``rss_ratio``: peak RSS of a fresh process running 960 frames over one running 96, each
  streaming into an MP4 (memory must stay flat in the frame count).

    python benchmarks/motion_bench.py --json [--frames 96] [--size 512] [--rss-frames 96 960]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

UPSTREAM = ["noise", "blur", "adjust", "vignette", "glow"]


def graph(size: int, frames: int) -> Any:
    import artflow as af

    g = af.Graph(seed=11)
    noise = g.add("generate.noise", "noise", width=size, height=size, color="magma", octaves=6)
    blur = g.add("filter.blur", "blur", image=noise, radius=2.0)
    adjust = g.add("color.adjust", "adjust", image=blur, saturation=1.3, contrast=1.1)
    vignette = g.add("filter.vignette", "vignette", image=adjust)
    glow = g.add("filter.glow", "glow", image=vignette)
    g.add("image.kaleidoscope", "kal", image=glow, segments=7,
          phase=af.keyframes({0: 0.0, frames: 1.0}, loop="repeat"))
    return g


def timed_run(size: int, frames: int, workers: int) -> dict[str, Any]:
    from artflow.cache import NullCache
    from artflow.engine import Engine
    from artflow.timeline import run_frames

    g = graph(size, frames)
    engine = Engine(NullCache())
    count = [0]
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    result = run_frames(engine, g, g.validate(), frames=frames, workers=workers, outputs=["kal"],
                        on_frame=lambda f, values: count.__setitem__(0, count[0] + 1))
    seconds = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    assert count[0] == frames
    own = {n: r.seconds for n, r in result.lineage.items()}
    return {"seconds": seconds, "runs": result.timeline.runs, "fps": frames / seconds,
            "cpu_per_wall": cpu / seconds,
            "upstream_own_s": sum(own[n] for n in UPSTREAM), "animated_own_s": own["kal"]}


def ideal_seconds(size: int, frames: int, repeats: int = 7) -> dict[str, float]:
    """One upstream run (the five static nodes, cold) and the animated node's own median time."""
    import numpy as np

    from artflow.cache import NullCache
    from artflow.engine import Engine
    from artflow.plugins import get_plugins

    g = graph(size, frames)
    g.remove("kal")
    engine = Engine(NullCache())
    ups = []
    for _ in range(3):
        t0 = time.perf_counter()
        result = engine.run(g, outputs=["glow"])
        ups.append(time.perf_counter() - t0)
    image = np.asarray(result["glow"])
    spec = get_plugins().nodes.get("image.kaleidoscope")
    from artflow.nodes import NodeContext

    ctx = NodeContext(node_id="kal", node_type=spec.name, seed=11, output_dir=Path.cwd())
    own = []
    for k in range(repeats):
        t0 = time.perf_counter()
        spec.fn(ctx, image=image, mode="radial", segments=7, angle=0.0, phase=k / repeats, zoom=1.0,
                center_x=0.5, center_y=0.5)
        own.append(time.perf_counter() - t0)
    return {"upstream_s": statistics.median(ups), "animated_s": statistics.median(own)}


RSS = r"""
import json, resource, sys
sys.path.insert(0, sys.argv[4])
from motion_bench import graph
from artflow.cache import NullCache
from artflow.engine import Engine
size, frames, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
g = graph(size, frames)
g.add("image.save_animation", "mp4", image=g.node("kal"), path="loop.mp4", fps=24)
result = Engine(NullCache()).run(g, frames=frames, fps=24, output_dir=out, frame_workers=1, progress=False)
print(json.dumps({"peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "seconds": result.timeline.seconds, "files": result.timeline.files}))
"""


def peak_rss(size: int, frames: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as out:
        proc = subprocess.run([sys.executable, "-c", RSS, str(size), str(frames), out,
                               str(Path(__file__).parent)], capture_output=True, text=True, check=True)
        report = json.loads(proc.stdout.strip().splitlines()[-1])
        from artflow.video import describe

        report["mp4_frames"] = describe(report["files"][0])["frames"]
        return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--frames", type=int, default=96)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--rss-frames", type=int, nargs=2, default=[96, 960])
    args = parser.parse_args()
    ideal = ideal_seconds(args.size, args.frames)
    rounds = [timed_run(args.size, args.frames, workers=w) for w in (1, 2, 1, 2)]
    one = rounds[0]
    speedups = [rounds[i + 1]["fps"] / rounds[i]["fps"] for i in (0, 2)]
    load = os.getloadavg()
    target = ideal["upstream_s"] + args.frames * ideal["animated_s"]
    own_target = one["upstream_own_s"] + one["animated_own_s"]
    small, large = (peak_rss(args.size, n) for n in args.rss_frames)
    report = {
        "machine": {"cpus": os.cpu_count(), "load": [round(v, 1) for v in load],
                    "note": "cores shared with other jobs: timings are noisy"},
        "frames": args.frames, "size": args.size,
        "runs": one["runs"],
        "upstream_ran_once": all(one["runs"][n] == 1 for n in UPSTREAM),
        "seconds_1_worker": round(one["seconds"], 3),
        "upstream_own_s": round(one["upstream_own_s"], 3), "animated_own_s": round(one["animated_own_s"], 3),
        "over_ideal": round(one["seconds"] / own_target, 3),
        "ideal_seconds_direct": round(target, 3), **{k: round(v, 4) for k, v in ideal.items()},
        "over_ideal_direct": round(one["seconds"] / target, 3),
        "fps_1_worker": [round(r["fps"], 2) for r in rounds[0::2]],
        "fps_2_workers": [round(r["fps"], 2) for r in rounds[1::2]],
        "workers_speedup": round(statistics.median(speedups), 3),
        "workers_speedup_rounds": [round(v, 3) for v in speedups],
        # cores this process kept busy per second (2 workers on 2 idle cores would approach 2.0)
        "cpu_per_wall_1_worker": [round(r["cpu_per_wall"], 2) for r in rounds[0::2]],
        "cpu_per_wall_2_workers": [round(r["cpu_per_wall"], 2) for r in rounds[1::2]],
        "rss": {str(n): {"peak_rss_mb": round(r["peak_rss_mb"], 1), "seconds": round(r["seconds"], 2),
                         "mp4_frames": r["mp4_frames"]} for n, r in zip(args.rss_frames, (small, large),
                                                                         strict=True)},
        "rss_ratio": round(large["peak_rss_mb"] / small["peak_rss_mb"], 3),
    }
    print(json.dumps(report, indent=None if args.json else 2))


if __name__ == "__main__":
    main()
