"""Socket types and the canonical in-memory forms of the values that flow between nodes.

Every value is a *batch*: its first axis (or its outer list) has one entry per item.

- IMAGE: float32 ndarray, NHWC, values in [0, 1], RGB (C=3) or RGBA (C=4) (C=1: gray).
- MASK: float32 ndarray, NHW1, values in [0, 1].
- LATENT: float32 ndarray, (N, D).
- LATENT_MAP: float32 ndarray, (N, h, w, c): a spatial latent (an autoencoder's code).
- NUMBER: float64 ndarray, (N,).
- TEXT: list of str, one per item.
- LABELS: list (one per item) of lists of :class:`Label`, best score first.
- BOXES: list (one per item) of lists of :class:`Box`, xyxy in pixels of that item's image.
- POSES: list (one per item) of lists of people, each
  ``{"points": [{"name", "x", "y", "score"}], "score"}`` with x, y in pixels.

A socket type owns its value check, its cache encoding and its JSON summary, so a plugin adds a
type by making an instance (of :class:`ArraySocket`, :class:`JsonSocket` or its own subclass of
:class:`SocketType`); sockets connect only to the same type (by name).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np


class SocketType:
    """A named kind of value; subclasses say how to check, store and summarise a batch of it."""

    name: str
    doc: str

    def __init__(self, name: str, doc: str):
        self.name = name
        self.doc = doc

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"<socket type {self.name}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SocketType) and other.name == self.name

    def __hash__(self) -> int:
        return hash(self.name)

    def check(self, value: Any) -> str | None:
        """Why ``value`` is not a valid batch of this type, or None when it is."""
        return None

    def normalize(self, value: Any) -> Any:
        """The canonical form of a produced value (dtype, read-only arrays)."""
        return value

    def batch_size(self, value: Any) -> int:
        return int(value.shape[0]) if isinstance(value, np.ndarray) else len(value)

    def nbytes(self, value: Any) -> int:
        return int(value.nbytes) if isinstance(value, np.ndarray) else 256 * max(1, len(value))

    def encode(self, value: Any) -> tuple[str, Any]:
        """For the cache: ``("array", ndarray)`` or ``("json", JSON data)``."""
        return "json", value

    def decode(self, kind: str, data: Any) -> Any:
        """The inverse of :meth:`encode`."""
        return data

    def summary(self, value: Any) -> Any:
        """The JSON summary `artflow run --json` prints."""
        return None


class ArraySocket(SocketType):
    """A numpy batch of a fixed number of dimensions (and optionally channel counts)."""

    def __init__(self, name: str, doc: str, *, ndim: int, dtype: Any = np.float32,
                 channels: tuple[int, ...] | None = None):
        super().__init__(name, doc)
        self.ndim = ndim
        self.dtype = np.dtype(dtype)
        self.channels = channels

    def check(self, value: Any) -> str | None:
        if not isinstance(value, np.ndarray):
            return f"expected a numpy array for {self.name}, got {type(value).__name__}"
        if value.ndim != self.ndim:
            return f"expected {self.ndim} dimensions for {self.name}, got shape {value.shape}"
        if self.channels is not None and value.shape[-1] not in self.channels:
            allowed = " or ".join(str(c) for c in self.channels)
            return f"expected {allowed} channel(s) for {self.name}, got shape {value.shape}"
        return None

    def normalize(self, value: Any) -> Any:
        if isinstance(value, np.ndarray) and value.dtype != self.dtype:
            value = value.astype(self.dtype)
        if isinstance(value, np.ndarray):
            value.setflags(write=False)
        return value

    def encode(self, value: Any) -> tuple[str, Any]:
        return "array", np.ascontiguousarray(value)

    def decode(self, kind: str, data: Any) -> Any:
        if kind != "array":
            raise ValueError(f"{self.name} entries are arrays")
        return self.normalize(np.asarray(data))

    def summary(self, value: Any) -> Any:
        if self.ndim == 1:
            return [float(v) for v in value]
        return {"shape": list(value.shape)}


class JsonSocket(SocketType):
    """A per-item list of JSON-able values; ``item`` converts one record to/from JSON."""

    def __init__(self, name: str, doc: str, *, check_item: Callable[[Any], str | None] | None = None,
                 to_json: Callable[[Any], Any] | None = None,
                 from_json: Callable[[Any], Any] | None = None, nested: bool = True):
        super().__init__(name, doc)
        self._check_item = check_item
        self._to_json = to_json or (lambda v: v)
        self._from_json = from_json or (lambda v: v)
        self.nested = nested  # a list per item (LABELS, BOXES) or one value per item (TEXT)

    def check(self, value: Any) -> str | None:
        if not isinstance(value, list):
            return f"expected a list (one entry per item) for {self.name}, got {type(value).__name__}"
        for item in value:
            records = item if self.nested else [item]
            if self.nested and not isinstance(item, list):
                return f"expected a list per item for {self.name}, got {type(item).__name__}"
            for record in records:
                problem = self._check_item(record) if self._check_item else None
                if problem:
                    return f"{self.name}: {problem}"
        return None

    def encode(self, value: Any) -> tuple[str, Any]:
        return "json", self.summary(value)

    def decode(self, kind: str, data: Any) -> Any:
        if kind != "json":
            raise ValueError(f"{self.name} entries are JSON")
        if self.nested:
            return [[self._from_json(v) for v in item] for item in data]
        return [self._from_json(v) for v in data]

    def summary(self, value: Any) -> Any:
        if self.nested:
            return [[self._to_json(v) for v in item] for item in value]
        return [self._to_json(v) for v in value]


@dataclass(frozen=True)
class Label:
    """One class guess: its name and a score in [0, 1]."""

    label: str
    score: float

    def to_json(self) -> dict[str, Any]:
        return {"label": self.label, "score": float(self.score)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Label:
        return cls(str(data["label"]), float(data["score"]))


@dataclass(frozen=True)
class Box:
    """One detection: xyxy in the pixels of the image it was found in, a label and a score."""

    box: tuple[float, float, float, float]
    label: str
    score: float

    def to_json(self) -> dict[str, Any]:
        return {"box": [float(v) for v in self.box], "label": self.label, "score": float(self.score)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Box:
        x0, y0, x1, y1 = (float(v) for v in data["box"])
        return cls((x0, y0, x1, y1), str(data["label"]), float(data["score"]))


def _instance_of(kind: type) -> Callable[[Any], str | None]:
    return lambda v: None if isinstance(v, kind) else f"expected {kind.__name__}, got {type(v).__name__}"


def _check_person(person: Any) -> str | None:
    if not isinstance(person, dict) or not isinstance(person.get("points"), list):
        return "a person is a dict with 'points' (a list) and 'score'"
    for point in person["points"]:
        if not isinstance(point, dict) or not {"name", "x", "y", "score"} <= set(point):
            return "a keypoint is a dict with name, x, y and score"
    return None


def _person_json(person: dict[str, Any]) -> dict[str, Any]:
    return {"points": [{"name": str(p["name"]), "x": float(p["x"]), "y": float(p["y"]),
                        "score": float(p["score"])} for p in person["points"]],
            "score": float(person.get("score", 0.0))}


IMAGE = ArraySocket("IMAGE", "float32 NHWC batch in [0, 1], RGB or RGBA", ndim=4, channels=(1, 3, 4))
MASK = ArraySocket("MASK", "float32 NHW1 batch in [0, 1]", ndim=4, channels=(1,))
LATENT = ArraySocket("LATENT", "float32 (N, D) latent vectors", ndim=2)
LATENT_MAP = ArraySocket("LATENT_MAP", "float32 (N, h, w, c) spatial latent maps", ndim=4)
NUMBER = ArraySocket("NUMBER", "float64 (N,) one number per item", ndim=1, dtype=np.float64)
TEXT = JsonSocket("TEXT", "one string per item", check_item=_instance_of(str), nested=False)
LABELS = JsonSocket("LABELS", "per item: class labels with scores, best first",
                    check_item=_instance_of(Label), to_json=Label.to_json, from_json=Label.from_json)
BOXES = JsonSocket("BOXES", "per item: boxes xyxy in pixels with label and score",
                   check_item=_instance_of(Box), to_json=Box.to_json, from_json=Box.from_json)
POSES = JsonSocket("POSES", "per item: people, each with named keypoints (x, y in pixels) and a score",
                   check_item=_check_person, to_json=_person_json, from_json=_person_json)

#: the core socket types by name (plugins may make more)
SOCKET_TYPES: dict[str, SocketType] = {
    t.name: t for t in (IMAGE, MASK, LATENT, LATENT_MAP, LABELS, BOXES, POSES, NUMBER, TEXT)
}

Labels = list[list[Label]]
Boxes = list[list[Box]]


def batch_size(socket: SocketType, value: Any) -> int:
    """Number of items in a value of the given socket type."""
    return socket.batch_size(value)


def check_value(socket: SocketType, value: Any) -> str | None:
    """Return why ``value`` is not a valid batch of ``socket``, or None when it is."""
    return socket.check(value)


def to_json(socket: SocketType, value: Any) -> Any:
    """The JSON summary of a value, as `artflow run --json` prints it."""
    return socket.summary(value)
