"""Detector benchmarks: ONNX Runtime against TensorFlow on the shipped `shapes` detector.

    from detector_bench import run_detector_benchmarks
    run_detector_benchmarks()   # {"detector:shapes@256": {...}, "detector:shapes@512": {...}}

For each image side (256², 512²), every figure a median (ms) of interleaved repeats on the same
inputs (random shape scenes):

- ``ort_ms_b1`` / ``ort_ms_b64``: the whole detection as ``detect.objects`` does it: letterbox
  to the model input, artflow.models ``Session.run_batched`` in runs of 4 images (decoding and
  peak extraction are inside the ONNX graph), boxes mapped back to the image's pixels;
- ``tf_ms_b1`` / ``tf_ms_b64``: the same letterbox and mapping around
  ``tf.function(decode(model(x)))`` on the same weights (``models/shapes_tf.keras``);
- ``model_ort_ms_bN`` / ``model_tf_ms_bN``: the model alone on the letterboxed batch, one call
  each (``model_ort_ms_b64_runs4``: ORT in runs of 4 images, as ``detect.objects`` calls it);
- ``raw_ms_b1``: a bare ``onnxruntime.InferenceSession.run`` on the letterboxed image;
- ``node_ms_b1``: source → ``detect.objects`` through ``artflow.engine.Engine`` (cache off), the
  engine's wall time minus the source node's.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from artflow_detector.detect import Letterbox

ROOT = Path(__file__).resolve().parent.parent
SIZES = (256, 512)


def _interleaved(fns: dict[str, Callable[[], float | None]], repeats: int) -> dict[str, float]:
    from run import interleaved_ms  # the shared round-robin timer (benchmarks/ is on sys.path)

    return interleaved_ms(fns, repeats, warmup=3)


def _images(n: int, side: int) -> np.ndarray:
    sys.path.insert(0, str(ROOT / "plugins"))
    from artflow_detector.scenes import scene_batch

    images, _, _ = scene_batch(min(n, 8), split="heldout", size=side, seed=5)
    reps = int(np.ceil(n / len(images)))
    return np.concatenate([images] * reps)[:n].astype(np.float32) / 255.0


def run_detector_benchmarks(name: str = "shapes", *, repeats_b1: int = 60, repeats_b64: int = 8,
                            tf_side: bool = True) -> dict[str, Any]:
    """Figures for the shipped detector at 256² and 512² (see the module doc)."""
    import onnxruntime as ort
    from artflow_detector.detect import input_side, letterbox

    from artflow import models as runtime
    from artflow.plugins import get_plugins

    entry = get_plugins().models.get(name, "detector")
    session = runtime.get_session(entry)
    card = session.card
    side_in = input_side(session)
    raw = ort.InferenceSession(str(entry.path), runtime.providers.session_options(session.threads),
                               providers=["CPUExecutionProvider"])
    out_names = [o.name for o in raw.get_outputs()]
    infer = None
    keras_path = Path(entry.path).with_name(f"{entry.name}_tf.keras")
    if tf_side and keras_path.is_file():
        import keras
        import tensorflow as tf
        from artflow_detector.model import decode

        net = keras.models.load_model(keras_path, compile=False)
        n_classes = len(card.labels) if card is not None else 5

        @tf.function(input_signature=[tf.TensorSpec([None, side_in, side_in, 3], tf.float32)])
        def infer(x: Any) -> Any:
            return decode(net(x, training=False), n_classes, side_in)

    def tf_detect(images: np.ndarray) -> list[Any]:
        x, geo = letterbox(images, side_in)
        res = {k: v.numpy() for k, v in infer(x).items()}  # type: ignore[misc]
        return _map(res, geo)

    results: dict[str, Any] = {}
    for side in SIZES:
        results[f"detector:{name}@{side}"] = _one_side(side, name, entry, session, raw, out_names, side_in,
                                                         infer, tf_detect, repeats_b1, repeats_b64)
    return results


def _one_side(side: int, name: str, entry: Any, session: Any, raw: Any, out_names: list[str], side_in: int,
              infer: Any, tf_detect: Callable[[np.ndarray], Any], repeats_b1: int,
              repeats_b64: int) -> dict[str, Any]:
    from artflow_detector.detect import RUN_BATCH, detections, letterbox

    import artflow as af
    from artflow.engine import Engine

    b1, b64 = _images(1, side), _images(64, side)
    x1, _ = letterbox(b1, side_in)
    x64, _ = letterbox(b64, side_in)
    figures: dict[str, Any] = {"provider": session.provider, "threads": session.threads, "spin": session.spin,
                               "model_input": side_in, "image_side": side,
                               "size_kb": round(Path(entry.path).stat().st_size / 1024, 1)}

    g = af.Graph(seed=1)
    src = g.add("generate.noise", width=side, height=side)
    g.add("detect.objects", image=src, model=name)
    engine = Engine(workers=1)

    def node() -> float:
        t0 = time.perf_counter()
        result = engine.run(g, use_cache=False, progress=False)
        return time.perf_counter() - t0 - result.seconds.get(src.id, 0.0)

    s1: dict[str, Callable[[], float | None]] = {
        "ort_ms_b1": lambda: (detections(session, b1), None)[1],
        "model_ort_ms_b1": lambda: (session.run(x1), None)[1],
        "raw_ms_b1": lambda: (raw.run(out_names, {"image": x1}), None)[1],
        "node_ms_b1": node,
    }
    s64: dict[str, Callable[[], float | None]] = {
        "ort_ms_b64": lambda: (detections(session, b64), None)[1],
        "model_ort_ms_b64": lambda: (session.run(x64), None)[1],
        "model_ort_ms_b64_runs4": lambda: (session.run_batched(x64, batch_size=RUN_BATCH), None)[1],
    }
    if infer is not None:
        t1, t64 = x1, x64
        s1["tf_ms_b1"] = lambda: (tf_detect(b1), None)[1]
        s1["model_tf_ms_b1"] = lambda: (infer(t1)["boxes"].numpy(), None)[1]
        s64["tf_ms_b64"] = lambda: (tf_detect(b64), None)[1]
        s64["model_tf_ms_b64"] = lambda: (infer(t64)["boxes"].numpy(), None)[1]
    figures.update(_interleaved(s1, repeats_b1))
    figures.update(_interleaved(s64, repeats_b64))
    if infer is not None:
        figures["ort_over_tf_b1"] = round(figures["ort_ms_b1"] / figures["tf_ms_b1"], 3)
        figures["ort_over_tf_b64"] = round(figures["ort_ms_b64"] / figures["tf_ms_b64"], 3)
        figures["model_ort_over_tf_b1"] = round(figures["model_ort_ms_b1"] / figures["model_tf_ms_b1"], 3)
        figures["model_ort_over_tf_b64"] = round(figures["model_ort_ms_b64"] / figures["model_tf_ms_b64"], 3)
        ref = infer(x64)
        got = session.run(x64)
        figures["max_abs_diff_b64"] = float(np.max(np.abs(ref["boxes"].numpy() - got["boxes"])))
    return figures


def _map(res: dict[str, np.ndarray], geo: Letterbox, threshold: float = 0.3) -> list[Any]:
    out = []
    for b, s in zip(res["boxes"], res["scores"], strict=True):
        keep = np.flatnonzero(s >= threshold)
        out.append(geo.to_image(b[keep]))
    return out


if __name__ == "__main__":
    import json

    print(json.dumps(run_detector_benchmarks(), indent=2))
