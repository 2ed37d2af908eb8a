"""An example artflow plugin: two image nodes and one CLI verb."""

from __future__ import annotations

from typing import Any

import numpy as np

import artflow as af


@af.node(
    "example.halftone",
    category="stylize",
    inputs={"image": af.IMAGE},
    outputs={"image": af.IMAGE},
    params={
        "cell": af.Int(8, min=2, max=128, doc="Size of one halftone cell in pixels."),
        "ink": af.Color("#101010", doc="Colour of the dots."),
        "paper": af.Color("#f4efe6", doc="Colour of the paper."),
    },
)
def halftone(ctx: af.NodeContext, image: np.ndarray, cell: int, ink: tuple[float, ...],
             paper: tuple[float, ...]) -> np.ndarray:
    """Print the image as a grid of dots whose size follows its darkness."""
    n, h, w, _ = image.shape
    lum = image[..., :3] @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    gh, gw = -(-h // cell), -(-w // cell)
    padded = np.pad(lum, ((0, 0), (0, gh * cell - h), (0, gw * cell - w)), mode="edge")
    means = padded.reshape(n, gh, cell, gw, cell).mean(axis=(2, 4))
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    dy = (yy % cell) - (cell - 1) / 2
    dx = (xx % cell) - (cell - 1) / 2
    dist = np.sqrt(dx * dx + dy * dy) / (cell / 2)
    radius = np.sqrt(1.0 - means)[:, (yy // cell).astype(int), (xx // cell).astype(int)] * 1.2
    coverage = np.clip((radius - dist[None]) * cell / 2, 0, 1)[..., None]
    ink_rgb = np.array(ink[:3], dtype=np.float32)
    paper_rgb = np.array(paper[:3], dtype=np.float32)
    return (paper_rgb * (1 - coverage) + ink_rgb * coverage).astype(np.float32)


@af.node(
    "example.vignette",
    category="stylize",
    inputs={"image": af.IMAGE},
    outputs={"image": af.IMAGE},
    params={"strength": af.Float(0.5, min=0, max=1, doc="How dark the corners get.")},
)
def vignette(ctx: af.NodeContext, image: np.ndarray, strength: float) -> np.ndarray:
    """Darken the corners smoothly."""
    _, h, w, c = image.shape
    yy, xx = np.mgrid[-1:1:complex(0, h), -1:1:complex(0, w)]
    falloff = 1 - strength * np.clip((xx * xx + yy * yy) / 2, 0, 1) ** 1.5
    out = image.copy()
    out[..., :3] *= falloff[None, :, :, None].astype(np.float32)
    return out


@af.hookimpl
def register_nodes(register: Any) -> None:
    register(halftone)
    register(vignette)


@af.hookimpl
def register_commands(cli: Any) -> None:
    import click

    @cli.command(name="example-info")
    def example_info() -> None:
        """Say what the example plugin adds."""
        click.echo("artflow-example-plugin: example.halftone, example.vignette")
