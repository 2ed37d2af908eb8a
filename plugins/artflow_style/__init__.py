"""artflow's style plugin: the `style.transfer` and `onnx.model` nodes, the shipped styles and
`artflow train style`.

Registered through the same `artflow` entry-point group a third-party plugin uses. Importing it
is light: no TensorFlow and no ONNX Runtime session until a node runs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from artflow import hookimpl

MODELS_DIR = Path(__file__).parent / "models"


def shipped_models() -> list[dict[str, Any]]:
    """The entries of models/manifest.json (name, kind, file, sha256, style_image, …)."""
    manifest = MODELS_DIR / "manifest.json"
    if not manifest.is_file():
        return []
    return list(json.loads(manifest.read_text()).get("models", []))


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
    for item in shipped_models():
        extra = {k: v for k, v in item.items()
                 if k not in ("name", "kind", "file", "sha256", "keras", "style_image")}
        if item.get("keras"):
            extra["keras"] = str(MODELS_DIR / item["keras"])
        if item.get("style_image"):
            extra["style_image"] = str(MODELS_DIR / item["style_image"])
        register(name=item["name"], kind=item["kind"], path=MODELS_DIR / item["file"],
                 sha256=item["sha256"], **extra)


@hookimpl
def register_trainers(register: Any) -> None:
    """Register `artflow train style`."""
    from .train import train_style

    register("style", train_style)
