"""Plain, reusable drawing functions (no nodes): shapes with exact boxes, gradients, Voronoi, backgrounds.

The generate nodes use these, and so do the classifier and detector plugins when they draw
their training data::

    from artflow_core.draw import SHAPES, draw_shape, random_background
    rng = np.random.default_rng(0)
    canvas = random_background(rng, 128, 128)            # float32 HWC RGB in [0, 1]
    box = draw_shape(canvas, "star", (64, 64), 50, rotation=15, color=(1, 0.8, 0))
    # box == (x0, y0, x1, y1): the exact extent of the drawn star, clipped to the canvas

Colours are float tuples in [0, 1] (RGB or RGBA), or anything `artflow.params.parse_color`
accepts ('#ff8800', 'orange').
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw

from artflow.errors import ArtflowError
from artflow.imaging import LUMA
from artflow.params import parse_color

from . import noise
from ._util import hsv_to_rgb

SHAPES: tuple[str, ...] = ("circle", "square", "triangle", "star", "hexagon")
BACKGROUNDS: tuple[str, ...] = ("solid", "gradient", "noise", "voronoi")

Bbox = tuple[float, float, float, float]


def _color(color: object) -> tuple[float, ...]:
    if isinstance(color, str):
        return parse_color(color)
    values = tuple(float(v) for v in color)  # type: ignore[union-attr]
    if len(values) not in (3, 4):
        raise ArtflowError(f"colour {color!r} needs 3 or 4 values in [0, 1]")
    return values


def shape_polygon(kind: str, center: Sequence[float], size: float, rotation: float = 0.0) -> np.ndarray:
    """Vertices (K, 2) in pixels of a shape whose circumscribed circle has diameter `size`.

    `rotation` is in degrees, counter-clockwise as seen on screen. A circle is a 96-gon.
    """
    r = size / 2.0
    rot = math.radians(rotation)
    if kind == "circle":
        n, radii, start = 96, [r], 0.0
    elif kind == "square":
        n, radii, start = 4, [r], math.pi / 4
    elif kind == "triangle":
        n, radii, start = 3, [r], math.pi / 2
    elif kind == "hexagon":
        n, radii, start = 6, [r], 0.0
    elif kind == "star":
        n, radii, start = 10, [r, r * 0.45], math.pi / 2
    else:
        raise ArtflowError(f"unknown shape '{kind}'; use one of {', '.join(SHAPES)}")
    angles = start + rot + np.arange(n) * (2 * math.pi / n)
    rs = np.array([radii[i % len(radii)] for i in range(n)])
    cx, cy = float(center[0]), float(center[1])
    return np.stack([cx + rs * np.cos(angles), cy - rs * np.sin(angles)], axis=-1)


def shape_bbox(kind: str, center: Sequence[float], size: float, rotation: float = 0.0) -> Bbox:
    """The exact (unclipped) xyxy extent of a shape."""
    if kind == "circle":
        r = size / 2.0
        return (center[0] - r, center[1] - r, center[0] + r, center[1] + r)
    pts = shape_polygon(kind, center, size, rotation)
    return (float(pts[:, 0].min()), float(pts[:, 1].min()), float(pts[:, 0].max()), float(pts[:, 1].max()))


def shape_coverage(
    kind: str,
    center: Sequence[float],
    size: float,
    rotation: float,
    width: int,
    height: int,
    supersample: int = 4,
) -> tuple[tuple[slice, slice], np.ndarray, Bbox]:
    """Anti-aliased coverage of a shape: (row/col slices of the canvas, float coverage there, clipped box)."""
    x0, y0, x1, y1 = shape_bbox(kind, center, size, rotation)
    cx0, cy0 = max(0, math.floor(x0)), max(0, math.floor(y0))
    cx1, cy1 = min(width, math.ceil(x1)), min(height, math.ceil(y1))
    box = (
        min(max(x0, 0.0), width),
        min(max(y0, 0.0), height),
        max(min(x1, float(width)), 0.0),
        max(min(y1, float(height)), 0.0),
    )
    if cx1 <= cx0 or cy1 <= cy0:
        return (slice(0, 0), slice(0, 0)), np.zeros((0, 0), np.float32), box
    ss = max(1, int(supersample))
    mask = Image.new("L", ((cx1 - cx0) * ss, (cy1 - cy0) * ss), 0)
    draw = ImageDraw.Draw(mask)
    if kind == "circle":
        r = size / 2.0
        ex0, ey0 = ((center[0] - r) - cx0) * ss, ((center[1] - r) - cy0) * ss
        # a circle under one supersampled pixel across (tiny canvases) is that one pixel
        ex1 = max(ex0, ((center[0] + r) - cx0) * ss - 1)
        ey1 = max(ey0, ((center[1] + r) - cy0) * ss - 1)
        draw.ellipse([ex0, ey0, ex1, ey1], fill=255)
    else:
        pts = (shape_polygon(kind, center, size, rotation) - [cx0, cy0]) * ss
        draw.polygon([tuple(p) for p in pts.tolist()], fill=255)
    if ss > 1:
        mask = mask.resize((cx1 - cx0, cy1 - cy0), Image.Resampling.BOX)
    cov = np.asarray(mask, dtype=np.float32) / 255.0
    return (slice(cy0, cy1), slice(cx0, cx1)), cov, box


def draw_shape(
    canvas: np.ndarray | Image.Image,
    kind: str,
    center: Sequence[float],
    size: float,
    rotation: float = 0.0,
    color: object = (1.0, 1.0, 1.0),
    *,
    supersample: int = 4,
) -> Bbox:
    """Draw an anti-aliased shape in place on a float HWC array or a PIL image; return its exact box.

    The box is xyxy in pixels, clipped to the canvas (zero-area when the shape lies outside).
    """
    rgba = _color(color)
    alpha = rgba[3] if len(rgba) == 4 else 1.0
    if isinstance(canvas, Image.Image):
        width, height = canvas.size
    else:
        height, width = canvas.shape[:2]
    (rows, cols), cov, box = shape_coverage(kind, center, size, rotation, width, height, supersample)
    if cov.size == 0:
        return box
    if isinstance(canvas, Image.Image):
        fill = tuple(int(round(v * 255)) for v in rgba[:3])
        layer = Image.new(canvas.mode, (cov.shape[1], cov.shape[0]), fill if canvas.mode != "L" else fill[0])
        m = Image.fromarray((cov * alpha * 255 + 0.5).astype(np.uint8), "L")
        canvas.paste(layer, (cols.start, rows.start), m)
        return box
    region = canvas[rows, cols]
    a = (cov * alpha)[..., None]
    col = np.asarray(rgba[:3], dtype=np.float32)
    if region.shape[-1] == 4:
        region[..., :3] = region[..., :3] * (1 - a) + col * a
        region[..., 3:] = region[..., 3:] * (1 - a) + a
    elif region.shape[-1] == 1:
        region[...] = region * (1 - a) + float(col @ LUMA) * a
    else:
        region[...] = region * (1 - a) + col * a
    return box


def random_color(
    rng: np.random.Generator,
    *,
    saturation: tuple[float, float] = (0.45, 1.0),
    value: tuple[float, float] = (0.35, 1.0),
) -> tuple[float, float, float]:
    """A random, fairly saturated colour (HSV sampling reads better than uniform RGB)."""
    hsv = np.array([[rng.random(), rng.uniform(*saturation), rng.uniform(*value)]], dtype=np.float32)
    c = hsv_to_rgb(hsv)[0]
    return (float(c[0]), float(c[1]), float(c[2]))


def contrasting_color(rng: np.random.Generator, under: np.ndarray) -> tuple[float, float, float]:
    """A random colour that stands out from the pixels (N, 3) it will cover: of up to 24 draws
    (a fifth near black or white against the luminance), the farthest from their mean colour."""
    mean = under.reshape(-1, 3).mean(axis=0) if under.size else np.full(3, 0.5, np.float32)
    lum = float(mean @ LUMA)
    best, best_d = np.zeros(3, np.float32), -1.0
    for _ in range(24):
        if rng.random() < 0.2:
            v = float(rng.uniform(0.0, 0.15)) if lum > 0.5 else float(rng.uniform(0.85, 1.0))
            c = np.full(3, v, dtype=np.float32)
        else:
            c = np.asarray(random_color(rng), dtype=np.float32)
        d = float(np.linalg.norm(c - mean)) + abs(float(c @ LUMA) - lum)
        if d > best_d:
            best, best_d = c, d
        if d >= 0.6:
            break
    return (float(best[0]), float(best[1]), float(best[2]))


def gradient_field(
    width: int, height: int, kind: str = "linear", angle: float = 0.0, center: Sequence[float] = (0.5, 0.5)
) -> np.ndarray:
    """A (H, W) ramp in [0, 1]: linear along `angle` degrees, radial or conic from `center` (relative)."""
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    xs = (xs + 0.5) / width - center[0]
    ys = (ys + 0.5) / height - center[1]
    if kind == "linear":
        a = math.radians(angle)
        dx, dy = math.cos(a), -math.sin(a)
        t = xs * dx + ys * dy
        corners = np.array(
            [[-c0, -c1] for c0 in (center[0], center[0] - 1) for c1 in (center[1], center[1] - 1)]
        )
        proj = corners @ np.array([dx, dy])
        lo, hi = float(proj.min()), float(proj.max())
        return np.clip((t - lo) / max(hi - lo, 1e-6), 0, 1).astype(np.float32)
    if kind == "radial":
        d = np.sqrt(xs * xs + ys * ys)
        far = max(
            math.hypot(c0, c1) for c0 in (center[0], 1 - center[0]) for c1 in (center[1], 1 - center[1])
        )
        return np.clip(d / max(far, 1e-6), 0, 1).astype(np.float32)
    if kind == "conic":
        return (((np.arctan2(-ys, xs) - math.radians(angle)) / (2 * math.pi)) % 1.0).astype(np.float32)
    raise ArtflowError(f"unknown gradient kind '{kind}'; use linear, radial or conic")


def color_ramp(t: np.ndarray, colors: np.ndarray) -> np.ndarray:
    """Map values in [0, 1] through evenly spaced colours (K, 3) by linear interpolation → (..., 3)."""
    colors = np.asarray(colors, dtype=np.float32)
    if len(colors) == 1:
        return np.broadcast_to(colors[0], t.shape + (3,)).astype(np.float32)
    pos = np.clip(t, 0, 1) * (len(colors) - 1)
    i = np.minimum(np.floor(pos).astype(np.intp), len(colors) - 2)
    f = (pos - i)[..., None].astype(np.float32)
    return (colors[i] * (1 - f) + colors[i + 1] * f).astype(np.float32)


def voronoi_field(points: np.ndarray, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """For every pixel: index of the nearest point and distance (pixels) to the nearest cell border."""
    pts = np.asarray(points, dtype=np.float32)
    n = len(pts)
    idx = np.zeros((height, width), dtype=np.intp)
    edge = np.full((height, width), np.float32(1e6), dtype=np.float32)
    if n < 2:
        return idx, edge
    xs = np.arange(width, dtype=np.float32) + 0.5
    rows = max(1, int(4_000_000 // max(1, width * n)))
    for y0 in range(0, height, rows):
        ys = np.arange(y0, min(height, y0 + rows), dtype=np.float32)[:, None] + 0.5
        d = (xs[None, :, None] - pts[:, 0]) ** 2 + (ys[:, :, None] - pts[:, 1]) ** 2
        first = np.argmin(d, axis=-1)
        d1 = np.take_along_axis(d, first[..., None], axis=-1)[..., 0]
        np.put_along_axis(d, first[..., None], np.inf, axis=-1)
        second = np.argmin(d, axis=-1)
        d2 = np.take_along_axis(d, second[..., None], axis=-1)[..., 0]
        sep = np.linalg.norm(pts[first] - pts[second], axis=-1)
        idx[y0 : y0 + len(ys)] = first
        edge[y0 : y0 + len(ys)] = (d2 - d1) / np.maximum(2 * sep, 1e-6)
    return idx, edge


def stained_glass(
    rng: np.random.Generator,
    width: int,
    height: int,
    cells: int,
    palette: np.ndarray,
    *,
    line_width: float = 3.0,
    line_color: Sequence[float] = (0.08, 0.07, 0.06),
    texture: float = 0.35,
    relax: int = 1,
    drift: tuple[float, float, np.random.Generator] | None = None,
) -> np.ndarray:
    """A Voronoi mosaic: palette-coloured glass cells with a soft inner glow and dark leading lines.

    ``drift`` = (phase, radius in cell sizes, rng): each cell centre moves round its own circle
    through its resting place, one turn per unit of phase, so phase 0 and 1 give the same mosaic."""
    pts = rng.uniform([0, 0], [width, height], size=(max(2, cells), 2)).astype(np.float32)
    for _ in range(max(0, relax)):  # Lloyd relaxation on a coarse grid evens the cells out
        gw, gh = max(8, width // 4), max(8, height // 4)
        small_idx, _ = voronoi_field(pts * [gw / width, gh / height], gw, gh)
        ys, xs = np.mgrid[0:gh, 0:gw]
        counts = np.bincount(small_idx.ravel(), minlength=len(pts))
        cx = np.bincount(small_idx.ravel(), weights=xs.ravel() + 0.5, minlength=len(pts))
        cy = np.bincount(small_idx.ravel(), weights=ys.ravel() + 0.5, minlength=len(pts))
        ok = counts > 0
        pts[ok, 0] = cx[ok] / counts[ok] * (width / gw)
        pts[ok, 1] = cy[ok] / counts[ok] * (height / gh)
    if drift is not None:
        phase, radius, drift_rng = drift
        start = drift_rng.uniform(0, 2 * math.pi, size=len(pts))
        r = radius * math.sqrt(width * height / max(1, len(pts)))
        turn = start + 2 * math.pi * phase
        pts = pts + (r * np.stack([np.cos(turn) - np.cos(start), np.sin(turn) - np.sin(start)], -1)
                     ).astype(np.float32)
    idx, edge = voronoi_field(pts, width, height)
    base = np.asarray(palette, dtype=np.float32)[rng.integers(0, len(palette), size=len(pts))]
    base = np.clip(base * rng.uniform(0.8, 1.15, size=(len(pts), 1)), 0, 1).astype(np.float32)
    img = base[idx]
    cell = math.sqrt(width * height / max(1, len(pts)))
    glow = 0.72 + 0.28 * np.clip(edge / (0.35 * cell), 0, 1) ** 0.6
    tex = noise.fbm(height, width, max(4.0, cell / 3), rng, octaves=3)
    img = img * glow[..., None] * (1 - texture * 0.5 + texture * tex[..., None])
    img = np.clip(img, 0, 1).astype(np.float32)
    if line_width <= 0:
        return img
    half = line_width / 2.0
    ys, xs = np.mgrid[0:height, 0:width]
    border = np.minimum(np.minimum(xs + 0.5, width - xs - 0.5), np.minimum(ys + 0.5, height - ys - 0.5))
    dist = np.minimum(edge, border.astype(np.float32) - half * 0.5)
    lead = np.clip(half + 0.5 - dist, 0, 1)[..., None]
    out = img * (1 - lead) + np.asarray(line_color[:3], dtype=np.float32) * lead
    return np.clip(out, 0, 1).astype(np.float32)


def random_background(
    rng: np.random.Generator,
    width: int,
    height: int,
    kind: str | None = None,
    palette: np.ndarray | None = None,
) -> np.ndarray:
    """A varied float32 HWC RGB background: 'solid', 'gradient', 'noise' or 'voronoi' (random when None)."""
    kind = kind or BACKGROUNDS[int(rng.integers(len(BACKGROUNDS)))]

    def pick() -> np.ndarray:
        if palette is not None and len(palette):
            return np.asarray(palette[int(rng.integers(len(palette)))], dtype=np.float32)
        return np.asarray(random_color(rng, saturation=(0.1, 0.8), value=(0.2, 0.95)), dtype=np.float32)

    if kind == "solid":
        return np.broadcast_to(pick(), (height, width, 3)).astype(np.float32)
    if kind == "gradient":
        g = gradient_field(
            width,
            height,
            str(rng.choice(["linear", "radial"])),
            float(rng.uniform(0, 360)),
            (float(rng.uniform(0.2, 0.8)), float(rng.uniform(0.2, 0.8))),
        )
        return color_ramp(g, np.stack([pick(), pick()]))
    if kind == "noise":
        field = noise.stretch(
            noise.fbm(height, width, float(rng.uniform(0.15, 0.6)) * max(width, height), rng, octaves=4)
        )
        return color_ramp(field, np.stack([pick(), pick(), pick()]))
    if kind == "voronoi":
        cols = np.stack([pick() for _ in range(5)])
        return stained_glass(
            rng, width, height, int(rng.integers(6, 24)), cols, line_width=0.0, texture=0.2, relax=0
        )
    raise ArtflowError(f"unknown background '{kind}'; use one of {', '.join(BACKGROUNDS)}")
