"""Socket types and the canonical in-memory forms of the values that flow between nodes.

Every value is a *batch*: its first axis (or its outer list) has one entry per item.

- IMAGE: float32 ndarray, NHWC, values in [0, 1], RGB (C=3) or RGBA (C=4).
- MASK: float32 ndarray, NHW1, values in [0, 1].
- LATENT: float32 ndarray, (N, D).
- LABELS: list (one per item) of lists of :class:`Label`, best score first.
- BOXES: list (one per item) of lists of :class:`Box`, xyxy in pixels of that item's image.
- NUMBER: float64 ndarray, (N,).
- TEXT: list of str, one per item.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class SocketType:
    """A named kind of value a socket carries; types connect only to the same type."""

    name: str
    doc: str

    def __str__(self) -> str:
        return self.name


IMAGE = SocketType("IMAGE", "float32 NHWC batch in [0, 1], RGB or RGBA")
MASK = SocketType("MASK", "float32 NHW1 batch in [0, 1]")
LATENT = SocketType("LATENT", "float32 (N, D) latent vectors")
LABELS = SocketType("LABELS", "per item: class labels with scores, best first")
BOXES = SocketType("BOXES", "per item: boxes xyxy in pixels with label and score")
NUMBER = SocketType("NUMBER", "float64 (N,) one number per item")
TEXT = SocketType("TEXT", "one string per item")

SOCKET_TYPES: dict[str, SocketType] = {
    t.name: t for t in (IMAGE, MASK, LATENT, LABELS, BOXES, NUMBER, TEXT)
}


@dataclass(frozen=True)
class Label:
    """One class guess: its name and a score in [0, 1]."""

    label: str
    score: float

    def to_json(self) -> dict[str, Any]:
        return {"label": self.label, "score": float(self.score)}


@dataclass(frozen=True)
class Box:
    """One detection: xyxy in the pixels of the image it was found in, a label and a score."""

    box: tuple[float, float, float, float]
    label: str
    score: float

    def to_json(self) -> dict[str, Any]:
        return {"box": [float(v) for v in self.box], "label": self.label, "score": float(self.score)}


Labels = list[list[Label]]
Boxes = list[list[Box]]


def batch_size(socket: SocketType, value: Any) -> int:
    """Number of items in a value of the given socket type."""
    if isinstance(value, np.ndarray):
        return int(value.shape[0])
    return len(value)


def check_value(socket: SocketType, value: Any) -> str | None:
    """Return why ``value`` is not a valid batch of ``socket``, or None when it is."""
    if socket in (IMAGE, MASK, LATENT, NUMBER):
        if not isinstance(value, np.ndarray):
            return f"expected a numpy array for {socket}, got {type(value).__name__}"
        want_ndim = {IMAGE: 4, MASK: 4, LATENT: 2, NUMBER: 1}[socket]
        if value.ndim != want_ndim:
            return f"expected {want_ndim} dimensions for {socket}, got shape {value.shape}"
        if socket is IMAGE and value.shape[-1] not in (1, 3, 4):
            return f"expected 1, 3 or 4 channels for IMAGE, got shape {value.shape}"
        if socket is MASK and value.shape[-1] != 1:
            return f"expected one channel for MASK, got shape {value.shape}"
        return None
    if socket is TEXT:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return "expected a list of str for TEXT"
        return None
    if socket in (LABELS, BOXES):
        item_type = Label if socket is LABELS else Box
        if not isinstance(value, list) or not all(
            isinstance(item, list) and all(isinstance(v, item_type) for v in item) for item in value
        ):
            return f"expected a list (per item) of lists of {item_type.__name__} for {socket}"
        return None
    return None


def to_json(socket: SocketType, value: Any) -> Any:
    """The JSON summary of a value, as `artflow run --json` prints it."""
    if socket in (IMAGE, MASK, LATENT):
        return {"shape": list(value.shape)}
    if socket is NUMBER:
        return [float(v) for v in value]
    if socket is TEXT:
        return list(value)
    if socket in (LABELS, BOXES):
        return [[v.to_json() for v in item] for item in value]
    return None
