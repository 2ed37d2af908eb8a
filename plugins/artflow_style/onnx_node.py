"""`onnx.model`: run any ONNX file through an adapter described by params.

The adapter maps artflow's IMAGE batch (float32 NHWC RGB in [0, 1]) to what the model takes —
``layout`` (NCHW/NHWC), ``channels`` (RGB/BGR/GRAY), ``range`` [lo, hi] or per-channel
``mean``/``std`` (applied to [0, 1] values, torchvision style), ``size`` [w, h] for fixed-size
models (resized in; image outputs resized back to the input's size) — and maps the first output
(or ``output_name``) back:

- ``output: image`` → IMAGE: the same adapter inverted (``output_range`` when given), clipped to [0, 1];
- ``output: labels`` → LABELS: top-k of the scores (softmax applied unless they already are
  probabilities), named by ``labels``;
- ``output: tensor`` → only the raw tensor.

``layout``, ``channels`` and ``size`` default to what the model's input shape declares (an MNIST
classifier's ``[1, 1, 28, 28]`` gives NCHW, GRAY, 28×28); a param that contradicts the model is
an error naming both. A non-float input (uint8, int64…) needs ``dtype`` declared: values are then
mapped to ``range`` and rounded.

Every mode also fills ``tensor`` (LATENT): the raw output flattened to (N, D), exactly as ONNX
Runtime returned it. Outputs that do not apply carry the input image unchanged (``image``) or no
labels (``labels``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from artflow import (
    IMAGE,
    LABELS,
    LATENT,
    Choice,
    Floats,
    In,
    Int,
    Ints,
    Label,
    Model,
    ModelError,
    Out,
    Str,
    Strings,
    node,
)
from artflow import models as runtime
from artflow.imaging import resize
from artflow.models.card import InputSpec

FLOATS = ("float32", "float16", "float64")
DTYPES = (*FLOATS, "uint8", "int8", "int32", "int64")


def adapter_spec(name: str, layout: str, channels: str, range_: list[float], mean: list[float] | None,
                 std: list[float] | None, size: list[int] | None, dtype: str = "float32") -> InputSpec:
    """The runtime InputSpec the params describe (size given as [w, h], stored as [h, w])."""
    if (mean is None) != (std is None):
        raise ModelError("onnx.model: give both mean and std, or neither")
    gray = channels == "GRAY"
    return InputSpec(name, layout, [int(size[1]), int(size[0])] if size else None, 1 if gray else 3,
                     [float(range_[0]), float(range_[1])], dtype,
                     "gray" if gray else channels.lower(), mean, std)


def _shape(shape: tuple[int | None, ...]) -> str:
    return "[" + ", ".join("?" if d is None else str(d) for d in shape) + "]"


def _declared_layout(shape: tuple[int | None, ...]) -> tuple[str | None, bool]:
    """The layout a 4-D input shape implies, and whether it is certain (the only one possible).

    A layout is possible when its channel axis is 1, 3 or unknown; of two possible ones, the one
    with a fixed channel count is preferred (not certain: a user's layout is then accepted).
    """
    if len(shape) != 4:
        return None, False
    nchw = shape[1] in (1, 3, None)
    nhwc = shape[3] in (1, 3, None)
    if nchw != nhwc:
        return ("NCHW" if nchw else "NHWC"), True
    if nchw and (shape[1] is None) != (shape[3] is None):
        return ("NCHW" if shape[1] is not None else "NHWC"), False
    return None, False


def declared_params(info: Any, layout: str | None, channels: str | None, size: list[int] | None,
                    dtype: str | None) -> tuple[str, str, list[int] | None, str]:
    """Layout, channels, size ([w, h]) and dtype for a model input: each param the user set, else
    what the input's declared shape and type say, else the old defaults (NCHW, RGB, any size).

    A param that contradicts the model, a model input with no 1- or 3-channel axis, or a
    non-float input without a declared ``dtype`` is a one-line ModelError naming both sides.
    """
    shape = tuple(info.shape)
    where = f"the model's input '{info.name}' {_shape(shape)}"
    model_layout, certain = _declared_layout(shape)
    if len(shape) == 4 and model_layout is None and shape[1] is not None and shape[3] is not None \
            and shape[1] not in (1, 3) and shape[3] not in (1, 3):
        raise ModelError(f"onnx.model: {where} has no 1- or 3-channel axis; onnx.model feeds gray or "
                         "colour images only")
    if layout is not None and certain and layout != model_layout:
        raise ModelError(f"onnx.model: param layout={layout} conflicts with {where} ({model_layout}); "
                         f"drop the param or set it to {model_layout}")
    layout = layout or model_layout or "NCHW"
    c, h, w = (shape[1], shape[2], shape[3]) if len(shape) == 4 and layout == "NCHW" else (
        (shape[3], shape[1], shape[2]) if len(shape) == 4 else (None, None, None))
    if channels is not None and c is not None and c != (1 if channels == "GRAY" else 3):
        raise ModelError(f"onnx.model: param channels={channels} conflicts with {where} ({c} channel"
                         f"{'s' if c != 1 else ''} in {layout}); drop the param or set it to "
                         f"{'GRAY' if c == 1 else 'RGB or BGR'}")
    channels = channels or ("GRAY" if c == 1 else "RGB")
    if size is not None and h is not None and w is not None and list(size) != [w, h]:
        raise ModelError(f"onnx.model: param size={list(size)} ([w, h]) conflicts with {where} "
                         f"({w}x{h} in {layout}); drop the param or set it to [{w}, {h}]")
    if size is None and h is not None and w is not None:
        size = [w, h]
    model_dtype = str(info.dtype)
    if dtype is not None and dtype != model_dtype:
        raise ModelError(f"onnx.model: param dtype={dtype} conflicts with {where}, which takes "
                         f"{model_dtype}; drop the param or set it to {model_dtype}")
    if dtype is None and model_dtype not in FLOATS:
        raise ModelError(f"onnx.model: {where} takes {model_dtype}, not float image values; declare "
                         f"dtype: {model_dtype} (values are mapped to range and rounded) if it takes "
                         "pixels")
    return layout, channels, size, model_dtype


def to_image(raw: np.ndarray, spec: InputSpec, out_range: list[float] | None,
             height: int, width: int) -> np.ndarray:
    """A model's image output back to an IMAGE batch at (height, width), clipped to [0, 1]."""
    y = np.asarray(raw, np.float32)
    if y.ndim == 3:
        y = y[..., None] if spec.layout == "NHWC" else y[:, None]
    if y.ndim != 4:
        raise ModelError(f"onnx.model: output shape {list(raw.shape)} is not an image batch")
    if spec.layout == "NCHW":
        y = y.transpose(0, 2, 3, 1)
    if out_range is None and spec.mean is not None and spec.std is not None:
        y = y * np.asarray(spec.std, np.float32) + np.asarray(spec.mean, np.float32)
    else:
        lo, hi = (out_range or spec.range)[:2]
        y = (y - lo) / (hi - lo)
    if spec.color == "bgr" and y.shape[-1] == 3:
        y = y[..., ::-1]
    y = np.clip(y, 0.0, 1.0)
    return np.ascontiguousarray(resize(y, height, width, fast=False))


def to_labels(raw: np.ndarray, names: list[str] | None, top_k: int) -> list[list[Label]]:
    """Per item, the top-k classes (softmax unless the scores already are probabilities)."""
    scores = np.asarray(raw, np.float64).reshape(len(raw), -1)
    is_prob = np.all(scores >= 0) and np.all(scores <= 1) and np.allclose(scores.sum(-1), 1, atol=1e-3)
    if not is_prob:
        e = np.exp(scores - scores.max(-1, keepdims=True))
        scores = e / e.sum(-1, keepdims=True)
    n_cls = scores.shape[-1]
    if names is not None and len(names) != n_cls:
        raise ModelError(f"onnx.model: {len(names)} labels given but the model scores {n_cls} classes")
    names = names or [str(i) for i in range(n_cls)]
    order = np.argsort(-scores, axis=-1, kind="stable")[:, : min(top_k, n_cls)]
    return [[Label(names[j], float(row[j])) for j in idx] for row, idx in zip(scores, order, strict=True)]


@node(
    "onnx.model",
    category="model",
    inputs={"image": In(IMAGE, "images fed to the model through the adapter")},
    outputs={
        "image": Out(IMAGE, "output: image → the model's image (clipped); else the input unchanged"),
        "labels": Out(LABELS, "output: labels → top-k classes with scores; else empty"),
        "tensor": Out(LATENT, "the raw first (or output_name) output, flattened to (N, D)"),
    },
    params={
        "path": Model("onnx", doc="the .onnx file (relative to the graph's folder), or a registered "
                                  "model's name"),
        "layout": Choice(["NCHW", "NHWC"], None,
                         doc="the model's input layout (null: from its input shape, else NCHW)"),
        "channels": Choice(["RGB", "BGR", "GRAY"], None,
                           doc="the model's channel order (null: GRAY for a 1-channel input, else RGB)"),
        "range": Floats([0.0, 1.0], length=2, doc="value range the model expects, [lo, hi]"),
        "mean": Floats(None, optional=True, doc="per-channel mean (on [0, 1] values) instead of range"),
        "std": Floats(None, optional=True, doc="per-channel std, with mean"),
        "size": Ints(None, length=2, min=1, optional=True,
                     doc="[w, h] for fixed-size models (resize in, restore out); null: the model's "
                         "fixed size, else any size"),
        "dtype": Choice(list(DTYPES), None,
                        doc="the input's element type; required for a non-float input (values "
                            "are mapped to range, then rounded)"),
        "output": Choice(["image", "labels", "tensor"], "image", doc="what the model's output is"),
        "labels": Strings(None, optional=True, doc="class names for output: labels"),
        "top_k": Int(5, min=1, max=1000, doc="classes kept per image for output: labels"),
        "output_range": Floats(None, length=2, optional=True,
                               doc="value range of an image output (default: the input's mapping)"),
        "input_name": Str(None, optional=True, doc="the model input to feed (default: the first)"),
        "output_name": Str(None, optional=True, doc="the model output to read (default: the first)"),
    },
    version=2,
)
def onnx_model(ctx: Any, image: np.ndarray, path: str, layout: str | None, channels: str | None,
               range: list[float], mean: list[float] | None, std: list[float] | None,  # noqa: A002
               size: list[int] | None, dtype: str | None, output: str,
               labels: list[str] | None, top_k: int, output_range: list[float] | None,
               input_name: str | None, output_name: str | None) -> dict[str, Any]:
    """Run any ONNX model on images through a layout/colour/range/size adapter."""
    session = ctx.session("path")
    info = next((i for i in session.inputs if i.name == (input_name or session.input_names[0])), None)
    if info is None:
        raise ModelError(f"onnx.model: the model has no input '{input_name}' (has {session.input_names})")
    layout, channels, size, dtype = declared_params(info, layout, channels, size, dtype)
    spec = adapter_spec(info.name, layout, channels, range, mean, std, size, dtype)
    feeds = runtime.prepare_images(image, spec)
    out_name = output_name or session.output_names[0]
    if out_name not in session.output_names:
        raise ModelError(f"onnx.model: the model has no output '{out_name}' (has {session.output_names})")
    raw = session.run_batched({info.name: feeds}, outputs=[out_name])[out_name]
    n = len(image)
    result: dict[str, Any] = {"image": image, "labels": [[] for _ in image],
                              "tensor": np.asarray(raw).reshape(n, -1)}
    if output == "image":
        result["image"] = to_image(raw, spec, output_range, image.shape[1], image.shape[2])
    elif output == "labels":
        result["labels"] = to_labels(raw, labels, top_k)
    return result
