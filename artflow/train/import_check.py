"""Checking an import before it is written: float16 weights, ONNX Runtime vs TensorFlow on real
photos (detections compared as sets), measured speed, card updates; see :mod:`artflow.train.importer`.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .importer import ImportSpec

PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "motorcycle")


@dataclass
class ImportResult:
    """What an import wrote."""

    path: Path
    sha256: str
    card: Any
    parity_max_abs_diff: float
    ms_onnxruntime: float
    ms_tensorflow: float


def real_photos(size: list[int] | None, limit: int = 5) -> np.ndarray:
    """scikit-image's photos (astronaut, coffee, …) resized to ``size`` (default 256²), canonical form."""
    from PIL import Image
    from skimage import data

    h, w = size or [256, 256]
    out = []
    for name in PHOTOS[:limit]:
        img = data.stereo_motorcycle()[0] if name == "motorcycle" else getattr(data, name)()
        if img.ndim == 2:
            img = np.stack([img] * 3, -1)
        out.append(np.asarray(Image.fromarray(img[..., :3]).resize((w, h), Image.Resampling.BILINEAR),
                              np.float32) / 255.0)
    return np.stack(out)


def finish(tmp: Path, out_path: Path, tf_fn: Any, photos: np.ndarray, spec: ImportSpec, atol: float) -> Path:
    """Optionally store big float32 initializers as float16 (+ Cast), then check the file to be
    written against TensorFlow on the real photos; write it (atomically) only if it holds."""
    import onnx
    from onnx import helper, numpy_helper

    from ..imaging import atomic_write_bytes
    from ..models.card import ModelCard as Card
    from ..models.card import write_card

    proto = onnx.load(str(tmp))
    meta = {p.key: p.value for p in proto.metadata_props}
    card = Card.from_metadata(meta)
    if spec.float16:
        graph = proto.graph
        casts = []
        for init in list(graph.initializer):
            if init.data_type != onnx.TensorProto.FLOAT:
                continue
            arr = numpy_helper.to_array(init)
            if arr.size < 1024:
                continue
            half = numpy_helper.from_array(arr.astype(np.float16), init.name + "__f16")
            graph.initializer.remove(init)
            graph.initializer.append(half)
            casts.append(helper.make_node("Cast", [half.name], [init.name], to=onnx.TensorProto.FLOAT,
                                          name=init.name + "__cast"))
        for node in reversed(casts):
            graph.node.insert(0, node)
        onnx.checker.check_model(proto)
        atol = float(spec.parity.get("float16_atol", atol))
        card.extra["weights"] = "float16 (cast to float32 when the session loads; arithmetic in float32)"
    data = proto.SerializeToString()
    figures = verify(data, tf_fn, photos, spec, atol)
    card.metrics.update(figures)
    card.metrics["parity_atol"] = atol
    card.metrics["parity_inputs"] = f"{len(photos)} scikit-image photos ({', '.join(PHOTOS[:len(photos)])})"
    write_card(proto, card)
    atomic_write_bytes(out_path, proto.SerializeToString())
    os.chmod(out_path, 0o644)
    return out_path


def verify(model: bytes, tf_fn: Any, photos: np.ndarray, spec: ImportSpec, atol: float) -> dict[str, Any]:
    """ONNX Runtime vs TensorFlow on each photo: max abs diff of every output (detections: matched
    as sets — same class, IoU ≥ 0.9 — for every TensorFlow detection scoring ≥ 0.1)."""
    import onnxruntime as ort

    from .exporter import ParityError

    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    fixed = session.get_inputs()[0].shape[0] == 1
    worst, matched, total = 0.0, 0, 0
    limits = dict(spec.parity.get("outputs", {}))  # per-output tolerances; their max is the headline
    per_output: dict[str, float] = {}
    batches = [photos[i:i + 1] for i in range(len(photos))] if fixed else [photos]
    for x in batches:
        got = dict(zip(names, session.run(names, {"image": x}), strict=True))
        want = {k: np.asarray(v) for k, v in tf_fn(x).items()}
        for name in names:
            if spec.kind == "detector" and name in ("boxes", "scores", "classes"):
                continue
            diff = float(np.max(np.abs(want[name].astype(np.float64) - got[name]))) if got[name].size else 0.0
            per_output[name] = max(per_output.get(name, 0.0), diff)
            allowed = float(limits.get(name, atol))
            worst = max(worst, diff) if name in limits or not limits else worst
            if not diff <= allowed:
                raise ParityError(f"{spec.name}: ONNX Runtime and TensorFlow differ by {diff:.3g} on output "
                                  f"'{name}' (allowed {allowed:g}); not written")
        if spec.kind == "detector":
            for i in range(len(x)):
                for b, s, c in zip(want["boxes"][i], want["scores"][i], want["classes"][i], strict=True):
                    if s < 0.1:
                        continue
                    total += 1
                    ok = (got["classes"][i] == c) & (np.abs(got["scores"][i] - s) <= max(atol, 0.01))
                    ious = _iou(b, got["boxes"][i])
                    matched += int(np.any(ok & (ious >= 0.9)))
    out: dict[str, Any] = {"parity_max_abs_diff": worst,
                           "parity_max_abs_diff_by_output": {k: float(f"{v:.3g}")
                                                             for k, v in per_output.items()}}
    if spec.kind == "detector":
        if matched < total:
            raise ParityError(f"{spec.name}: ONNX Runtime finds {matched} of TensorFlow's {total} detections "
                              "(score ≥ 0.1); not written")
        out["parity_detections_matched"] = f"{matched}/{total}"
    return out


def _iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    x0 = np.maximum(box[0], boxes[:, 0])
    y0 = np.maximum(box[1], boxes[:, 1])
    x1 = np.minimum(box[2], boxes[:, 2])
    y1 = np.minimum(box[3], boxes[:, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1]) + (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return inter / np.maximum(area - inter, 1e-9)


def measure_speed(path: Path, tf_fn: Any, x: np.ndarray, repeats: int = 5) -> tuple[float, float]:
    """Median ms per call of ONNX Runtime (the project's session settings) and TensorFlow on ``x``."""
    from ..models.session import get_session

    session = get_session(path, "cpu")
    feeds = {session.input_names[0]: x.astype(np.float32)}
    session.run(feeds)
    t_ort = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        session.run(feeds)
        t_ort.append(time.perf_counter() - t0)
    tf_fn(x)
    t_tf = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        tf_fn(x)
        t_tf.append(time.perf_counter() - t0)
    return float(np.median(t_ort) * 1000), float(np.median(t_tf) * 1000)


def update_card(path: Path, metrics: dict[str, Any]) -> None:
    import onnx

    from ..imaging import atomic_write_bytes
    from ..models.card import ModelCard as Card
    from ..models.card import write_card

    proto = onnx.load(str(path))
    card = Card.from_metadata({p.key: p.value for p in proto.metadata_props})
    if card is None:  # pragma: no cover
        return
    card.metrics.update(metrics)
    write_card(proto, card)
    atomic_write_bytes(path, proto.SerializeToString())
    os.chmod(path, 0o644)
