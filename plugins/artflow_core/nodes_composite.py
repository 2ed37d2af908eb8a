"""Compositing: blend modes, masks from images, masks as alpha, pasting one image onto another."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from artflow.errors import ArtflowError
from artflow.imaging import gaussian_blur
from artflow.nodes import In, NodeContext, Out, node
from artflow.params import Bool, Choice, Float, Int
from artflow.types import IMAGE, MASK

from ._util import f32, fit_to, luminance, pair_batches, resize_array, rgb_to_hsv, split_alpha


def _soft_light(b: np.ndarray, t: np.ndarray) -> np.ndarray:
    d = np.where(b <= 0.25, ((16 * b - 12) * b + 4) * b, np.sqrt(np.clip(b, 0, 1)))
    return np.where(t <= 0.5, b - (1 - 2 * t) * b * (1 - b), b + (2 * t - 1) * (d - b))


def _overlay(b: np.ndarray, t: np.ndarray) -> np.ndarray:
    return np.where(b < 0.5, 2 * b * t, 1 - 2 * (1 - b) * (1 - t))


BLEND_MODES: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "normal": lambda b, t: t,
    "multiply": lambda b, t: b * t,
    "screen": lambda b, t: 1 - (1 - b) * (1 - t),
    "overlay": _overlay,
    "hard_light": lambda b, t: _overlay(t, b),
    "soft_light": _soft_light,
    "add": lambda b, t: np.minimum(b + t, 1),
    "subtract": lambda b, t: np.maximum(b - t, 0),
    "difference": lambda b, t: np.abs(b - t),
    "darken": np.minimum,
    "lighten": np.maximum,
    "color_dodge": lambda b, t: np.where(t >= 1, 1.0, np.minimum(1.0, b / np.maximum(1 - t, 1e-6))),
    "color_burn": lambda b, t: np.where(t <= 0, 0.0, 1 - np.minimum(1.0, (1 - b) / np.maximum(t, 1e-6))),
}


def composite(base: np.ndarray, top: np.ndarray, coverage: np.ndarray, mode: str = "normal") -> np.ndarray:
    """Blend `top` over `base` (same shape batches) where `coverage` (..., 1) says, W3C-style with alphas."""
    b_rgb, b_a = split_alpha(base)
    t_rgb, t_a = split_alpha(top)
    a = coverage * (t_a if t_a is not None else 1.0)
    ab = b_a if b_a is not None else np.ones_like(a)
    blended = np.clip(BLEND_MODES[mode](b_rgb, t_rgb), 0, 1)
    mixed = t_rgb * (1 - ab) + blended * ab
    out_a = a + ab * (1 - a)
    out_rgb = (mixed * a + b_rgb * ab * (1 - a)) / np.maximum(out_a, 1e-6)
    if b_a is None:
        return f32(out_rgb)
    return f32(np.concatenate([out_rgb, out_a], axis=-1))


def _mask_for(mask: np.ndarray | None, n: int, h: int, w: int, what: str) -> np.ndarray:
    """A mask batch matching n items of h×w (broadcast a batch of 1, resized when sizes differ)."""
    if mask is None:
        return np.ones((n, h, w, 1), np.float32)
    if len(mask) not in (1, n):
        raise ArtflowError(f"{what}: mask has {len(mask)} items for {n} images; give one or one per image")
    if mask.shape[1:3] != (h, w):
        mask = np.stack([resize_array(np.repeat(m, 3, axis=-1), w, h, "bilinear")[..., :1] for m in mask])
    return np.broadcast_to(mask, (n, h, w, 1))


@node(
    "composite.blend",
    category="composite",
    inputs={
        "base": In(IMAGE, "bottom layer"),
        "top": In(IMAGE, "top layer (resized to the base's size)"),
        "mask": In(MASK, "where the top layer applies (white = fully)", optional=True),
    },
    outputs={"image": Out(IMAGE, "the blend")},
    params={
        "mode": Choice(list(BLEND_MODES), "normal", doc="blend mode"),
        "opacity": Float(1.0, min=0.0, max=1.0, doc="strength of the top layer"),
    },
)
def composite_blend(
    ctx: NodeContext, base: np.ndarray, top: np.ndarray, mask: np.ndarray | None, mode: str, opacity: float
) -> np.ndarray:
    """Blend two images with a blend mode, opacity and an optional mask."""
    top = fit_to(top, base.shape[1], base.shape[2])
    base, top = pair_batches(base, top, f"node '{ctx.node_id}' (composite.blend)")
    n, h, w = base.shape[:3]
    m = _mask_for(mask, n, h, w, f"node '{ctx.node_id}'") * np.float32(opacity)
    return composite(base, top, m, mode)


@node(
    "mask.from_image",
    category="composite",
    inputs={"image": In(IMAGE, "images to derive masks from")},
    outputs={"mask": Out(MASK, "masks in [0, 1]")},
    params={
        "source": Choice(
            ["luminance", "alpha", "red", "green", "blue", "saturation"],
            "luminance",
            doc="what becomes the mask",
        ),
        "threshold": Float(
            None,
            min=0.0,
            max=1.0,
            optional=True,
            doc="make the mask hard: 1 above, 0 below; null keeps it soft",
        ),
        "invert": Bool(False, doc="swap white and black"),
        "feather": Float(0.0, min=0.0, max=128.0, doc="blur the mask edge, in pixels"),
    },
)
def mask_from_image(
    ctx: NodeContext, image: np.ndarray, source: str, threshold: float | None, invert: bool, feather: float
) -> np.ndarray:
    """Make a mask from an image's luminance, alpha, one channel or saturation."""
    rgb, alpha = split_alpha(image)
    if source == "luminance":
        m = luminance(rgb)
    elif source == "alpha":
        m = alpha if alpha is not None else np.ones(rgb.shape[:-1] + (1,), np.float32)
    elif source == "saturation":
        m = rgb_to_hsv(np.clip(rgb, 0, 1))[..., 1:2]
    else:
        c = {"red": 0, "green": 1, "blue": 2}[source]
        m = rgb[..., c : c + 1]
    if threshold is not None:
        m = (m >= threshold).astype(np.float32)
    if invert:
        m = 1 - m
    if feather > 0:
        m = gaussian_blur(m, feather)
    return f32(m)


@node(
    "composite.apply_mask",
    category="composite",
    inputs={"image": In(IMAGE, "images to cut out"), "mask": In(MASK, "white keeps, black removes")},
    outputs={"image": Out(IMAGE, "RGBA images whose alpha is multiplied by the mask")},
    params={"invert": Bool(False, doc="keep where the mask is black instead")},
)
def composite_apply_mask(ctx: NodeContext, image: np.ndarray, mask: np.ndarray, invert: bool) -> np.ndarray:
    """Use a mask as transparency (the image becomes RGBA)."""
    if len(image) == 1 and len(mask) > 1:
        image = np.broadcast_to(image, (len(mask),) + image.shape[1:])
    n, h, w = image.shape[:3]
    m = _mask_for(mask, n, h, w, f"node '{ctx.node_id}'")
    if invert:
        m = 1 - m
    rgb, alpha = split_alpha(image)
    a = m if alpha is None else alpha * m
    return f32(np.concatenate([rgb, a], axis=-1))


@node(
    "composite.paste",
    category="composite",
    inputs={
        "base": In(IMAGE, "background images"),
        "top": In(IMAGE, "image to paste (its alpha is respected)"),
        "mask": In(MASK, "extra transparency for the pasted image", optional=True),
    },
    outputs={"image": Out(IMAGE, "base with top pasted on, same size as base")},
    params={
        "x": Int(0, min=-16384, max=16384, doc="horizontal position in pixels"),
        "y": Int(0, min=-16384, max=16384, doc="vertical position in pixels"),
        "anchor": Choice(
            ["top_left", "center"], "top_left", doc="which point of the pasted image x, y place"
        ),
        "scale": Float(1.0, min=0.01, max=16.0, doc="resize the pasted image first"),
        "opacity": Float(1.0, min=0.0, max=1.0, doc="strength of the pasted image"),
        "mode": Choice(list(BLEND_MODES), "normal", doc="blend mode"),
    },
)
def composite_paste(
    ctx: NodeContext,
    base: np.ndarray,
    top: np.ndarray,
    mask: np.ndarray | None,
    x: int,
    y: int,
    anchor: str,
    scale: float,
    opacity: float,
    mode: str,
) -> np.ndarray:
    """Paste an image onto another at a position, optionally scaled, masked and blended."""
    base, top = pair_batches(base, top, f"node '{ctx.node_id}' (composite.paste)")
    n, bh, bw = base.shape[:3]
    th, tw = top.shape[1:3]
    m = _mask_for(mask, len(top), th, tw, f"node '{ctx.node_id}'")
    if scale != 1.0:
        sw, sh = max(1, round(tw * scale)), max(1, round(th * scale))
        top = fit_to(top, sh, sw, "lanczos")
        m = np.stack([resize_array(np.repeat(mi, 3, axis=-1), sw, sh, "bilinear")[..., :1] for mi in m])
        th, tw = sh, sw
    if anchor == "center":
        x, y = x - tw // 2, y - th // 2
    x0, y0, x1, y1 = max(0, x), max(0, y), min(bw, x + tw), min(bh, y + th)
    out = np.array(base, dtype=np.float32, copy=True)
    if x1 <= x0 or y1 <= y0:
        return f32(out)
    t_reg = top[:, y0 - y : y1 - y, x0 - x : x1 - x]
    m_reg = m[:, y0 - y : y1 - y, x0 - x : x1 - x] * np.float32(opacity)
    out[:, y0:y1, x0:x1] = composite(out[:, y0:y1, x0:x1], t_reg, m_reg, mode)
    return f32(out)


NODES = [composite_blend, mask_from_image, composite_apply_mask, composite_paste]
