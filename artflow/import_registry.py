"""What plugins give `artflow import`: output decoders (raw model outputs → artflow's outputs, in
TensorFlow ops, built into the ONNX graph) and custom Keras layers for TF.js layers models.

Plugins contribute both through hooks (``register_import_decoders``, ``register_import_layers``);
core keeps only the generic decoders (identity, image, mask, in
:mod:`artflow.train.import_decoders`). Nothing here imports TensorFlow: a decoder or a layer
builder imports it inside its function, when an import runs.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

#: decoder(raw outputs by name, the spec's [decode] table, the model or None) -> outputs by name
Decoder = Callable[[dict[str, Any], dict[str, Any], Any], dict[str, Any]]
#: build(the layer's Keras config) -> a Keras layer
LayerBuilder = Callable[[dict[str, Any]], Any]
_NAME = re.compile(r"[A-Za-z][\w.-]{0,63}")
#: the decoders core keeps (artflow.train.import_decoders); a plugin cannot take these names
CORE_DECODERS = ("identity", "image", "mask")


@dataclass
class ImportDecoder:
    """A named decoder: the function, its one-line doc, who gave it, the label sets a spec may name
    (``labels = "classes"``) and, for Keras sources, how to get the raw outputs from the model."""

    name: str
    decode: Decoder
    doc: str = ""
    plugin: str = ""
    labels: dict[str, list[str]] = field(default_factory=dict)
    keras_outputs: Callable[[Any, Any], Callable[[Any], dict[str, Any]]] | None = None


@dataclass
class ImportLayer:
    """A custom Keras layer class a TF.js layers model may use, and who gave it."""

    class_name: str
    build: LayerBuilder
    plugin: str = ""


@dataclass
class ImportRegistry:
    """Decoders and custom layers by name (the plugin manager fills it; first come owns a name)."""

    decoders: dict[str, ImportDecoder] = field(default_factory=dict)
    layers: dict[str, ImportLayer] = field(default_factory=dict)

    def add_decoder(self, plugin: str, name: Any, decode: Any, *, doc: str = "",
                    labels: dict[str, list[str]] | None = None, keras_outputs: Any = None) -> None:
        """Check and add one decoder (ValueError says what is wrong with the registration)."""
        if not isinstance(name, str) or not _NAME.fullmatch(name) or not callable(decode):
            raise ValueError("register it as register('name', decode_function, doc='…')")
        if name in CORE_DECODERS:
            raise ValueError(f"'{name}' is a core decoder ({', '.join(CORE_DECODERS)}); pick another name")
        if keras_outputs is not None and not callable(keras_outputs):
            raise ValueError("keras_outputs must be a function (model, spec) -> outputs function")
        sets = dict(labels or {})
        if not all(isinstance(k, str) and isinstance(v, (list, tuple)) and all(isinstance(x, str) for x in v)
                   for k, v in sets.items()):
            raise ValueError("labels must map a set name to a list of class names")
        self.decoders[name] = ImportDecoder(name, decode, doc or summary(decode), plugin,
                                            {k: list(v) for k, v in sets.items()}, keras_outputs)

    def add_layer(self, plugin: str, class_name: Any, build: Any) -> None:
        """Check and add one custom layer class."""
        if not isinstance(class_name, str) or not re.fullmatch(r"[A-Za-z]\w{0,63}", class_name) \
                or not callable(build):
            raise ValueError("register it as register('ClassName', build), build(config) -> a Keras layer")
        self.layers[class_name] = ImportLayer(class_name, build, plugin)

    def label_set(self, name: str) -> list[str] | None:
        """A named label set any decoder declares (``labels = "classes"`` in a spec)."""
        for dec in self.decoders.values():
            if name in dec.labels:
                return list(dec.labels[name])
        return None


def summary(fn: Any) -> str:
    """The first sentence of a function's docstring, on one line (for `artflow import --help`)."""
    doc = " ".join((getattr(fn, "__doc__", None) or "").strip().split("\n\n")[0].split())
    first = doc.split(". ")[0].rstrip(".")
    return first.replace("``", "") + ("." if first else "")
