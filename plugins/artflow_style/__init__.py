"""artflow's style plugin: the `style.transfer` and `onnx.model` nodes, the shipped styles and
`artflow train style`.

Registered through the same `artflow` entry-point group a third-party plugin uses. Importing it
is light: no TensorFlow and no ONNX Runtime session until a node runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from artflow import hookimpl
from artflow.shipping import read_manifest, register_manifest

MODELS_DIR = Path(__file__).parent / "models"


def shipped_models() -> list[dict[str, Any]]:
    """The entries of models/manifest.json (name, kind, file, sha256, files: keras and style_image, …)."""
    return read_manifest(MODELS_DIR)


@hookimpl
def register_nodes(register: Any) -> None:
    """Register `style.transfer` and `onnx.model`."""
    from .onnx_node import onnx_model
    from .transfer import style_transfer

    register(style_transfer)
    register(onnx_model)


@hookimpl
def register_models(register: Any) -> None:
    """Register the shipped styles with their sha256 and style image."""
    register_manifest(register, MODELS_DIR)


@hookimpl
def register_trainers(register: Any) -> None:
    """Register `artflow train style`."""
    from .train import train_style

    register("style", train_style)
