"""Filters: blur, sharpen, edges, emboss, median, pixelate, vignette, glow, film grain.

Heavy work is whole-batch numpy (which releases the GIL on large arrays) or Pillow filters in
float mode, so independent branches of a graph run in parallel threads.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from PIL import Image, ImageFilter

from artflow.budget import Estimate, nbytes
from artflow.imaging import gaussian_blur
from artflow.nodes import In, NodeContext, Out, node
from artflow.params import Bool, Choice, Float, Int
from artflow.types import IMAGE

from ._util import f32, join_alpha, luminance, resize_array, split_alpha


def _blur_premultiplied(image: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur of a batch with alpha handled premultiplied (no dark fringes)."""
    rgb, alpha = split_alpha(image)
    if alpha is None:
        return gaussian_blur(rgb, sigma)
    a = gaussian_blur(alpha, sigma)
    c = gaussian_blur(rgb * alpha, sigma) / np.maximum(a, 1e-6)
    return np.concatenate([np.where(a > 1e-6, c, 0.0), a], axis=-1)


@node(
    "filter.blur",
    itemwise=True,
    category="filter",
    inputs={"image": In(IMAGE, "images to blur")},
    outputs={"image": Out(IMAGE, "blurred images")},
    params={"radius": Float(4.0, min=0.0, max=256.0, doc="Gaussian standard deviation in pixels")},
)
def filter_blur(ctx: NodeContext, image: np.ndarray, radius: float) -> np.ndarray:
    """Gaussian blur."""
    return f32(_blur_premultiplied(image, radius))


@node(
    "filter.sharpen",
    category="filter",
    inputs={"image": In(IMAGE, "images to sharpen")},
    outputs={"image": Out(IMAGE, "sharpened images")},
    params={
        "radius": Float(2.0, min=0.1, max=64.0, doc="blur radius of the unsharp mask"),
        "amount": Float(1.0, min=0.0, max=10.0, doc="how much of the detail to add back"),
        "threshold": Float(0.0, min=0.0, max=1.0, doc="ignore detail smaller than this (keeps noise down)"),
    },
)
def filter_sharpen(
    ctx: NodeContext, image: np.ndarray, radius: float, amount: float, threshold: float
) -> np.ndarray:
    """Unsharp-mask sharpening."""
    rgb, alpha = split_alpha(image)
    detail = rgb - gaussian_blur(rgb, radius)
    if threshold > 0:
        detail = np.where(np.abs(detail) >= threshold, detail, 0.0)
    return join_alpha(rgb + np.float32(amount) * detail, alpha)


def _sobel(lum: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sobel x and y derivatives of an (N, H, W) batch (edges replicated)."""
    p = np.pad(lum, ((0, 0), (1, 1), (1, 1)), mode="edge")
    tl, tc, tr = p[:, :-2, :-2], p[:, :-2, 1:-1], p[:, :-2, 2:]
    ml, mr = p[:, 1:-1, :-2], p[:, 1:-1, 2:]
    bl, bc, br = p[:, 2:, :-2], p[:, 2:, 1:-1], p[:, 2:, 2:]
    gx = (tr + 2 * mr + br) - (tl + 2 * ml + bl)
    gy = (bl + 2 * bc + br) - (tl + 2 * tc + tr)
    return gx, gy


@node(
    "filter.edges",
    category="filter",
    inputs={"image": In(IMAGE, "images")},
    outputs={"image": Out(IMAGE, "edge maps")},
    params={
        "strength": Float(1.0, min=0.0, max=20.0, doc="gain on the edge magnitude"),
        "mode": Choice(["gray", "color"], "gray", doc="gray: edges of the luminance; color: per channel"),
        "invert": Bool(False, doc="dark lines on white (a pencil-sketch look)"),
        "smooth": Float(0.0, min=0.0, max=16.0, doc="blur before detecting, to ignore fine texture"),
    },
)
def filter_edges(
    ctx: NodeContext, image: np.ndarray, strength: float, mode: str, invert: bool, smooth: float
) -> np.ndarray:
    """Sobel edge magnitude."""
    rgb, alpha = split_alpha(image)
    if smooth > 0:
        rgb = gaussian_blur(rgb, smooth)
    chans = [luminance(rgb)[..., 0]] if mode == "gray" else [rgb[..., c] for c in range(3)]
    mags = []
    for ch in chans:
        gx, gy = _sobel(ch)
        mags.append(np.sqrt(gx * gx + gy * gy) * np.float32(strength / 4.0))
    mag = np.clip(np.stack(mags, axis=-1), 0, 1)
    if mode == "gray":
        mag = np.repeat(mag, 3, axis=-1)
    return join_alpha(1 - mag if invert else mag, alpha)


@node(
    "filter.emboss",
    category="filter",
    inputs={"image": In(IMAGE, "images")},
    outputs={"image": Out(IMAGE, "embossed images")},
    params={
        "angle": Float(135.0, min=-360, max=360, doc="direction the light comes from, degrees"),
        "strength": Float(2.0, min=0.0, max=20.0, doc="relief depth"),
        "color": Bool(False, doc="keep the colours and shade them, instead of grey relief"),
    },
)
def filter_emboss(
    ctx: NodeContext, image: np.ndarray, angle: float, strength: float, color: bool
) -> np.ndarray:
    """Emboss: a relief lit from one direction."""
    rgb, alpha = split_alpha(image)
    gx, gy = _sobel(luminance(rgb)[..., 0])
    a = math.radians(angle)
    relief = (gx * math.cos(a) - gy * math.sin(a)) * np.float32(strength / 8.0)
    if color:
        out = rgb * (1 + relief[..., None])
    else:
        out = np.repeat((0.5 + relief)[..., None], 3, axis=-1)
    return join_alpha(np.clip(out, 0, 1), alpha)


#: work units (ARTFLOW_MAX_WORK, about 0.1 µs each) per pixel, channel and window pixel: Pillow's
#: median filter measured here at 0.02 µs per pixel × size² (512², sizes 3 to 31)
MEDIAN_WORK_PER_WINDOW_PIXEL = 0.2


def _median_estimate(params: dict[str, Any], inputs: dict[str, Any], input_dir: Any) -> Estimate:
    """Same shape out; one float plane in and out at a time; work grows with pixels × size²."""
    shape = inputs.get("image")
    size = int(params["size"]) | 1
    if shape is None:
        return Estimate({"image": None})
    work = int(math.prod(shape) * size * size * MEDIAN_WORK_PER_WINDOW_PIXEL)
    return Estimate({"image": tuple(shape)}, working_bytes=2 * nbytes(tuple(shape[1:3])), work=work)


@node(
    "filter.median",
    category="filter",
    estimate=_median_estimate,
    inputs={"image": In(IMAGE, "images")},
    outputs={"image": Out(IMAGE, "filtered images")},
    params={"size": Int(3, min=1, max=31, doc="window size in pixels (even sizes round up to odd)")},
)
def filter_median(ctx: NodeContext, image: np.ndarray, size: int) -> np.ndarray:
    """Median filter: removes speckle, gives a painterly flattening at larger sizes."""
    size = size if size % 2 else size + 1
    if size <= 1:
        return f32(image)
    filt = ImageFilter.MedianFilter(size)
    out = np.empty_like(image, dtype=np.float32)
    for i, im in enumerate(image):
        for c in range(im.shape[-1]):
            plane = Image.fromarray(np.ascontiguousarray(im[..., c], dtype=np.float32), "F")
            out[i, ..., c] = np.asarray(plane.filter(filt), dtype=np.float32)
    return f32(out)


@node(
    "filter.pixelate",
    category="filter",
    inputs={"image": In(IMAGE, "images")},
    outputs={"image": Out(IMAGE, "pixelated images, same size")},
    params={"size": Int(8, min=1, max=512, doc="block size in pixels")},
)
def filter_pixelate(ctx: NodeContext, image: np.ndarray, size: int) -> np.ndarray:
    """Pixelate: average blocks of size × size."""
    n, h, w = image.shape[:3]
    if size <= 1:
        return f32(image)
    sw, sh = max(1, math.ceil(w / size)), max(1, math.ceil(h / size))
    small = np.stack([resize_array(im, sw, sh, "box") for im in image])
    big = np.repeat(np.repeat(small, size, axis=1), size, axis=2)
    return f32(big[:, :h, :w])


@node(
    "filter.vignette",
    category="filter",
    inputs={"image": In(IMAGE, "images")},
    outputs={"image": Out(IMAGE, "images with darkened corners")},
    params={
        "amount": Float(0.5, min=0.0, max=1.0, doc="how dark the corners get"),
        "radius": Float(0.75, min=0.05, max=2.0, doc="where darkening starts, relative to the half-diagonal"),
        "softness": Float(0.5, min=0.01, max=2.0, doc="width of the transition"),
    },
)
def filter_vignette(
    ctx: NodeContext, image: np.ndarray, amount: float, radius: float, softness: float
) -> np.ndarray:
    """Darken towards the corners, like an old lens."""
    rgb, alpha = split_alpha(image)
    h, w = rgb.shape[1:3]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    d = np.hypot((xs + 0.5) / w - 0.5, (ys + 0.5) / h - 0.5) / math.hypot(0.5, 0.5)
    t = np.clip((d - radius) / softness + 0.5, 0, 1)
    shade = 1 - amount * (t * t * (3 - 2 * t))
    return join_alpha(rgb * shade[None, ..., None], alpha)


@node(
    "filter.glow",
    category="filter",
    inputs={"image": In(IMAGE, "images")},
    outputs={"image": Out(IMAGE, "images with bloom")},
    params={
        "radius": Float(12.0, min=0.5, max=256.0, doc="spread of the glow in pixels"),
        "threshold": Float(0.6, min=0.0, max=1.0, doc="only parts brighter than this glow"),
        "strength": Float(1.0, min=0.0, max=5.0, doc="glow intensity"),
    },
)
def filter_glow(
    ctx: NodeContext, image: np.ndarray, radius: float, threshold: float, strength: float
) -> np.ndarray:
    """Bloom: bright parts bleed soft light around them (screen-blended)."""
    rgb, alpha = split_alpha(image)
    bright = np.clip((rgb - threshold) / max(1e-3, 1 - threshold), 0, 1) * rgb
    halo = np.clip(gaussian_blur(bright, radius) * np.float32(strength), 0, 1)
    return join_alpha(1 - (1 - rgb) * (1 - halo), alpha)


@node(
    "filter.grain",
    category="filter",
    deterministic=False,
    inputs={"image": In(IMAGE, "images")},
    outputs={"image": Out(IMAGE, "images with film grain")},
    params={
        "amount": Float(0.08, min=0.0, max=1.0, doc="grain strength"),
        "size": Float(1.0, min=0.5, max=8.0, doc="grain size in pixels"),
        "monochrome": Bool(True, doc="same grain in every channel"),
    },
)
def filter_grain(
    ctx: NodeContext, image: np.ndarray, amount: float, size: float, monochrome: bool
) -> np.ndarray:
    """Film grain, seeded per item."""
    rgb, alpha = split_alpha(image)
    n, h, w = rgb.shape[:3]
    out = np.empty_like(rgb, dtype=np.float32)
    sh, sw = max(1, round(h / size)), max(1, round(w / size))
    for i in range(n):
        rng = ctx.rng(i)
        g = rng.standard_normal((sh, sw, 1 if monochrome else 3), dtype=np.float32)
        if (sh, sw) != (h, w):
            g = resize_array(np.clip(g * 0.25 + 0.5, 0, 1), w, h, "bicubic")[..., : g.shape[-1]]
            g = (g - 0.5) * 4
        out[i] = rgb[i] + np.float32(amount) * g * (0.5 + 0.5 * (1 - np.abs(rgb[i] - 0.5) * 2))
    return join_alpha(np.clip(out, 0, 1), alpha)


NODES = [
    filter_blur,
    filter_sharpen,
    filter_edges,
    filter_emboss,
    filter_median,
    filter_pixelate,
    filter_vignette,
    filter_glow,
    filter_grain,
]
