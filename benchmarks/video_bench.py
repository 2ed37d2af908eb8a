"""Video benchmark: a 512² clip through style.transfer to MP4 (frames per second, temporal
flicker), and peak memory of a clip run for 10 s vs 60 s of video (it must stay flat).

The clips are made here: a slow pan with a little zoom across a photo (scikit-image's
astronaut, enlarged), 24 fps, H.264. Each clip run happens in a fresh process that reports
its own peak RSS (ffmpeg's decoder and encoder are separate processes and not counted).
Flicker is the stylised clip's mean frame-to-frame difference over the source clip's: 1.0 means
the output changes exactly as much as the input does; per-frame style transfer adds some.

    python benchmarks/video_bench.py [--seconds 10 60] [--style glass] [--rss-graph filters|style]

``--per-frame`` measures instead whether a clip's time per frame is flat in its length: the same
copy graph (video.load -> image.save_animation .mp4, run_clip in 48-frame chunks) over a short
and a long H.264 clip and over a short and a long folder of PNG frames, each in a fresh process;
``long_over_short`` near 1.0 means flat (re-counting the clip per chunk made it grow).

    python benchmarks/video_bench.py --per-frame [--seconds 10 120] [--side 512] [--folder 240 2400]
        [--baseline CHECKOUT]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

FPS = 24
SIDE = 512


def make_clip(path: Path, seconds: float) -> Path:
    """A pan and slow zoom over a photo: smooth motion, real texture."""
    from artflow_core.nodes_io import write_mp4
    from PIL import Image
    from skimage import data

    photo = Image.fromarray(data.astronaut()).resize((1200, 1200), Image.BICUBIC)
    n = int(round(seconds * FPS))

    def frames() -> Any:
        for i in range(n):
            t = i / max(1, n - 1)
            side = int(SIDE * (1.25 - 0.25 * t))  # zoom in a little
            x, y = int(40 + 560 * t), int(60 + 300 * t)
            crop = photo.crop((x, y, x + side, y + side)).resize((SIDE, SIDE), Image.BILINEAR)
            yield np.asarray(crop, np.float32) / 255.0

    write_mp4(path, frames(), fps=FPS, quality=95)
    return path


RUN = r"""
import json, resource, sys, time
import artflow as af
from artflow.video import run_clip
clip, out, graph_kind, style, chunk = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
g = af.Graph(seed=1)
frames = g.add("video.load", "clip", path=clip)
if graph_kind == "style":
    look = g.add("style.transfer", "styled", image=frames, style=style)
else:
    flipped = g.add("image.flip", "flipped", image=frames)
    look = g.add("color.adjust", "look", image=flipped, saturation=1.4, contrast=1.1)
g.add("image.save_animation", "save", image=look, path="out.mp4", fps=24)
t = time.perf_counter()
run = run_clip(g, output_dir=out, chunk_frames=chunk)
print(json.dumps({"seconds": time.perf_counter() - t, "frames": run.frames, "chunks": run.chunks,
                  "node_seconds": run.node_seconds,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run_clip_process(clip: Path, out: Path, graph_kind: str, style: str, chunk: int) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, "-c", RUN, str(clip), str(out), graph_kind, style, str(chunk)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-2000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def flicker_figure(source: Path, styled: Path, target: Path, frame: int = 120) -> None:
    """Source and stylised frame on top; below, each one's difference to the frame before (×4)."""
    from PIL import Image

    from artflow.video import iter_frames

    def pair(path: Path) -> tuple[np.ndarray, np.ndarray]:
        prev = None
        for i, f in enumerate(iter_frames(path)):
            if i == frame:
                return prev, f  # type: ignore[return-value]
            prev = f
        raise ValueError(f"{path} has no frame {frame}")

    (a0, a1), (b0, b1) = pair(source), pair(styled)
    diff = [(np.abs(y.astype(int) - x).clip(0, 63) * 4).astype(np.uint8) for x, y in ((a0, a1), (b0, b1))]
    sheet = np.concatenate([np.concatenate([a1, b1], 1), np.concatenate(diff, 1)], 0)
    Image.fromarray(sheet).resize((768, 768), Image.LANCZOS).save(target, quality=88)


COPY = r"""
import json, sys, time
import artflow as af
from artflow.video import run_clip
g = af.Graph(seed=1)
g.add("image.save_animation", "save", image=g.add("video.load", "clip", path=sys.argv[1]), path="out.mp4",
      fps=24)
t = time.perf_counter()
run = run_clip(g, output_dir=sys.argv[2])
print(json.dumps({"seconds": time.perf_counter() - t, "frames": run.frames}))
"""


def _test_source(target: str, side: int, frames: int) -> None:
    """ffmpeg's moving test pattern (with a noise layer, so frames cost what real ones do)."""
    import imageio_ffmpeg

    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", "-f", "lavfi", "-i",
                    f"testsrc2=size={side}x{side}:rate={FPS}", "-vf", "noise=alls=12:allf=t",
                    "-frames:v", str(frames), "-pix_fmt", "yuv420p" if target.endswith(".mp4") else "rgb24",
                    target], check=True)


def per_frame(seconds: tuple[float, float], side: int, folder: tuple[int, int],
              baseline: Path | None = None) -> dict[str, Any]:
    """ms per frame of the copy graph: short vs long clip, short vs long frame folder; with
    ``baseline`` (another artflow checkout) each case also runs there, side by side."""
    out: dict[str, Any] = {"side": side, "chunk_frames": 48}
    variants = {"now": {}}
    if baseline is not None:
        variants["baseline"] = {"PYTHONPATH": f"{baseline}{os.pathsep}{baseline / 'plugins'}"}
    with tempfile.TemporaryDirectory(prefix="artflow-video-bench-") as tmp:
        root = Path(tmp)
        env = dict(os.environ, ARTFLOW_CACHE=str(root / "cache"))
        cases = {}
        for label, n in (("clip_short", int(seconds[0] * FPS)), ("clip_long", int(seconds[1] * FPS))):
            _test_source(str(root / f"{label}.mp4"), side, n)
            cases[label] = root / f"{label}.mp4"
        for label, n in (("folder_short", folder[0]), ("folder_long", folder[1])):
            (root / label).mkdir()
            _test_source(str(root / label / "frame_%05d.png"), side, n)
            cases[label] = root / label
        for label, src in cases.items():
            for name, extra in variants.items():  # side by side: the same clip, one after the other
                proc = subprocess.run([sys.executable, "-c", COPY, str(src), str(root / f"out_{label}")],
                                      capture_output=True, text=True, env={**env, **extra}, cwd=root)
                if proc.returncode != 0:
                    raise RuntimeError(proc.stderr[-2000:])
                r = json.loads(proc.stdout.strip().splitlines()[-1])
                ms = round(1000 * r["seconds"] / r["frames"], 2)
                out.setdefault(name, {})[label] = {"frames": r["frames"], "seconds": round(r["seconds"], 2),
                                                   "ms_per_frame": ms}
        for figures in (out[name] for name in variants):
            for kind in ("clip", "folder"):
                figures[f"{kind}_long_over_short"] = round(figures[f"{kind}_long"]["ms_per_frame"]
                                                           / figures[f"{kind}_short"]["ms_per_frame"], 3)
    return out


def _row(r: dict[str, Any]) -> dict[str, Any]:
    return {"frames": r["frames"], "seconds": round(r["seconds"], 1), "peak_rss_mb": round(r["peak_rss_mb"])}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, nargs=2, default=[10.0, 60.0], metavar=("SHORT", "LONG"))
    ap.add_argument("--style", default="glass")
    ap.add_argument("--chunk", type=int, default=48, help="frames per chunk")
    ap.add_argument("--figure", type=Path, default=None,
                    help="save a JPEG: a source and a stylised frame with their frame-to-frame differences")
    ap.add_argument("--rss-graph", choices=["filters", "style"], default="filters",
                    help="graph for the short-vs-long memory figure: filters (flip + colour "
                    "adjust) or style (slow on a CPU)")
    ap.add_argument("--per-frame", action="store_true", help="time per frame, short vs long (see above)")
    ap.add_argument("--side", type=int, default=SIDE, help="--per-frame: frame side in pixels")
    ap.add_argument("--folder", type=int, nargs=2, default=[240, 2400], metavar=("SHORT", "LONG"),
                    help="--per-frame: frames in the short and the long frame folder")
    ap.add_argument("--baseline", type=Path, default=None, metavar="CHECKOUT",
                    help="--per-frame: also run each case with another artflow checkout (e.g. a "
                    "`git archive` of an older commit), side by side")
    args = ap.parse_args()
    if args.per_frame:
        seconds = tuple(args.seconds) if "--seconds" in sys.argv else (10.0, 120.0)
        figures = per_frame(seconds, args.side, tuple(args.folder), args.baseline)
        print(json.dumps({"per_frame": figures}, indent=2))
        return
    from artflow.video import describe, flicker_ratio

    short_s, long_s = args.seconds
    with tempfile.TemporaryDirectory(prefix="artflow-video-bench-") as tmp:
        root = Path(tmp)
        os.environ["ARTFLOW_CACHE"] = str(root / "cache")
        t0 = time.perf_counter()
        short = make_clip(root / "short.mp4", short_s)
        long = make_clip(root / "long.mp4", long_s)
        made = time.perf_counter() - t0
        styled = run_clip_process(short, root / "styled", "style", args.style, args.chunk)
        out_mp4 = root / "styled" / "out.mp4"
        report: dict[str, Any] = {
            "clip": {"side": SIDE, "fps": FPS, "short_s": short_s, "long_s": long_s,
                     "made_in_s": round(made, 1)},
            "style_transfer": {
                "style": args.style,
                "frames": styled["frames"],
                "seconds": round(styled["seconds"], 1),
                "frames_per_s": round(styled["frames"] / styled["seconds"], 2),
                "style_node_s_per_frame": round(styled["node_seconds"].get("styled", 0)
                                                / styled["frames"], 3),
                "peak_rss_mb": round(styled["peak_rss_mb"]),
                "output": describe(out_mp4),
                "flicker_ratio": round(flicker_ratio(out_mp4, short), 3),
            },
        }
        if args.figure is not None:
            flicker_figure(short, out_mp4, args.figure)
        a = run_clip_process(short, root / "rss_short", args.rss_graph, args.style, args.chunk)
        b = run_clip_process(long, root / "rss_long", args.rss_graph, args.style, args.chunk)
        report["memory"] = {
            "graph": args.rss_graph,
            "chunk_frames": args.chunk,
            "short": _row(a),
            "long": _row(b),
            "rss_long_over_short": round(b["peak_rss_mb"] / a["peak_rss_mb"], 3),
            "whole_clip_float32_mb_long": round(b["frames"] * SIDE * SIDE * 3 * 4 / 2**20),
        }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
