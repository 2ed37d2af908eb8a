"""Colour: adjustments, grayscale, invert, posterize, palette quantisation, dithering, colour maps."""

from __future__ import annotations

import numpy as np
from PIL import Image

from artflow.errors import ArtflowError
from artflow.nodes import In, NodeContext, Out, node
from artflow.params import Bool, Choice, Float, Int, Strings
from artflow.types import IMAGE

from ._util import (
    LUMA,
    PALETTE_NAMES,
    f32,
    hsv_to_rgb,
    join_alpha,
    luminance,
    map_items,
    palette_array,
    rgb_to_hsv,
    split_alpha,
)
from .draw import color_ramp

COLORMAPS: dict[str, tuple[str, ...]] = {
    "viridis": (
        "#440154",
        "#482878",
        "#3e4989",
        "#31688e",
        "#26828e",
        "#1f9e89",
        "#35b779",
        "#6ece58",
        "#b5de2b",
        "#fde725",
    ),
    "magma": (
        "#000004",
        "#180f3d",
        "#440f76",
        "#721f81",
        "#9e2f7f",
        "#cd4071",
        "#f1605d",
        "#fd9668",
        "#feca8d",
        "#fcfdbf",
    ),
    "inferno": (
        "#000004",
        "#1b0c41",
        "#4a0c6b",
        "#781c6d",
        "#a52c60",
        "#cf4446",
        "#ed6925",
        "#fb9b06",
        "#f7d13d",
        "#fcffa4",
    ),
    "plasma": (
        "#0d0887",
        "#46039f",
        "#7201a8",
        "#9c179e",
        "#bd3786",
        "#d8576b",
        "#ed7953",
        "#fb9f3a",
        "#fdca26",
        "#f0f921",
    ),
    "twilight": (
        "#e2d9e2",
        "#9ebbc9",
        "#6a8fc4",
        "#5c5ab8",
        "#4a2980",
        "#2f1436",
        "#5a1a4f",
        "#9a3b56",
        "#c6705e",
        "#d9b0a3",
        "#e2d9e2",
    ),
    "sunset": ("#1a0a3d", "#4b1d6b", "#9b2f6e", "#e0525a", "#f7894a", "#fcc25d", "#fff2b3"),
    "ocean": ("#020024", "#03256c", "#0a5c9c", "#1a8fb5", "#4cc3c9", "#a6e8df", "#f0fff8"),
    "fire": ("#000000", "#450000", "#a30000", "#ff3d00", "#ffa200", "#ffe680", "#ffffff"),
    "ice": ("#040613", "#1c2a52", "#35589b", "#4a8fc4", "#8cc6e0", "#dff3fa", "#ffffff"),
    "spectral": (
        "#9e0142",
        "#d53e4f",
        "#f46d43",
        "#fdae61",
        "#fee08b",
        "#e6f598",
        "#abdda4",
        "#66c2a5",
        "#3288bd",
        "#5e4fa2",
    ),
    "gray": ("#000000", "#ffffff"),
}


def colormap_colors(name: str, custom: list[str] | None = None) -> np.ndarray:
    """The (K, 3) stops of a named colour map, or the given colours."""
    if custom:
        return palette_array("", custom)
    if name not in COLORMAPS:
        raise ArtflowError(f"unknown colour map '{name}'; use one of {', '.join(COLORMAPS)}")
    return palette_array("", list(COLORMAPS[name]))


@node(
    "color.adjust",
    category="color",
    inputs={"image": In(IMAGE, "images to adjust")},
    outputs={"image": Out(IMAGE, "adjusted images")},
    params={
        "brightness": Float(1.0, min=0.0, max=4.0, doc="multiply the colours; 1 keeps them"),
        "contrast": Float(
            1.0, min=0.0, max=4.0, doc="spread around the mean grey level; 1 keeps it, 0 is flat"
        ),
        "saturation": Float(1.0, min=0.0, max=4.0, doc="colourfulness; 0 is grey, 1 keeps it"),
        "hue": Float(0.0, min=-360.0, max=360.0, doc="rotate hues by this many degrees"),
        "gamma": Float(1.0, min=0.05, max=10.0, doc="gamma > 1 lifts the midtones, < 1 darkens them"),
    },
)
def color_adjust(
    ctx: NodeContext,
    image: np.ndarray,
    brightness: float,
    contrast: float,
    saturation: float,
    hue: float,
    gamma: float,
) -> np.ndarray:
    """Adjust brightness, contrast, saturation, hue and gamma."""
    rgb, alpha = split_alpha(image)
    out = rgb.astype(np.float32, copy=True)
    if hue % 360 != 0:
        hsv = rgb_to_hsv(np.clip(out, 0, 1))
        hsv[..., 0] = (hsv[..., 0] + hue / 360.0) % 1.0
        out = hsv_to_rgb(hsv)
    if brightness != 1.0:
        out = out * np.float32(brightness)
    if contrast != 1.0:
        mean = (out @ LUMA).mean(axis=(1, 2), keepdims=True)[..., None]
        out = (out - mean) * np.float32(contrast) + mean
    if saturation != 1.0:
        grey = (out @ LUMA)[..., None]
        out = grey + (out - grey) * np.float32(saturation)
    if gamma != 1.0:
        out = np.power(np.clip(out, 0, 1), np.float32(1.0 / gamma))
    return join_alpha(np.clip(out, 0, 1), alpha)


@node(
    "color.grayscale",
    category="color",
    inputs={"image": In(IMAGE, "images")},
    outputs={"image": Out(IMAGE, "grey images (still RGB, alpha kept)")},
    params={"amount": Float(1.0, min=0.0, max=1.0, doc="1 is fully grey, 0 leaves the colours")},
)
def color_grayscale(ctx: NodeContext, image: np.ndarray, amount: float) -> np.ndarray:
    """Turn colours to their luminance (Rec. 709)."""
    rgb, alpha = split_alpha(image)
    grey = luminance(rgb)
    return join_alpha(rgb + (grey - rgb) * np.float32(amount), alpha)


@node(
    "color.invert",
    category="color",
    inputs={"image": In(IMAGE, "images")},
    outputs={"image": Out(IMAGE, "negatives (alpha kept)")},
)
def color_invert(ctx: NodeContext, image: np.ndarray) -> np.ndarray:
    """Invert the colours (alpha kept)."""
    rgb, alpha = split_alpha(image)
    return join_alpha(1.0 - rgb, alpha)


@node(
    "color.posterize",
    category="color",
    inputs={"image": In(IMAGE, "images")},
    outputs={"image": Out(IMAGE, "posterized images")},
    params={"levels": Int(4, min=2, max=256, doc="levels per channel")},
)
def color_posterize(ctx: NodeContext, image: np.ndarray, levels: int) -> np.ndarray:
    """Reduce each channel to a few evenly spaced levels."""
    rgb, alpha = split_alpha(image)
    steps = np.float32(levels - 1)
    return join_alpha(np.round(np.clip(rgb, 0, 1) * steps) / steps, alpha)


def kmeans_palette(
    pixels: np.ndarray, k: int, *, iterations: int = 12, samples: int = 20000, seed: int = 0
) -> np.ndarray:
    """k-means colours (K, 3) of (P, 3) pixels, k-means++ seeded; deterministic for a given seed."""
    rng = np.random.default_rng(seed)
    if len(pixels) > samples:
        pixels = pixels[rng.choice(len(pixels), samples, replace=False)]
    pixels = pixels.astype(np.float32)
    k = max(1, min(k, len(np.unique(pixels, axis=0))))
    centers = [pixels[rng.integers(len(pixels))]]
    d2 = ((pixels - centers[0]) ** 2).sum(-1)
    for _ in range(1, k):
        total = float(d2.sum())
        pick = rng.choice(len(pixels), p=d2 / total) if total > 0 else rng.integers(len(pixels))
        centers.append(pixels[pick])
        d2 = np.minimum(d2, ((pixels - pixels[pick]) ** 2).sum(-1))
    c = np.stack(centers)
    for _ in range(iterations):
        assign = nearest_color(pixels, c)
        counts = np.bincount(assign, minlength=k).astype(np.float32)
        sums = np.stack([np.bincount(assign, weights=pixels[:, j], minlength=k) for j in range(3)], axis=-1)
        moved = np.where(counts[:, None] > 0, sums / np.maximum(counts[:, None], 1), c).astype(np.float32)
        if np.allclose(moved, c, atol=1e-4):
            c = moved
            break
        c = moved
    return c


def nearest_color(pixels: np.ndarray, palette: np.ndarray) -> np.ndarray:
    """Index of the nearest palette colour for each of (..., 3) pixels (chunked to bound memory)."""
    flat = pixels.reshape(-1, 3)
    out = np.empty(len(flat), dtype=np.intp)
    pal = palette.astype(np.float32)
    pn = (pal * pal).sum(-1)
    step = max(1, 4_000_000 // max(1, len(pal)))
    for i in range(0, len(flat), step):
        chunk = flat[i : i + step]
        out[i : i + step] = np.argmin(pn[None, :] - 2 * chunk @ pal.T, axis=-1)
    return out.reshape(pixels.shape[:-1])


def _pil_palette_image(palette: np.ndarray) -> Image.Image:
    """A 'P' image holding the palette, padded by repeating its first colour (never with black)."""
    cols = (np.clip(palette, 0, 1) * 255 + 0.5).astype(np.uint8)[:256]
    full = np.concatenate([cols, np.repeat(cols[:1], 256 - len(cols), axis=0)]) if len(cols) < 256 else cols
    img = Image.new("P", (1, 1))
    img.putpalette(full.reshape(-1).tolist())
    return img


def fs_dither_palette(rgb: np.ndarray, palette: np.ndarray) -> np.ndarray:
    """Floyd–Steinberg error diffusion of one HWC image to a palette (Pillow's C loop)."""
    img = Image.fromarray((np.clip(rgb, 0, 1) * 255 + 0.5).astype(np.uint8), "RGB")
    q = img.quantize(palette=_pil_palette_image(palette), dither=Image.Dither.FLOYDSTEINBERG)
    return np.asarray(q.convert("RGB"), dtype=np.float32) / 255.0


def _resolve_palette(
    rgb_batch: np.ndarray, palette: str, custom: list[str] | None, colors: int
) -> list[np.ndarray]:
    """Per-item palettes: an adaptive k-means palette per image, or one given/named palette for all."""
    if custom:
        return [palette_array("", custom)] * len(rgb_batch)
    if palette == "adaptive":
        return [kmeans_palette(im.reshape(-1, 3), colors) for im in rgb_batch]
    return [palette_array(palette)] * len(rgb_batch)


@node(
    "color.quantize",
    category="color",
    inputs={"image": In(IMAGE, "images")},
    outputs={"image": Out(IMAGE, "images using only the palette's colours")},
    params={
        "colors": Int(8, min=1, max=256, doc="palette size for an adaptive palette"),
        "method": Choice(["kmeans", "median_cut"], "kmeans", doc="how an adaptive palette is found"),
        "palette": Choice(
            ["adaptive", *PALETTE_NAMES],
            "adaptive",
            doc="'adaptive' finds colours per image; a name uses that fixed palette",
        ),
        "custom": Strings(None, optional=True, doc="explicit palette colours (overrides palette)"),
    },
)
def color_quantize(
    ctx: NodeContext, image: np.ndarray, colors: int, method: str, palette: str, custom: list[str] | None
) -> np.ndarray:
    """Reduce images to a palette of N colours (k-means or median cut), or to a given palette."""
    rgb, alpha = split_alpha(image)
    if palette == "adaptive" and not custom and method == "median_cut":

        def mc(im: np.ndarray) -> np.ndarray:
            pil = Image.fromarray((np.clip(im, 0, 1) * 255 + 0.5).astype(np.uint8), "RGB")
            q = pil.quantize(colors, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
            return np.asarray(q.convert("RGB"), dtype=np.float32) / 255.0

        return join_alpha(map_items(mc, rgb), alpha)
    pals = _resolve_palette(rgb, palette, custom, colors)
    out = np.stack([pal[nearest_color(im, pal)] for im, pal in zip(rgb, pals, strict=False)])
    return join_alpha(out, alpha)


def bayer_matrix(n: int) -> np.ndarray:
    """The n×n (n a power of two) ordered-dither threshold map, centred values in (-0.5, 0.5)."""
    m = np.array([[0]], dtype=np.float32)
    while m.shape[0] < n:
        m = np.block([[4 * m, 4 * m + 2], [4 * m + 3, 4 * m + 1]])
    return ((m + 0.5) / m.size - 0.5).astype(np.float32)


@node(
    "color.dither",
    category="color",
    inputs={"image": In(IMAGE, "images")},
    outputs={"image": Out(IMAGE, "dithered images")},
    params={
        "method": Choice(
            ["floyd_steinberg", "ordered"],
            "floyd_steinberg",
            doc="error diffusion, or an ordered Bayer pattern",
        ),
        "levels": Int(2, min=2, max=256, doc="levels per channel when palette is 'none'"),
        "palette": Choice(
            ["none", "adaptive", *PALETTE_NAMES],
            "none",
            doc="'none' dithers each channel to `levels`; 'adaptive' to a k-means palette; "
            "or a named palette",
        ),
        "colors": Int(8, min=2, max=256, doc="adaptive palette size"),
        "custom": Strings(None, optional=True, doc="explicit palette colours (overrides palette)"),
        "grayscale": Bool(False, doc="dither the luminance only (classic 1-bit look with levels=2)"),
        "bayer_size": Choice([2, 4, 8, 16], 4, doc="ordered method: size of the threshold map"),
        "scale": Int(1, min=1, max=32, doc="pixel size of the dither pattern (chunky retro look when > 1)"),
    },
)
def color_dither(
    ctx: NodeContext,
    image: np.ndarray,
    method: str,
    levels: int,
    palette: str,
    colors: int,
    custom: list[str] | None,
    grayscale: bool,
    bayer_size: int,
    scale: int,
) -> np.ndarray:
    """Dither images to N levels per channel or to a palette (Floyd–Steinberg or ordered Bayer)."""
    from ._util import resize_array

    rgb, alpha = split_alpha(image)
    n, h, w = rgb.shape[:3]
    if grayscale:
        rgb = np.repeat(luminance(rgb), 3, axis=-1)
    work = rgb
    if scale > 1:
        sw, sh = max(1, w // scale), max(1, h // scale)
        work = map_items(lambda im: resize_array(im, sw, sh, "box"), rgb)
    use_palette = palette != "none" or bool(custom)
    if use_palette:
        pals = _resolve_palette(work, palette, custom, colors)
    if method == "ordered":
        m = bayer_matrix(bayer_size)
        hh, ww = work.shape[1:3]
        thresh = np.tile(m, (hh // bayer_size + 1, ww // bayer_size + 1))[:hh, :ww][None, ..., None]
        if use_palette:
            out = []
            for im, pal in zip(work, pals, strict=False):
                spread = 1.0 / max(1.0, round(len(pal) ** (1 / 3)))
                out.append(pal[nearest_color(np.clip(im + thresh[0] * spread, 0, 1), pal)])
            res = np.stack(out)
        else:
            steps = np.float32(levels - 1)
            res = np.clip(np.round(work * steps + thresh), 0, steps) / steps
    else:
        if use_palette:
            res = np.stack([fs_dither_palette(im, pal) for im, pal in zip(work, pals, strict=False)])
        else:
            grey_pal = np.repeat(np.linspace(0, 1, levels, dtype=np.float32)[:, None], 3, axis=1)
            chans = 1 if grayscale else 3
            res = np.stack(
                [
                    np.stack(
                        [
                            fs_dither_palette(np.repeat(im[..., c : c + 1], 3, axis=-1), grey_pal)[..., 0]
                            for c in range(chans)
                        ],
                        axis=-1,
                    )
                    for im in work
                ]
            )
            if grayscale:
                res = np.repeat(res, 3, axis=-1)
    if scale > 1:
        res = np.repeat(np.repeat(res, scale, axis=1), scale, axis=2)
        pad_h, pad_w = h - res.shape[1], w - res.shape[2]
        res = np.pad(res, ((0, 0), (0, max(0, pad_h)), (0, max(0, pad_w)), (0, 0)), mode="edge")[:, :h, :w]
    return join_alpha(f32(res), alpha)


@node(
    "color.colormap",
    category="color",
    inputs={"image": In(IMAGE, "images (their luminance is mapped)")},
    outputs={"image": Out(IMAGE, "false-colour images")},
    params={
        "colormap": Choice(list(COLORMAPS), "viridis", doc="named gradient"),
        "custom": Strings(None, optional=True, doc="your own stops, dark to light (overrides colormap)"),
        "reverse": Bool(False, doc="run the gradient backwards"),
        "normalize": Bool(False, doc="stretch each image's luminance to the full range first"),
        "mix": Float(1.0, min=0.0, max=1.0, doc="blend with the original; 1 is the colour map only"),
    },
)
def color_colormap(
    ctx: NodeContext,
    image: np.ndarray,
    colormap: str,
    custom: list[str] | None,
    reverse: bool,
    normalize: bool,
    mix: float,
) -> np.ndarray:
    """Map luminance through a named gradient (viridis, magma, sunset, …) or your colours."""
    rgb, alpha = split_alpha(image)
    lum = luminance(rgb)[..., 0]
    if normalize:
        lo = lum.min(axis=(1, 2), keepdims=True)
        hi = lum.max(axis=(1, 2), keepdims=True)
        lum = (lum - lo) / np.maximum(hi - lo, 1e-6)
    stops = colormap_colors(colormap, custom)
    if reverse:
        stops = stops[::-1]
    mapped = color_ramp(lum, stops)
    return join_alpha(rgb + (mapped - rgb) * np.float32(mix), alpha)


NODES = [
    color_adjust,
    color_grayscale,
    color_invert,
    color_posterize,
    color_quantize,
    color_dither,
    color_colormap,
]
