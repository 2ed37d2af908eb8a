"""How one image is enlarged by a super-resolution network of scale ``m`` to a scale of 2, 4 or 8.

The network runs as many times as its scale fits into the wanted one (at least once), tiled
(:mod:`.tiling`); what is left is done by resampling: a ×4 network gives ×2 as ×4 then a 2×2
mean (on held-out crops better than both Lanczos and UpscalerJS' own ×2 network), and ×8 as ×4
then Lanczos ×2 (on the same crops as good as a second ×4 pass, at a fifth of the work; see the
plugin README). Alpha is never fed to the network: it is enlarged with Lanczos on its own.

NumPy and Pillow; the network is an ONNX Runtime session the engine opened.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from artflow import ModelError
from artflow.imaging import resize

from .tiling import tiled_pixels, upscale_tiled

SCALES = (2, 4, 8)


@dataclass(frozen=True)
class Route:
    """Network passes, then a reduction by ``shrink`` (2×2 means) or an enlargement by ``stretch``
    (Lanczos); one of the two is 1."""

    passes: int
    shrink: int = 1
    stretch: int = 1


def route(model_scale: int, scale: int) -> Route:
    """How a network of ``model_scale`` reaches ``scale`` (both powers of two)."""
    if model_scale < 2 or model_scale & (model_scale - 1):
        raise ModelError(f"the model enlarges by {model_scale}; image.upscale uses models of scale 2, 4 or 8")
    passes, reached = 1, model_scale
    while reached * model_scale <= scale:
        passes, reached = passes + 1, reached * model_scale
    if reached >= scale:
        return Route(passes, shrink=reached // scale)
    return Route(passes, stretch=scale // reached)


def network_work_pixels(model_scale: int, scale: int, height: int, width: int, tile: int,
                        overlap: int) -> int:
    """Input pixels the network sees over every pass of :func:`route`, tiles' overlaps included
    (for the work estimate)."""
    plan = route(model_scale, scale)
    pixels = 0
    for i in range(plan.passes):
        pixels += tiled_pixels(height, width, tile, overlap)
        height, width = height * model_scale, width * model_scale
        if i == 0 and plan.shrink > 1:
            height, width = height // plan.shrink, width // plan.shrink
    return pixels


def lanczos(image: np.ndarray, scale: int) -> np.ndarray:
    """An HWC image enlarged ``scale`` times with Pillow's Lanczos filter (float planes), clipped."""
    h, w = image.shape[:2]
    return np.clip(resize(image, h * scale, w * scale, "lanczos"), 0.0, 1.0)


def mean_shrink(image: np.ndarray, factor: int) -> np.ndarray:
    """An HWC image reduced by an integer factor, each output pixel the mean of a factor² block."""
    if factor == 1:
        return image
    h, w, c = image.shape
    return image.reshape(h // factor, factor, w // factor, factor, c).mean(axis=(1, 3), dtype=np.float32)


class Network:
    """A super-resolution session as a function of an HWC tile (canonical RGB in [0, 1])."""

    def __init__(self, session: Any, scale: int):
        self.session = session
        self.scale = scale
        self.input = session.input_names[0]
        self.output = session.output_names[0]

    def __call__(self, tile: np.ndarray) -> np.ndarray:
        feeds = {self.input: tile[None].astype(np.float32)}
        return np.clip(self.session.run(feeds, outputs=[self.output])[self.output][0], 0.0, 1.0)


def model_scale(card: Any, model: str) -> int:
    """The scale an upscale model's card declares (``scale``)."""
    scale = card.extra.get("scale") if card is not None else None
    if not isinstance(scale, int) or isinstance(scale, bool):
        raise ModelError(f"upscale model '{model}' does not declare its scale in its card "
                         "(an integer 'scale' in the card's extra fields); import it with a spec "
                         "that sets it")
    return scale


def upscale_rgb(network: Network, rgb: np.ndarray, scale: int, tile: int, overlap: int) -> np.ndarray:
    """Enlarge an HWC RGB image by ``scale`` with the network's passes, then resampling."""
    plan = route(network.scale, scale)
    x = rgb
    for i in range(plan.passes):
        x = upscale_tiled(network, x, network.scale, tile, overlap)
        if i == 0 and plan.shrink > 1:  # reduce at once, so later passes see the smaller image
            x = mean_shrink(x, plan.shrink)
    if plan.stretch > 1:
        x = lanczos(x, plan.stretch)
    return np.clip(x, 0.0, 1.0)


def upscale_image(network: Network | None, image: np.ndarray, scale: int, tile: int,
                  overlap: int) -> np.ndarray:
    """Enlarge one HWC image (1, 3 or 4 channels) by ``scale``: colour through the network (or
    Lanczos when ``network`` is None), alpha with Lanczos."""
    colour = image[..., :3] if image.shape[-1] >= 3 else np.repeat(image, 3, axis=-1)
    colour = np.ascontiguousarray(colour, dtype=np.float32)
    up = lanczos(colour, scale) if network is None else upscale_rgb(network, colour, scale, tile, overlap)
    if image.shape[-1] == 1:
        return up.mean(axis=-1, keepdims=True, dtype=np.float32)
    if image.shape[-1] == 4:
        up = np.concatenate([up, lanczos(np.ascontiguousarray(image[..., 3:4]), scale)], axis=-1)
    return up.astype(np.float32)
