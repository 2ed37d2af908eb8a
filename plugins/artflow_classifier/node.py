"""`classify.image`: an IMAGE batch → LABELS (top-k classes with scores), through ONNX Runtime.

No TensorFlow: the model is an ONNX file with an artflow card, run by ``artflow.models``.
Preprocessing follows the card's input spec (size, channels, colour, value range); for models
whose card says ``extra.foreground == "light"`` (the digits: bright ink on dark), an image on a
light background is inverted first, and ``extra.normalize == "minmax"`` stretches each image to
the full range, so a dark-on-white drawing classifies as well as the training data.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from artflow import IMAGE, LABELS, In, Int, Label, Model, ModelError, Out, node
from artflow import models as runtime


def prepare(images: np.ndarray, card: Any) -> np.ndarray:
    """An IMAGE batch in the form the classifier's card declares (see module doc)."""
    spec = card.input() if card is not None else None
    x = runtime.prepare_images(images, spec)
    extra = card.extra if card is not None else {}
    if extra.get("foreground") == "light" or extra.get("normalize") == "minmax":
        lo_r, hi_r = (spec.range[:2] if spec is not None and spec.range else (0.0, 1.0))
        unit = (x - lo_r) / max(hi_r - lo_r, 1e-6)
        axes = tuple(range(1, unit.ndim))
        if extra.get("foreground") == "light":
            n = len(unit)
            edges = [unit[:, 0], unit[:, -1], unit[:, :, 0], unit[:, :, -1]]
            border = np.concatenate([e.reshape(n, -1) for e in edges], axis=1).mean(axis=1)
            flip = border > 0.5
            unit[flip] = 1.0 - unit[flip]
        if extra.get("normalize") == "minmax":
            lo = unit.min(axis=axes, keepdims=True)
            hi = unit.max(axis=axes, keepdims=True)
            unit = np.where(hi - lo > 1e-3, (unit - lo) / np.maximum(hi - lo, 1e-6), unit)
        x = (unit * (hi_r - lo_r) + lo_r).astype(np.float32)
    return x


def top_labels(probs: np.ndarray, labels: list[str], top_k: int) -> list[list[Label]]:
    """Per item, the ``top_k`` best classes as Labels, best first."""
    k = min(top_k, probs.shape[-1])
    order = np.argsort(-probs, axis=-1, kind="stable")[:, :k]
    names = labels if len(labels) == probs.shape[-1] else [str(i) for i in range(probs.shape[-1])]
    return [[Label(names[j], float(row[j])) for j in idx] for row, idx in zip(probs, order, strict=True)]


@node(
    "classify.image",
    category="model",
    inputs={"image": In(IMAGE, "images to classify (any size; resized to the model's input)")},
    outputs={"labels": Out(LABELS, "per image: the top-k classes with scores, best first")},
    params={
        "model": Model("classifier", "shapes",
                       doc="a registered classifier (shapes, digits) or a path to an .onnx with a card"),
        "top_k": Int(3, min=1, max=1000, doc="how many classes to keep per image"),
    },
    version=1,
)
def classify_image(ctx: Any, image: np.ndarray, model: str, top_k: int) -> list[list[Label]]:
    """Classify each image with an ONNX classifier; top-k labels with scores."""
    session = ctx.session("model")
    card = session.card
    if card is None:
        raise ModelError(f"model '{model}' has no artflow card: export it with `artflow export` "
                         "or wrap it with the onnx.model node")
    if card.kind and card.kind != "classifier":
        raise ModelError(f"model '{model}' is a {card.kind} model, not a classifier")
    feeds = prepare(image, card)
    name = next(iter(card.outputs), None) or session.output_names[0]
    probs = session.run_batched({session.input_names[0]: feeds})[name]
    return top_labels(np.asarray(probs, dtype=np.float32), card.labels, top_k)


NODES = [classify_image]
