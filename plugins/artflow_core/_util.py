"""Shared helpers for the core nodes: batch plumbing, float-precise resampling, palettes, fonts.

Everything here works on the canonical forms (float32 HWC / NHWC in [0, 1]); conversion to
PIL happens only where Pillow does work numpy cannot do as well (text, lines, median).
"""

from __future__ import annotations

import functools
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from PIL import ImageFont

from artflow import imaging
from artflow.errors import ArtflowError
from artflow.imaging import LUMA
from artflow.params import parse_color

RESAMPLE = imaging.RESAMPLING  # filter name → Pillow filter (image.resize's choices)



# --- batches -------------------------------------------------------------------------------------


def f32(array: np.ndarray) -> np.ndarray:
    """A float32, C-contiguous view or copy, clipped to [0, 1]."""
    return np.ascontiguousarray(np.clip(array, 0.0, 1.0), dtype=np.float32)


def split_alpha(image: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Colour channels (always 3) and the alpha channel (or None) of an image or batch."""
    c = image.shape[-1]
    if c == 4:
        return image[..., :3], image[..., 3:]
    if c == 1:
        return np.repeat(image, 3, axis=-1), None
    return image, None


def join_alpha(rgb: np.ndarray, alpha: np.ndarray | None) -> np.ndarray:
    """Put an alpha channel (or none) back onto colour channels."""
    if alpha is None:
        return f32(rgb)
    return f32(np.concatenate([rgb, alpha], axis=-1))


def luminance(image: np.ndarray) -> np.ndarray:
    """Luminance (artflow.imaging.LUMA, Rec. 601) of an image or batch, keeping a channel axis of 1."""
    rgb, _ = split_alpha(image)
    return (rgb @ LUMA)[..., None].astype(np.float32)


def pair_batches(a: np.ndarray, b: np.ndarray, what: str) -> tuple[np.ndarray, np.ndarray]:
    """Broadcast two batches against each other: equal sizes, or one of them a batch of 1."""
    na, nb = len(a), len(b)
    if na == nb:
        return a, b
    if na == 1:
        return np.broadcast_to(a, (nb,) + a.shape[1:]), b
    if nb == 1:
        return a, np.broadcast_to(b, (na,) + b.shape[1:])
    raise ArtflowError(f"{what}: batches of {na} and {nb} items do not match; use equal batches or one of 1")


def fit_to(image: np.ndarray, height: int, width: int, resample: str = "bilinear") -> np.ndarray:
    """A batch resized (each item) to height×width when it is not already that size."""
    if image.shape[1:3] == (height, width):
        return image
    return np.stack([resize_array(im, width, height, resample) for im in image])


def map_items(fn: Callable[[np.ndarray], np.ndarray], batch: np.ndarray) -> np.ndarray:
    """Apply a per-item function and stack the results as a float32 batch."""
    return f32(np.stack([fn(item) for item in batch]))


def broadcast_list(values: Sequence[object] | None, n: int, what: str) -> list:
    """A per-item list of length n from None, a single item, or n items."""
    if values is None:
        return [None] * n
    values = list(values)
    if len(values) == n:
        return values
    if len(values) == 1:
        return values * n
    raise ArtflowError(f"{what}: {len(values)} entries for {n} images; give one per image or just one")


# --- resampling ----------------------------------------------------------------------------------


def resize_array(image: np.ndarray, width: int, height: int, resample: str = "lanczos") -> np.ndarray:
    """Resize one HWC float image without quantising: each channel as a 32-bit float PIL image.

    Colour is premultiplied by alpha first so transparent pixels do not bleed their colour.
    """
    if image.shape[:2] == (height, width):
        return image.astype(np.float32, copy=False)
    rgb, alpha = split_alpha(image)
    src = rgb * alpha if alpha is not None else rgb
    planes = np.concatenate([src, alpha], axis=-1) if alpha is not None else src
    res = imaging.resize(planes, height, width, resample)
    if alpha is not None:
        a = np.clip(res[..., 3:], 0.0, 1.0)
        res = np.concatenate([np.where(a > 1e-6, res[..., :3] / np.maximum(a, 1e-6), 0.0), a], axis=-1)
    return f32(res)


def bilinear_sample(image: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Sample one HWC image at float pixel coordinates (edges clamped), bilinear."""
    h, w = image.shape[:2]
    xs = np.clip(xs, 0, w - 1)
    ys = np.clip(ys, 0, h - 1)
    x0 = np.floor(xs).astype(np.intp)
    y0 = np.floor(ys).astype(np.intp)
    x1 = np.minimum(x0 + 1, w - 1)
    y1 = np.minimum(y0 + 1, h - 1)
    fx = (xs - x0)[..., None].astype(np.float32)
    fy = (ys - y0)[..., None].astype(np.float32)
    top = image[y0, x0] * (1 - fx) + image[y0, x1] * fx
    bottom = image[y1, x0] * (1 - fx) + image[y1, x1] * fx
    return top * (1 - fy) + bottom * fy


# --- colours -------------------------------------------------------------------------------------

PALETTES: dict[str, tuple[str, ...]] = {
    "vivid": ("#e63946", "#f4a261", "#e9c46a", "#2a9d8f", "#457b9d", "#8338ec", "#ff006e", "#06d6a0"),
    "pastel": ("#ffadad", "#ffd6a5", "#fdffb6", "#caffbf", "#9bf6ff", "#a0c4ff", "#bdb2ff", "#ffc6ff"),
    "earth": ("#582f0e", "#7f4f24", "#936639", "#a68a64", "#b6ad90", "#656d4a", "#414833", "#c2c5aa"),
    "ocean": ("#03045e", "#023e8a", "#0077b6", "#0096c7", "#00b4d8", "#48cae4", "#90e0ef", "#caf0f8"),
    "sunset": ("#2d1e2f", "#5c2a4d", "#a63d57", "#e85d4a", "#f28c38", "#f9c74f", "#ffe8a3", "#7b2cbf"),
    "neon": ("#ff00c8", "#00f0ff", "#faff00", "#39ff14", "#ff6b00", "#b300ff", "#ff0040", "#00ff9d"),
    "forest": ("#081c15", "#1b4332", "#2d6a4f", "#40916c", "#52b788", "#74c69d", "#95d5b2", "#d8f3dc"),
    "mono": ("#111111", "#333333", "#555555", "#777777", "#999999", "#bbbbbb", "#dddddd", "#f5f5f5"),
    "bauhaus": ("#d62828", "#003049", "#fcbf49", "#eae2b7", "#f77f00", "#1d3557", "#111111", "#f1faee"),
}
PALETTE_NAMES = tuple(PALETTES)


def colors_array(colors: Sequence[object], what: str = "colours") -> np.ndarray:
    """Parse colour strings or tuples to an (K, 3) float32 RGB array."""
    out = []
    for c in colors:
        try:
            rgb = c if isinstance(c, tuple) and all(isinstance(v, float) for v in c) else parse_color(c)
        except (TypeError, ValueError):
            raise ArtflowError(
                f"{what}: {c!r} is not a colour; use '#rrggbb' or a name like 'orange'"
            ) from None
        out.append(tuple(rgb)[:3])
    if not out:
        raise ArtflowError(f"{what}: give at least one colour")
    return np.asarray(out, dtype=np.float32)


def palette_array(name: str, colors: Sequence[str] | None = None) -> np.ndarray:
    """The (K, 3) palette: explicit colours when given, else the named palette."""
    if colors:
        return colors_array(colors, "palette")
    if name not in PALETTES:
        raise ArtflowError(f"unknown palette '{name}'; use one of {', '.join(PALETTES)}")
    return colors_array(PALETTES[name])


def to_rgb8(color: Sequence[float]) -> tuple[int, ...]:
    """A float colour (RGB or RGBA) as 0..255 integers for Pillow."""
    return tuple(int(round(float(v) * 255)) for v in color)


def label_color(label: str) -> tuple[float, float, float]:
    """A stable, distinct, saturated colour for a label name."""
    hue = (zlib.crc32(label.encode()) % 360) / 360.0
    return hsv_to_rgb_scalar(hue, 0.75, 0.95)


def hsv_to_rgb_scalar(h: float, s: float, v: float) -> tuple[float, float, float]:
    arr = hsv_to_rgb(np.array([[h, s, v]], dtype=np.float32))[0]
    return (float(arr[0]), float(arr[1]), float(arr[2]))


def rgb_to_hsv(rgb: np.ndarray) -> np.ndarray:
    """Vectorised RGB → HSV, all in [0, 1], any leading shape."""
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    mx = np.max(rgb, axis=-1)
    mn = np.min(rgb, axis=-1)
    delta = mx - mn
    safe = np.where(delta > 0, delta, 1.0)
    h = np.where(mx == r, (g - b) / safe % 6.0, np.where(mx == g, (b - r) / safe + 2.0, (r - g) / safe + 4.0))
    h = np.where(delta > 0, h / 6.0, 0.0)
    s = np.where(mx > 0, delta / np.where(mx > 0, mx, 1.0), 0.0)
    return np.stack([h, s, mx], axis=-1).astype(np.float32)


def hsv_to_rgb(hsv: np.ndarray) -> np.ndarray:
    """Vectorised HSV → RGB, all in [0, 1], any leading shape."""
    h, s, v = hsv[..., 0] % 1.0, hsv[..., 1], hsv[..., 2]
    i = np.floor(h * 6.0)
    f = h * 6.0 - i
    p = v * (1 - s)
    q = v * (1 - s * f)
    t = v * (1 - s * (1 - f))
    i = i.astype(np.int32) % 6
    r = np.choose(i, [v, q, p, p, t, v])
    g = np.choose(i, [t, v, v, q, p, p])
    b = np.choose(i, [p, p, t, v, v, q])
    return np.stack([r, g, b], axis=-1).astype(np.float32)


# --- fonts ---------------------------------------------------------------------------------------

_FONT_DIRS = (
    "/usr/share/fonts/truetype/dejavu",
    "/usr/share/fonts/dejavu",
    "/usr/share/fonts/TTF",
    "/Library/Fonts",
    "C:/Windows/Fonts",
)


@functools.lru_cache(maxsize=64)
def font(size: int, path: str = "", bold: bool = False) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """A font at a pixel size: the given file, else DejaVu Sans if installed, else Pillow's default."""
    size = max(4, int(size))
    if path:
        try:
            return ImageFont.truetype(path, size)
        except OSError:
            raise ArtflowError(f"font '{path}' could not be loaded; give a .ttf/.otf file") from None
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    for folder in _FONT_DIRS:
        candidate = Path(folder) / name
        if candidate.is_file():
            try:
                return ImageFont.truetype(str(candidate), size)
            except OSError:
                continue
    return ImageFont.load_default(size)
