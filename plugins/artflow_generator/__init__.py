"""artflow's GAN generator plugin: `gan.generate` and `gan.interpolate` nodes, the `artflow train gan`
trainer, and the shipped generator models (`digits`, class-conditional 8×8; `art`, 64×64 colour)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from artflow import hookimpl

MODELS_DIR = Path(__file__).parent / "models"
MANIFEST = MODELS_DIR / "manifest.json"


@hookimpl
def register_nodes(register: Any) -> None:
    """Register the generator nodes (no TensorFlow, no model loaded)."""
    from .nodes import NODES

    for spec in NODES:
        register(spec)


@hookimpl
def register_models(register: Any) -> None:
    """Register each shipped generator with the sha256 recorded in models/manifest.json."""
    if not MANIFEST.is_file():
        return
    for name, entry in json.loads(MANIFEST.read_text()).items():
        register(name=name, kind="generator", path=MODELS_DIR / entry["file"], sha256=entry["sha256"])


@hookimpl
def register_trainers(register: Any) -> None:
    """`artflow train gan`: built on first use, so plugin loading stays free of TensorFlow."""

    def factory() -> Any:
        from .train import train_gan

        return train_gan

    register("gan", factory)


def node_bench(name: str, card: Any) -> tuple[Any, str, str]:
    """The graph `benchmarks/run.py` times for a shipped generator: one image from `gan.generate`."""
    import artflow as af

    g = af.Graph(seed=1)
    g.add("gan.generate", "gen", model=name, count=1)
    return g, "", "gen"
