"""`classify.image`: an IMAGE batch → LABELS (top-k classes with scores), through ONNX Runtime.

No TensorFlow: the model is an ONNX file with an artflow card, run by ``artflow.models``.
Preprocessing follows the card's input spec (size, channels, colour, value range); for models
whose card says ``extra.foreground == "light"`` (the digits: bright ink on dark), an image on a
light background is inverted first, and ``extra.normalize == "minmax"`` stretches each image to
the full range, so a dark-on-white drawing classifies as well as the training data.

Out-of-distribution honesty: a classifier knows only its training domain (the shipped ``shapes``
knows five drawn shapes, ``digits`` 8×8 digits), and a softmax always names one of its classes.
When the card has ``extra.temperature`` the probabilities are softened by it (calibrated on
validation data), and when the best calibrated score is under ``extra.unknown_below`` the answer
is ``unknown`` (score: the share of correct validation answers more confident than this one, from
``extra.confidence_quantiles``; else 1 − the best class's), followed by the classes; ``unknown = false``
turns this off. The card's ``extra.domain`` says what the model knows.

A softmax threshold misses confident mistakes (the digits model calls a photo of a rocket "4" at
0.93). Where the card also has ``extra.domain_check`` (a principal subspace of the prepared
training inputs and the distribution of validation images' distances to it), an input farther
from the training data than the check's threshold (a high quantile of in-domain distances) is
``unknown`` too, scored by the share of in-domain validation images that lie closer.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from artflow import IMAGE, LABELS, Bool, In, Int, Label, Model, Out, node
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


def softened(probs: np.ndarray, temperature: float) -> np.ndarray:
    """Probabilities with their logits divided by ``temperature``: softmax(log p / T)."""
    if temperature == 1.0:
        return np.asarray(probs, np.float32)
    z = np.log(np.clip(np.asarray(probs, np.float64), 1e-12, 1.0)) / temperature
    z -= z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return (e / e.sum(axis=-1, keepdims=True)).astype(np.float32)


def share_below(values: Any, quantiles: list[float]) -> np.ndarray:
    """Where ``values`` fall in a distribution given by its quantiles at 0, 1, …, 100 %: the
    share of it below each value (0..1)."""
    q = np.asarray(quantiles, np.float64)
    return np.interp(values, q, np.linspace(0.0, 1.0, len(q)))


def unknown_first(row: list[Label], score: float) -> list[Label]:
    """``unknown`` with ``score`` first, then the row's classes (as many labels as before)."""
    return [Label("unknown", round(float(score), 6)), *row[: max(0, len(row) - 1)]]


def with_unknown(rows: list[list[Label]], threshold: float | None,
                 quantiles: list[float] | None = None) -> list[list[Label]]:
    """Put ``unknown`` first where the best class scores under ``threshold``. Its score: the share
    of correct validation answers that were more confident than this one (from the card's
    ``confidence_quantiles``: 0.99 means only 1 % of in-domain answers were this unsure), else
    1 − best."""
    if threshold is None:
        return rows
    out = []
    for row in rows:
        if row and row[0].score < threshold:
            best = row[0].score
            row = unknown_first(row, 1.0 - (float(share_below(best, quantiles)) if quantiles else best))
        out.append(row)
    return out


def subspace_residual(x: np.ndarray, mean: Any, basis: Any) -> np.ndarray:
    """Per item: the distance of flattened ``x`` from the affine subspace ``mean + span(basis)``."""
    centred = np.asarray(x, np.float64).reshape(len(x), -1) - np.asarray(mean, np.float64)
    basis = np.asarray(basis, np.float64)
    return np.linalg.norm(centred - (centred @ basis.T) @ basis, axis=1)


def domain_outside(feeds: np.ndarray, check: dict[str, Any]) -> np.ndarray:
    """Per item: the share of in-domain validation images closer to the training inputs'
    principal subspace than this one (0..1), or -1 where it is within the check's threshold."""
    if int(np.prod(feeds.shape[1:])) != len(check["mean"]):
        return np.full(len(feeds), -1.0)
    residual = subspace_residual(feeds, check["mean"], check["components"])
    return np.where(residual > float(check["threshold"]), share_below(residual, check["quantiles"]), -1.0)


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
        "model": Model("classifier", "shapes", card=True,
                       doc="the classifier: a registered one or a path to an .onnx with a card"),
        "top_k": Int(3, min=1, max=1000, doc="how many classes to keep per image"),
        "unknown": Bool(True, doc="answer 'unknown' first when the best calibrated score is under the "
                                  "model card's unknown_below threshold"),
    },
    version=2,
)
def classify_image(ctx: Any, image: np.ndarray, model: str, top_k: int,
                   unknown: bool = True) -> list[list[Label]]:
    """Classify each image with an ONNX classifier; top-k labels with scores (``unknown`` first
    when the model is not confident enough for its calibrated threshold)."""
    session = ctx.session("model")
    card = session.card  # present and a classifier's: the engine checked it (af.Model card=True)
    feeds = prepare(image, card)
    # by name: a card's outputs are stored sorted, and a transfer classifier also has `features`
    name = "probs" if "probs" in card.outputs else next(iter(card.outputs), None) or session.output_names[0]
    probs = session.run_batched({session.input_names[0]: feeds}, outputs=[name])[name]
    probs = softened(np.asarray(probs, dtype=np.float32), float(card.extra.get("temperature", 1.0)))
    threshold = card.extra.get("unknown_below") if unknown else None
    rows = with_unknown(top_labels(probs, card.labels, top_k), threshold,
                        card.extra.get("confidence_quantiles"))
    check = card.extra.get("domain_check") if unknown else None
    if check:
        for i, share in enumerate(domain_outside(feeds, check)):
            if share >= 0 and rows[i] and rows[i][0].label != "unknown":
                rows[i] = unknown_first(rows[i], share)
    return rows


NODES = [classify_image]
