"""Model cards: what a model is, what it takes and gives, how it was trained and how well it does.

A card travels inside its ONNX file, in ``metadata_props`` (string keys and values), so a model
file is self-describing wherever it is copied. Keys carry the prefix ``artflow.``; structured
fields are JSON::

    artflow.card      "1"                      (card format version)
    artflow.kind      "classifier"             (generator, style, classifier, detector, or a plugin's)
    artflow.name      "digits"
    artflow.inputs    [{"name": "image", "layout": "NHWC", "size": [8, 8], "channels": 1,
                        "range": [0, 1], "dtype": "float32", "color": "gray"}]
    artflow.outputs   {"probs": "class probabilities (softmax), one per label"}
    artflow.labels    ["0", "1", ...]
    artflow.latent_size  null
    artflow.train.trainer  {"command": "...", "data": "...", "seed": 0, "settings": {...}}
    artflow.metrics   {"accuracy": 0.99, "parity_max_abs_diff": 3e-7}
    artflow.versions  {"tensorflow": "2.21.0", "onnxruntime": "1.31.1", ...}
    artflow.extra     {...}                    (anything a plugin wants to keep)

Reading needs only ONNX Runtime (``read_card``); writing needs the ``onnx`` package and is done
by the exporter (``write_card``). This module imports neither at import time.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

PREFIX = "artflow."
CARD_VERSION = "1"

_JSON_FIELDS = ("inputs", "outputs", "labels", "latent_size", "training", "metrics", "versions", "extra")


@dataclass
class InputSpec:
    """One model input as the model expects it.

    ``layout``: ``NHWC``, ``NCHW`` (images) or ``NC`` (vectors such as latents or class ids).
    ``size``: ``[height, width]``, or None when the model takes any size.
    ``range``: the value range the model expects, e.g. ``[0, 1]`` or ``[-1, 1]``; ``mean``/``std``
    (per channel) when it expects standardised values instead.
    ``color``: ``rgb``, ``bgr`` or ``gray`` for images; empty otherwise.
    """

    name: str
    layout: str = "NHWC"
    size: list[int] | None = None
    channels: int | None = 3
    range: list[float] = field(default_factory=lambda: [0.0, 1.0])
    dtype: str = "float32"
    color: str = "rgb"
    mean: list[float] | None = None
    std: list[float] | None = None

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        # size and channels are written even when null (any size / any channel count): a missing
        # key reads as the default (3 channels), so dropping a null would change the card
        return {k: v for k, v in out.items() if v is not None or k in ("size", "channels")}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> InputSpec:
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**known)


@dataclass
class ModelCard:
    """Everything a node, `artflow models` and a person need to know about a model file."""

    kind: str
    name: str
    inputs: list[InputSpec] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)
    labels: list[str] = field(default_factory=list)
    latent_size: int | None = None
    training: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    description: str = ""

    def input(self, name: str | None = None) -> InputSpec | None:
        """The input spec by name, or the first one."""
        if not self.inputs:
            return None
        if name is None:
            return self.inputs[0]
        return next((i for i in self.inputs if i.name == name), None)

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["inputs"] = [i.to_json() for i in self.inputs]
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ModelCard:
        inputs = [InputSpec.from_json(i) for i in data.get("inputs") or []]
        return cls(
            kind=str(data.get("kind", "")),
            name=str(data.get("name", "")),
            inputs=inputs,
            outputs=dict(data.get("outputs") or {}),
            labels=[str(v) for v in data.get("labels") or []],
            latent_size=data.get("latent_size"),
            training=dict(data.get("training") or {}),
            metrics=dict(data.get("metrics") or {}),
            versions={str(k): str(v) for k, v in (data.get("versions") or {}).items()},
            extra=dict(data.get("extra") or {}),
            description=str(data.get("description", "")),
        )

    def to_metadata(self) -> dict[str, str]:
        """The card as ONNX ``metadata_props`` key/values (all strings)."""
        out = {
            PREFIX + "card": CARD_VERSION,
            PREFIX + "kind": self.kind,
            PREFIX + "name": self.name,
            PREFIX + "description": self.description,
        }
        data = self.to_json()
        for key in _JSON_FIELDS:
            out[PREFIX + key] = json.dumps(data[key], sort_keys=True, default=_json_default)
        return out

    @classmethod
    def from_metadata(cls, meta: dict[str, str]) -> ModelCard | None:
        """The card in a model's metadata, or None when it carries none (or an unreadable one)."""
        if PREFIX + "kind" not in meta:
            return None
        data: dict[str, Any] = {
            "kind": meta.get(PREFIX + "kind", ""),
            "name": meta.get(PREFIX + "name", ""),
            "description": meta.get(PREFIX + "description", ""),
        }
        try:
            for key in _JSON_FIELDS:
                if PREFIX + key in meta:
                    data[key] = json.loads(meta[PREFIX + key])
            return cls.from_json(data)
        except (ValueError, TypeError):
            return None


def _json_default(value: Any) -> Any:
    """numpy scalars and arrays, paths: whatever a trainer may put in metrics or settings."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot store {type(value).__name__} in a model card")


def write_card(model_proto: Any, card: ModelCard) -> Any:
    """Put the card into an ``onnx.ModelProto``'s metadata_props (replacing any artflow keys).

    Other metadata is kept. Returns the same proto, changed in place.
    """
    keep = [(p.key, p.value) for p in model_proto.metadata_props if not p.key.startswith(PREFIX)]
    del model_proto.metadata_props[:]
    for key, value in keep + sorted(card.to_metadata().items()):
        prop = model_proto.metadata_props.add()
        prop.key = key
        prop.value = value
    return model_proto


def read_card(path: str | Path) -> ModelCard | None:
    """The card of an ONNX file, or None when it has none; read once per file state (FileStamp).

    Uses ONNX Runtime only (no ``onnx`` package), with graph optimisation off and logging quiet.
    Raises ModelError when the file is missing or is not an ONNX model.
    """
    from . import files

    stamp = files.FileStamp.of(path)
    card = files.recall(stamp, "card")
    if card is files.MISSING:
        card = files.remember(stamp, "card", ModelCard.from_metadata(_read_metadata(Path(stamp.path))))
    return card


def remember_card(path: str | Path, meta: dict[str, str]) -> ModelCard | None:
    """Remember the card from metadata already read (a session does this when it opens)."""
    from ..errors import ModelError
    from . import files

    card = ModelCard.from_metadata(meta)
    try:
        return files.remember(files.FileStamp.of(path), "card", card)
    except ModelError:
        return card


def _read_metadata(path: Path) -> dict[str, str]:
    from ..errors import ModelError, describe
    from .providers import onnxruntime

    ort = onnxruntime()
    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.intra_op_num_threads = 1
    try:
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # noqa: BLE001 - onnxruntime raises several unrelated types
        raise ModelError(f"'{path}' is not a readable ONNX model "
                         f"({describe(exc, with_type=False)[:200]})") from None
    return dict(session.get_modelmeta().custom_metadata_map)
