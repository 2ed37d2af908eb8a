"""`gan.generate` and `gan.interpolate`: images from a generator ONNX model via ONNX Runtime.

No TensorFlow here. A generator model takes ``z`` (float32 [N, latent]) and, when it is
class-conditional, ``label`` (int32 class ids, [N, 1] or [N]); it returns ``image`` (float32 NHWC
in [0, 1]).

Reproducibility: item ``k`` (``start + i``) draws its latent from ``ctx.rng(k)`` — or from
(seed, k) alone when ``seed`` is set — so ``count=1, start=k`` re-renders item k of a larger run.
Classes: ``label=-1`` cycles through the classes by item key (item k gets class k mod classes),
so a run of ``count = classes`` shows each class once; ``label=c`` gives every item class c.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from artflow import IMAGE, LATENT, Choice, Float, Int, Model, NodeContext, Out, node
from artflow.errors import ModelError

from .latents import draw_latent, lerp, seeded_rng, slerp


class GeneratorModel:
    """A generator session and what its card says: latent size, classes, output channels."""

    def __init__(self, ctx: NodeContext, model: str) -> None:
        self.session = ctx.session("model")
        card = self.session.card
        shapes = self.session.input_shapes
        if "z" not in shapes:
            raise ModelError(f"node '{ctx.node_id}': model '{model}' has no input 'z' "
                            f"(inputs: {self.session.input_names}); is it a generator?")
        latent = shapes["z"][-1] or (card.latent_size if card else None)
        if not latent:
            raise ModelError(f"node '{ctx.node_id}': model '{model}' does not say its latent size")
        self.latent = int(latent)
        self.conditional = "label" in shapes
        self.label_rank = len(shapes.get("label") or (None,))
        self.labels: list[str] = list(card.labels) if card else []
        self.classes = len(self.labels) if self.conditional else 0
        if self.conditional and not self.classes:
            raise ModelError(f"node '{ctx.node_id}': conditional model '{model}' has no labels in its card")

    def class_for(self, ctx: NodeContext, label: int, key: int) -> int:
        """The class of item ``key``: ``label`` itself, or cycling through classes when -1."""
        if not self.conditional:
            return 0
        if label >= self.classes:
            raise ModelError(f"node '{ctx.node_id}': label {label} is out of range; the model has "
                            f"{self.classes} classes (0..{self.classes - 1}: {', '.join(self.labels)})")
        return label if label >= 0 else key % self.classes

    def run(self, z: np.ndarray, classes: np.ndarray) -> np.ndarray:
        feeds: dict[str, np.ndarray] = {"z": z.astype(np.float32)}
        if self.conditional:
            labels = classes.astype(np.int32)
            feeds["label"] = labels[:, None] if self.label_rank == 2 else labels
        image = self.session.run_batched(feeds, outputs=["image"])["image"]
        return np.ascontiguousarray(image, dtype=np.float32)


def item_latent(ctx: NodeContext, seed: int | None, key: int, size: int, truncation: float) -> np.ndarray:
    """The latent of item ``key``: from (seed, key) when a seed is given, else ``ctx.rng(key)``."""
    rng = seeded_rng(seed, key) if seed is not None else ctx.rng(key)
    return draw_latent(rng, size, truncation)


_MODEL = Model("generator", "digits", doc="registered generator name or path to a generator .onnx")
_LABEL = Int(-1, min=-1, doc="class index for conditional models; -1 cycles through the classes by item")
_TRUNC = Float(1.0, min=0.0, max=1.0,
               doc="truncation ψ: latents scaled by ψ toward the mean (1 = full variety, lower = typical)")


@node(
    "gan.generate",
    category="generate",
    deterministic=False,  # with seed = null the latents come from the graph seed (ctx.rng)
    outputs={"image": Out(IMAGE, "generated images"), "latent": Out(LATENT, "the latents used")},
    params={
        "model": _MODEL,
        "seed": Int(None, optional=True, doc="pins the pictures across graphs; null: graph seed + node id"),
        "count": Int(4, min=1, max=4096, doc="how many images"),
        "start": Int(0, min=0, doc="item key of the first image (count=1, start=k re-renders item k)"),
        "label": _LABEL,
        "truncation": _TRUNC,
    },
)
def generate(ctx: NodeContext, *, model: str, seed: int | None, count: int, start: int, label: int,
             truncation: float) -> dict[str, Any]:
    """Generate images with a GAN generator; item k is reproducible on its own."""
    gen = GeneratorModel(ctx, model)
    keys = range(start, start + count)
    z = np.stack([item_latent(ctx, seed, k, gen.latent, truncation) for k in keys])
    classes = np.asarray([gen.class_for(ctx, label, k) for k in keys], np.int32)
    return {"image": gen.run(z, classes), "latent": z}


@node(
    "gan.interpolate",
    category="generate",
    outputs={"image": Out(IMAGE, "frames from seed_a to seed_b"), "latent": Out(LATENT, "their latents")},
    params={
        "model": _MODEL,
        "seed_a": Int(0, doc="first endpoint: item 0 of gan.generate with this seed"),
        "seed_b": Int(1, doc="last endpoint: item 0 of gan.generate with this seed"),
        "frames": Int(16, min=2, max=1024, doc="frames including both endpoints"),
        "label": _LABEL,
        "mode": Choice(["slerp", "linear"], "slerp", doc="spherical (keeps latent norm) or straight line"),
        "truncation": _TRUNC,
    },
)
def interpolate(ctx: NodeContext, *, model: str, seed_a: int, seed_b: int, frames: int, label: int,
                mode: str, truncation: float) -> dict[str, Any]:
    """A latent walk between two seeds, as a batch of frames ready for an animation save."""
    gen = GeneratorModel(ctx, model)
    a = item_latent(ctx, seed_a, 0, gen.latent, truncation)
    b = item_latent(ctx, seed_b, 0, gen.latent, truncation)
    t = np.linspace(0.0, 1.0, frames, dtype=np.float32)
    z = slerp(a, b, t) if mode == "slerp" else lerp(a, b, t)
    classes = np.full(frames, gen.class_for(ctx, label, 0), np.int32)
    return {"image": gen.run(z, classes), "latent": z}


NODES = [generate, interpolate]
