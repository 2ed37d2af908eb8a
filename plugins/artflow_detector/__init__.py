"""artflow's built-in detector plugin: `detect.objects`, `detect.crop`, `composite.paste_boxes`,
the shipped `shapes` detector, the `artflow train detector` trainer and `artflow eval detector`.

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
    """Register `detect.objects`, `detect.crop` and `composite.paste_boxes`."""
    from .nodes import NODES

    for spec in NODES:
        register(spec)


@hookimpl
def register_models(register: Any) -> None:
    """Register the shipped detectors with the sha256 recorded when they were shipped."""
    register_manifest(register, MODELS_DIR)


@hookimpl
def register_trainers(register: Any) -> None:
    """Register `artflow train detector`."""
    from .train import train_detector

    register("detector", train_detector)


@hookimpl
def register_commands(cli: Any) -> None:
    """Add `artflow eval detector` (click only here; the evaluation loads when it runs)."""
    from .commands import add_to

    add_to(cli)


def node_bench(name: str, card: Any) -> tuple[Any, str, str]:
    """For benchmarks/run.py: a 256x256 shapes image → detect.objects (graph, source id, node id)."""
    import artflow as af

    g = af.Graph(seed=1)
    src = g.add("generate.shapes", width=256, height=256)
    found = g.add("detect.objects", image=src, model=name)
    return g, src.id, found.id
