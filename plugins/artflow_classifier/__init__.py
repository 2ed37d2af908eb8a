"""artflow's built-in classifier plugin: the `classify.image` node, the shipped `digits` and
`shapes` models, and the `artflow train classifier` trainer.

Registered through the same `artflow` entry-point group a third-party plugin uses. Importing it
is light: no TensorFlow, no ONNX Runtime session until a node runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from artflow import hookimpl
from artflow.shipping import read_manifest, register_manifest

MODELS_DIR = Path(__file__).parent / "models"


def shipped_models() -> list[dict[str, Any]]:
    """The entries of models/manifest.json (name, kind, file, sha256, …), written by the ship step."""
    return read_manifest(MODELS_DIR)


@hookimpl
def register_nodes(register: Any) -> None:
    """Register `classify.image`."""
    from .node import NODES

    for spec in NODES:
        register(spec)


@hookimpl
def register_models(register: Any) -> None:
    """Register the shipped models with the sha256 recorded when they were shipped."""
    register_manifest(register, MODELS_DIR)


@hookimpl
def register_trainers(register: Any) -> None:
    """Register `artflow train classifier`."""
    from .train import train_classifier

    register("classifier", train_classifier)
