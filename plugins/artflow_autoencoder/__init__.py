"""artflow's autoencoder plugin: `ae.encode`, `ae.decode`, `ae.blend`, the shipped `photo`
autoencoder and `artflow train autoencoder`.

A convolutional autoencoder trained on photo and texture patches: the encoder maps an IMAGE to a
spatial latent (LATENT_MAP, (N, h/4, w/4, c)), the decoder maps it back; both are fully
convolutional, so any image size works. They ship as two ONNX models of kinds ``ae_encoder`` and
``ae_decoder`` under one name. Importing the plugin is light: no TensorFlow, no session.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from artflow import hookimpl
from artflow.shipping import read_manifest, register_manifest

MODELS_DIR = Path(__file__).parent / "models"


def shipped_models() -> list[dict[str, Any]]:
    """The entries of models/manifest.json."""
    return read_manifest(MODELS_DIR)


@hookimpl
def register_nodes(register: Any) -> None:
    """Register `ae.encode`, `ae.decode` and `ae.blend`."""
    from .nodes import NODES

    for spec in NODES:
        register(spec)


@hookimpl
def register_models(register: Any) -> None:
    """Register the shipped encoder/decoder pairs with their sha256."""
    register_manifest(register, MODELS_DIR)


@hookimpl
def register_trainers(register: Any) -> None:
    """`artflow train autoencoder`, built on first use (no TensorFlow at plugin load)."""

    def factory() -> Any:
        from .train import train_autoencoder

        return train_autoencoder

    register("autoencoder", factory)
