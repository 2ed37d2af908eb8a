"""Keras/TensorFlow → ONNX, checked: tf2onnx, onnx.checker, then ONNX Runtime against TensorFlow.

Needs the ``train`` extra (TensorFlow, tf2onnx, onnx); all imported inside the functions.

    from artflow.train.exporter import export_keras
    from artflow.models.card import InputSpec, ModelCard
    card = ModelCard(kind="classifier", name="digits", labels=[...],
                     inputs=[InputSpec("image", size=[8, 8], channels=1, color="gray")],
                     outputs={"probs": "class probabilities"})
    result = export_keras(inference_model, "digits.onnx", card, real_inputs=x_val[:64])
    result.parity_max_abs_diff, result.sha256

What an export does, in order (the file is written only when every step passes):

1. wraps the model as ``tf.function(lambda x: {name: model(x, training=False)})`` with an explicit
   ``input_signature`` (named inputs, dynamic batch), so augmentation, dropout and other
   training-only behaviour stay out, and outputs are named;
2. converts it with ``tf2onnx.convert.from_function`` (opset 17; ``from_keras`` breaks on Keras 3);
3. ``onnx.checker.check_model``;
4. runs ONNX Runtime (CPU) and TensorFlow on the same inputs (the real ones given, and random
   ones drawn in each input's declared range): every output must agree within ``atol`` (1e-4),
   and for classifiers the argmax must be identical; otherwise :class:`ParityError`;
5. writes the card (with ``metrics.parity_max_abs_diff`` and the library versions) into
   ``metadata_props`` and the file atomically.

For models that are not one Keras model (a generator with a truncation step, two inputs, …) use
:func:`export_function` with your own function and signature.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ModelError, describe
from ..models.card import InputSpec, ModelCard, write_card
from .rewrites import cancel_inverse_transposes

OPSET = 17
ATOL = 1e-4
RANDOM_BATCHES = 3


class ExportError(ModelError):
    """The model could not be converted or checked; nothing was written."""


class ParityError(ExportError):
    """ONNX Runtime and TensorFlow disagree on the same inputs; nothing was written."""


@dataclass
class ExportResult:
    """What an export wrote: the file, its sha256, the card in it and the parity figures."""

    path: Path
    sha256: str
    card: ModelCard
    parity_max_abs_diff: float
    input_names: list[str] = field(default_factory=list)
    output_names: list[str] = field(default_factory=list)


def versions() -> dict[str, str]:
    """Versions of the libraries that shape an exported model (recorded in every card)."""
    from importlib import metadata

    out: dict[str, str] = {}
    for label, dist in (("tensorflow", None), ("keras", "keras"), ("tf2onnx", "tf2onnx"),
                        ("onnx", "onnx"), ("onnxruntime", None), ("artflow", "artflow"),
                        ("numpy", "numpy")):
        candidates = [dist] if dist else (
            ["tensorflow", "tensorflow-cpu"] if label == "tensorflow" else ["onnxruntime-gpu", "onnxruntime"])
        for name in candidates:
            try:
                out[label] = metadata.version(name)
                break
            except metadata.PackageNotFoundError:
                continue
    return out


def export_keras(
    model: Any,
    out_path: str | Path,
    card: ModelCard,
    *,
    real_inputs: Mapping[str, np.ndarray] | np.ndarray | Sequence[np.ndarray] | None = None,
    atol: float = ATOL,
    argmax: bool | None = None,
    opset: int = OPSET,
    real_limit: int = 256,
) -> ExportResult:
    """Export a Keras model (its inference behaviour, ``training=False``) to a checked ONNX file.

    Input names come from ``card.inputs`` (in the model's input order; missing ones are filled
    from the model's shapes), output names from ``card.outputs`` keys (in the model's output
    order; defaults ``output``, ``output_1``, …). Spatial axes stay as the model declares them;
    the batch axis is dynamic. ``real_inputs`` (array, list in input order, or dict by name) is
    the real data the parity check runs on besides random inputs (its first ``real_limit`` items).
    """
    import tensorflow as tf

    model_inputs = list(model.inputs)
    card = copy.deepcopy(card)
    specs: list[InputSpec] = list(card.inputs)
    signature = []
    for i, tensor in enumerate(model_inputs):
        shape = [None] + [int(d) if d is not None else None for d in tensor.shape[1:]]
        if i >= len(specs):
            specs.append(_guess_spec(f"input_{i}" if i else "input", shape))
        dtype = tf.as_dtype(specs[i].dtype) if specs[i].dtype else tensor.dtype
        signature.append(tf.TensorSpec(shape, dtype, name=specs[i].name))
    card.inputs = specs
    n_out = len(model.outputs)
    names = list(card.outputs)[:n_out]
    names += ["output" if i == 0 else f"output_{i}" for i in range(len(names), n_out)]
    card.outputs = {n: card.outputs.get(n, "") for n in names}

    def infer(*args: Any) -> dict[str, Any]:
        result = model(list(args) if len(args) > 1 else args[0], training=False)
        if isinstance(result, Mapping):
            result = [result[k] for k in result]
        if not isinstance(result, (list, tuple)):
            result = [result]
        return dict(zip(names, result, strict=False))

    return export_function(infer, signature, out_path, card, real_inputs=real_inputs, atol=atol,
                           argmax=argmax, opset=opset, real_limit=real_limit)


def export_function(
    fn: Callable[..., Any],
    input_signature: Sequence[Any],
    out_path: str | Path,
    card: ModelCard,
    *,
    reference: Callable[..., Any] | None = None,
    real_inputs: Mapping[str, np.ndarray] | np.ndarray | Sequence[np.ndarray] | None = None,
    atol: float = ATOL,
    argmax: bool | None = None,
    opset: int = OPSET,
    random_batches: int = RANDOM_BATCHES,
    real_limit: int = 256,
) -> ExportResult:
    """Export any TensorFlow function with an explicit ``input_signature`` (``tf.TensorSpec``s
    with names) to a checked ONNX file.

    ``fn`` returns a dict {output name: tensor} (or one tensor, named after the first key of
    ``card.outputs``, else ``output``). The parity check compares ONNX Runtime with
    ``reference`` (default: ``fn`` itself run by TensorFlow) on ``real_inputs`` and on random
    inputs in each input's declared range; ``argmax`` (default: True for classifiers) also
    requires identical argmax along the last axis of every output.
    """
    import onnx
    import tensorflow as tf
    import tf2onnx

    from ..imaging import atomic_write_bytes

    out_path = Path(out_path)
    card = copy.deepcopy(card)
    signature = list(input_signature)
    in_names = [s.name for s in signature]
    if any(not n for n in in_names) or len(set(in_names)) != len(in_names):
        raise ExportError("every tf.TensorSpec in the input signature needs a distinct name")
    specs = {s.name: s for s in card.inputs}
    card.inputs = [specs.get(s.name) or _guess_spec(s.name, list(s.shape)) for s in signature]
    default_name = next(iter(card.outputs), "output")
    tf_fn = tf.function(_named(fn, default_name), input_signature=signature)
    ref_fn = tf_fn if reference is None else tf.function(_named(reference, default_name),
                                                          input_signature=signature)
    try:
        proto, _ = tf2onnx.convert.from_function(tf_fn, input_signature=signature, opset=opset)
    except Exception as exc:  # noqa: BLE001 - tf2onnx raises many types
        raise ExportError(f"tf2onnx could not convert {card.name or out_path.name}: "
                          f"{describe(exc, with_type=False)[:300]}") from None
    cancel_inverse_transposes(proto.graph)
    try:
        onnx.checker.check_model(proto)
    except Exception as exc:  # noqa: BLE001
        raise ExportError("the converted model fails onnx.checker: "
                          f"{describe(exc, with_type=False)[:300]}") from None
    out_names = [o.name for o in proto.graph.output]
    for name in out_names:
        card.outputs.setdefault(name, "")
    card.outputs = {k: v for k, v in card.outputs.items() if k in out_names}

    batches = _parity_inputs(signature, card, real_inputs, random_batches, real_limit)
    use_argmax = card.kind == "classifier" if argmax is None else argmax
    diff = check_parity(proto.SerializeToString(), ref_fn, batches, atol=atol, argmax=use_argmax,
                        what=card.name or out_path.name)

    card.metrics["parity_max_abs_diff"] = float(diff)
    card.metrics.setdefault("parity_atol", atol)
    card.versions = {**versions(), **card.versions}
    card.extra.setdefault("opset", opset)
    write_card(proto, card)
    if card.description:
        proto.doc_string = card.description
    data = proto.SerializeToString()
    atomic_write_bytes(out_path, data)
    _readable(out_path)
    return ExportResult(out_path, hashlib.sha256(data).hexdigest(), card, float(diff), in_names, out_names)


def _readable(path: Path) -> None:
    """Give the file the usual permissions (temp files are created owner-only)."""
    import os

    mask = os.umask(0)
    os.umask(mask)
    os.chmod(path, 0o666 & ~mask)


def _named(fn: Callable[..., Any], default_name: str) -> Callable[..., Any]:
    def wrapped(*args: Any) -> dict[str, Any]:
        result = fn(*args)
        if isinstance(result, Mapping):
            return dict(result)
        return {default_name: result}

    return wrapped


def check_parity(
    model: bytes | str | Path,
    reference: Callable[..., Any],
    batches: Sequence[dict[str, np.ndarray]],
    *,
    atol: float = ATOL,
    argmax: bool = False,
    what: str = "model",
) -> float:
    """Run ONNX Runtime (CPU) and ``reference`` (returning a dict of tensors) on each batch of
    named inputs; return the largest absolute difference, or raise ParityError past ``atol`` or on
    a differing argmax."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    source = model if isinstance(model, bytes) else str(model)
    session = ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    worst = 0.0
    for batch in batches:
        got = dict(zip(names, session.run(names, batch), strict=False))
        expected = reference(*[batch[i.name] for i in session.get_inputs()])
        for name in names:
            if name not in expected:
                raise ParityError(f"{what}: the reference has no output '{name}'")
            want = np.asarray(expected[name])
            have = got[name]
            if want.shape != have.shape:
                raise ParityError(f"{what}: output '{name}' has shape {list(have.shape)} in ONNX "
                                  f"Runtime but {list(want.shape)} in TensorFlow; not written")
            delta = np.abs(want.astype(np.float64) - have.astype(np.float64))
            diff = float(np.max(delta)) if want.size else 0.0
            if not np.isfinite(diff):
                diff = float("inf")
            worst = max(worst, diff)
            if diff > atol:
                raise ParityError(f"{what}: ONNX Runtime and TensorFlow differ by {diff:.3g} on output "
                                  f"'{name}' (allowed {atol:g}); not written")
            if argmax and want.ndim >= 1 and want.shape[-1] > 1:
                if not np.array_equal(np.argmax(want, -1), np.argmax(have, -1)):
                    raise ParityError(f"{what}: ONNX Runtime and TensorFlow pick different classes on "
                                      f"output '{name}'; not written")
    return worst


def _guess_spec(name: str, shape: Sequence[int | None]) -> InputSpec:
    if len(shape) == 4:
        return InputSpec(name, "NHWC", [shape[1], shape[2]] if shape[1] and shape[2] else None,
                         shape[3], [0.0, 1.0], color="rgb" if shape[3] == 3 else "")
    return InputSpec(name, "NC", None, shape[-1] if len(shape) > 1 else None, [0.0, 1.0], color="")


def _parity_inputs(signature: Sequence[Any], card: ModelCard, real: Any, random_batches: int,
                   real_limit: int = 256) -> list[dict[str, np.ndarray]]:
    """Real batches (the first ``real_limit`` items, in runs of 64) and random ones (batch 1 and 4)
    in each input's declared range."""
    names = [s.name for s in signature]
    batches: list[dict[str, np.ndarray]] = []
    if real is not None:
        if isinstance(real, np.ndarray):
            real = [real]
        if not isinstance(real, Mapping):
            real = dict(zip(names, real, strict=False))
        missing = [n for n in names if n not in real]
        if missing:
            raise ExportError(f"real parity inputs lack {missing}")
        batches.append({n: np.asarray(real[n])[:64].astype(s.dtype.as_numpy_dtype)
                        for n, s in zip(names, signature, strict=False)})
    rng = np.random.default_rng(1234)
    specs = {i.name: i for i in card.inputs}
    for b in range(random_batches):
        n = 1 if b == 0 else 4
        batch = {}
        for s in signature:
            spec = specs.get(s.name)
            shape = [n] + [d if d is not None else _free_dim(spec, i) for i, d in enumerate(s.shape[1:])]
            lo, hi = (spec.range if spec and spec.range else [0.0, 1.0])[:2]
            dtype = s.dtype.as_numpy_dtype
            if np.issubdtype(dtype, np.integer):
                batch[s.name] = rng.integers(int(lo), max(int(lo) + 1, int(hi)), size=shape).astype(dtype)
            elif spec is not None and spec.mean is not None:
                batch[s.name] = rng.normal(size=shape).astype(dtype)
            else:
                batch[s.name] = rng.uniform(lo, hi, size=shape).astype(dtype)
        batches.append(batch)
    return batches


def _free_dim(spec: InputSpec | None, axis: int) -> int:
    if spec is not None and spec.size and axis < 2 and spec.layout == "NHWC":
        return int(spec.size[axis])
    if spec is not None and spec.size and spec.layout == "NCHW" and axis in (1, 2):
        return int(spec.size[axis - 1])
    return 32

