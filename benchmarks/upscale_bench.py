"""Super-resolution: ONNX Runtime (the shipped ESRGAN-thick file) vs TensorFlow/Keras (the source
model, built from the npm package as `artflow import tfjs` builds it), side by side on the same
tile, and `image.upscale` ×4 of a whole image through the engine in a fresh process (tiled), with
its peak memory against the estimate and the budget.
`python benchmarks/upscale_bench.py --npm DIR [--json]`.

    {"esrgan-thick": {"tile": [1, 128, 128, 3], "ort_ms_tile", "tf_ms_tile", "ort_over_tf",
                      "tiles_per_image", "ort_ms_per_image", "tf_ms_per_image",
                      "input": [1, 512, 512, 3], "node_ms", "node_peak_rss_mb", "node_estimate_mb",
                      "budget_mb", "lanczos_node_ms", "size_mb", "provider", "threads"}}

The node runs a 512² image as 5 × 5 tiles of 128² (overlap 16), so a 512² image costs 25 tile
calls: ``*_ms_per_image`` is 25 × the median tile call (batch 1, a crop of the astronaut),
measured round-robin ORT, TF, ORT, … (benchmarks/run.py's ``interleaved_ms``). ``node_ms`` is the
real end-to-end run (load, 25 tiles, blending, no cache). The TF side needs the train extra and
the unpacked `@upscalerjs/esrgan-thick` 1.0.0 package (``--npm`` or $ARTFLOW_UPSCALERJS_THICK;
skipped without it). ``benchmarks/run.py`` includes these figures as ``upscale:esrgan-thick``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")  # TensorFlow as a user runs it (the faster side)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

NAME = "esrgan-thick"
TILE, OVERLAP = 128, 16  # the node's defaults

_NODE_RUN = """
import json, sys, time
import artflow as af
g = af.Graph(seed=1)
big = g.add("image.upscale", image=g.add("image.load", path=sys.argv[1]), scale=4, method=sys.argv[2])
t0 = time.perf_counter()
g.run(use_cache=False, progress=False)
peak = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM"))
print(json.dumps({"ms": (time.perf_counter() - t0) * 1000, "peak_rss_mb": peak / 1024}))
"""
# VmHWM, not ru_maxrss: Linux carries the forking parent's RSS (TensorFlow's, here) into a child's
# ru_maxrss across exec, which read 1125 MB for a run whose own peak is 339 MB


def photo(side: int) -> np.ndarray:
    """The astronaut reduced to side² (bicubic), canonical float, batch of one."""
    from PIL import Image
    from skimage import data

    img = Image.fromarray(data.astronaut()).resize((side, side), Image.Resampling.BICUBIC)
    return (np.asarray(img, np.float32) / 255.0)[None]


def node_figures(image: np.ndarray, method: str) -> dict[str, float]:
    """`image.upscale` ×4 on the image through the engine in a fresh process: wall ms, peak RSS."""
    from PIL import Image

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "photo.png"
        Image.fromarray(np.round(image[0] * 255).astype(np.uint8)).save(path)
        out = subprocess.run([sys.executable, "-c", _NODE_RUN, str(path), method], capture_output=True,
                             text=True, check=True, cwd=tmp)
    return json.loads(out.stdout.strip().splitlines()[-1])


def estimate_mb(side: int) -> float:
    """What the node's estimate declares for a side² RGB image ×4 (output plus working memory)."""
    from artflow_upscale.nodes import image_upscale

    from artflow.budget import estimate_node, nbytes

    params = {"scale": 4, "method": "model", "model": NAME, "tile": TILE, "overlap": OVERLAP}
    est = estimate_node(image_upscale, params, {"image": (1, side, side, 3)}, Path.cwd())
    return round((est.working_bytes + sum(nbytes(s) for s in est.outputs.values() if s)) / 2**20, 1)


def run_upscale_benchmarks(npm: Path | None = None, side: int = 512, repeats: int = 3) -> dict[str, Any]:
    """Figures for the shipped upscaler (see the module doc)."""
    from artflow_upscale.tiling import tile_starts
    from run import interleaved_ms, wall

    import artflow as af
    from artflow.budget import Budget
    from artflow.models import get_session

    entry = af.get_plugins().models.get(NAME, "upscale")
    session = get_session(entry, "cpu")
    x = photo(side)
    t, o = min(TILE, side), (side - min(TILE, side)) // 2
    tile = np.ascontiguousarray(x[:, o:o + t, o:o + t])
    tiles = len(tile_starts(side, TILE, OVERLAP)) ** 2
    feed = session.input_names[0]
    fns = {"ort_ms_tile": wall(lambda: session.run({feed: tile}))}
    result: dict[str, Any] = {"tile": list(tile.shape), "tiles_per_image": tiles,
                              "size_mb": round(entry.path.stat().st_size / 1e6, 2),
                              "provider": session.provider, "threads": session.threads}
    if npm is None and os.environ.get("ARTFLOW_UPSCALERJS_THICK"):
        npm = Path(os.environ["ARTFLOW_UPSCALERJS_THICK"])
    if npm is not None:
        import tensorflow as tf
        from artflow_upscale.ship import MODEL_JSON, SPEC

        from artflow.train.importer import ImportSpec, reference_function

        ref = reference_function("tfjs", str(npm / MODEL_JSON), ImportSpec.load(SPEC))
        fn = tf.function(ref.infer, input_signature=[tf.TensorSpec([1, None, None, 3], tf.float32)])
        tx = tf.constant(tile)
        fns["tf_ms_tile"] = wall(lambda: [v.numpy() for v in fn(tx).values()])
    else:
        result["tf_skipped"] = "give --npm DIR or set ARTFLOW_UPSCALERJS_THICK (the unpacked package)"
    result.update(interleaved_ms(fns, repeats, warmup=1))
    for key in [k for k in result if k.endswith("_ms_tile")]:
        result[key.replace("_ms_tile", "_ms_per_image")] = round(result[key] * tiles, 1)
    if "tf_ms_tile" in result:
        result["ort_over_tf"] = round(result["ort_ms_tile"] / result["tf_ms_tile"], 3)
    node = node_figures(x, "model")
    result.update({"input": [1, side, side, 3], "node_ms": round(node["ms"], 1),
                   "node_peak_rss_mb": round(node["peak_rss_mb"], 1),
                   "node_estimate_mb": estimate_mb(side),
                   "budget_mb": round(Budget.from_settings().memory_bytes / 2**20),
                   "lanczos_node_ms": round(node_figures(x, "lanczos")["ms"], 1)})
    return {NAME: result}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--npm", type=Path, default=None, help="the unpacked @upscalerjs/esrgan-thick folder")
    parser.add_argument("--side", type=int, default=512, help="input side in pixels (output is 4x)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = {"machine": {"cpus": os.cpu_count(), "load_average": list(os.getloadavg())},
              "models": run_upscale_benchmarks(args.npm, args.side, args.repeats)}
    print(json.dumps(result, indent=None if args.json else 2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
