"""Generators: solid colours, gradients, noise, shapes (with boxes), stained glass, flow fields, text.

Every stochastic generator draws from ``ctx.rng(i)`` for item i, so any single item is
reproducible on its own and the same seed gives the same pixels. The shapes generator doubles
as the training-data source of the classifier and detector plugins.
"""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from artflow.budget import Estimate, generator, image_shape, nbytes
from artflow.errors import ArtflowError
from artflow.imaging import check_size
from artflow.nodes import In, NodeContext, Out, node
from artflow.params import Bool, Choice, Color, File, Float, Int, Str, Strings
from artflow.types import BOXES, IMAGE, LABELS, MASK, TEXT, Box, Label

from . import noise
from ._util import PALETTE_NAMES, f32, palette_array, to_rgb8
from ._util import font as load_font
from .draw import (
    BACKGROUNDS,
    SHAPES,
    color_ramp,
    draw_shape,
    gradient_field,
    random_background,
    random_color,
    shape_coverage,
    stained_glass,
)
from .nodes_color import COLORMAPS, colormap_colors


def _phase(doc: str) -> Any:
    return Float(0.0, min=0.0, max=1.0, doc=doc)


def _size_params(width: int = 256, height: int = 256, count: int = 1) -> dict[str, Any]:
    return {
        "count": Int(count, min=1, max=1024, doc="how many images (the batch size)"),
        "width": Int(width, min=1, max=8192, doc="width in pixels"),
        "height": Int(height, min=1, max=8192, doc="height in pixels"),
    }


def _palette_params(default: str = "vivid", random_choice: bool = False) -> dict[str, Any]:
    names = (["random"] if random_choice else []) + list(PALETTE_NAMES)
    doc = "named colour palette" + ("; 'random' picks random colours per item" if random_choice else "")
    return {
        "palette": Choice(names, default, doc=doc),
        "custom": Strings(None, optional=True, doc="explicit palette colours (overrides palette)"),
    }


def _check(ctx: NodeContext, width: int, height: int, count: int) -> None:
    check_size(width, height, f"node '{ctx.node_id}' output")
    if width * height * count > 64 * 4096 * 4096:
        raise ArtflowError(
            f"node '{ctx.node_id}': {count} images of {width}x{height} is too much memory; "
            "lower count or size"
        )


def _flow_field_estimate(params: dict[str, Any]) -> Estimate:
    """Each stroke's path is kept (steps × lines points) while one image is drawn at 2× size."""
    shape = image_shape(params, 3)
    paths = int(params["steps"]) * int(params["lines"]) * 16
    canvas = nbytes((1, shape[1] * 2, shape[2] * 2, 4))
    work = int(params["lines"]) * int(params["steps"]) * shape[0]
    return Estimate({"image": shape}, working_bytes=paths + 2 * canvas, work=work)


#: work units (ARTFLOW_MAX_WORK, about 0.1 µs each) to place and draw one shape, besides its area
SHAPE_WORK = 1500
#: supersampled mask pixels drawn per work unit
SHAPE_PIXELS_PER_WORK = 50
#: Python objects (Box, Label) kept per shape
SHAPE_OBJECT_BYTES = 400


def _shapes_estimate(params: dict[str, Any]) -> Estimate:
    """Images and masks out; per shape a 4x supersampled mask of its size, and its box; placing
    shapes without overlap tries up to 30 spots. Work grows with shapes x count and shape area."""
    count, height, width = int(params["count"]), int(params["height"]), int(params["width"])
    channels = 4 if params.get("background") == "transparent" else 3
    image, mask = (count, height, width, channels), (count, height, width, 1)
    given = params.get("shapes")
    n = len(given) if given else int(params["max_shapes"])
    largest = max(float(params["max_size"]), float(params["min_size"]), 1.0 if given else 0.0)
    side = int(largest * min(width, height)) + 2
    mask_pixels = (side * 4) ** 2
    per_shape = mask_pixels + 3 * side * side * 4  # the L mask, its float coverage and blend temporaries
    canvas = height * width * 4 * 4
    # the batch is copied once to float32 on the way out; a quarter more for numpy's temporaries
    copies = int(1.25 * (nbytes(image) + nbytes(mask)))
    working = copies + 4 * canvas + per_shape + count * n * SHAPE_OBJECT_BYTES
    tries = 1 if params.get("overlap", True) or given else 2
    work = count * n * (SHAPE_WORK * tries + mask_pixels // SHAPE_PIXELS_PER_WORK)
    return Estimate({"image": image, "mask": mask, "boxes": (count,), "labels": (count,)},
                    working_bytes=working, work=work)


def _voronoi_estimate(params: dict[str, Any]) -> Estimate:
    """As any generator for memory; work per image grows with its pixels times cells^0.7 (the
    nearest-cell search) plus the cells' relaxation (measured: 1024x1024, 5000 cells, relax 10
    is about 10 s, 1e8 units)."""
    base = generator()(params, {}, Path("."))
    cells, relax = int(params["cells"]), int(params["relax"])
    pixels = int(params["width"]) * int(params["height"])
    per_item = 40 * cells * (1 + relax / 4) + 0.3 * pixels * cells**0.7
    return Estimate(base.outputs, working_bytes=base.working_bytes, work=int(int(params["count"]) * per_item))


def _item_palette(rng: np.random.Generator, palette: str, custom: list[str] | None, k: int = 6) -> np.ndarray:
    if custom or palette != "random":
        return palette_array(palette, custom)
    return np.asarray([random_color(rng) for _ in range(k)], dtype=np.float32)


@node(
    "generate.solid",
    category="generate",
    estimate=generator(),
    outputs={"image": Out(IMAGE, "solid-colour images")},
    params={"color": Color("#202030", doc="fill colour; a transparent colour gives RGBA"), **_size_params()},
)
def generate_solid(
    ctx: NodeContext, color: tuple[float, ...], count: int, width: int, height: int
) -> np.ndarray:
    """Images filled with one colour."""
    _check(ctx, width, height, count)
    return f32(np.broadcast_to(np.asarray(color, np.float32), (count, height, width, len(color))))


def _distinct_colors(rng: np.random.Generator, pal: np.ndarray, k: int) -> np.ndarray:
    """k palette colours, each pick preferring colours far from the previous one (no muddy gradients)."""
    picks = [int(rng.integers(len(pal)))]
    for _ in range(1, k):
        d = np.linalg.norm(pal - pal[picks[-1]], axis=-1) + 1e-3
        picks.append(int(rng.choice(len(pal), p=d**2 / (d**2).sum())))
    return pal[picks]


@node(
    "generate.gradient",
    category="generate",
    estimate=generator(),
    deterministic=False,
    outputs={"image": Out(IMAGE, "gradient images")},
    params={
        "kind": Choice(["linear", "radial", "conic"], "linear", doc="shape of the gradient"),
        "colors": Strings(
            None, optional=True, doc="gradient stops, first to last; null picks from the palette"
        ),
        "angle": Float(
            None, min=-360, max=360, optional=True, doc="direction in degrees; null is random per item"
        ),
        "center_x": Float(0.5, min=0.0, max=1.0, doc="radial/conic centre, relative x"),
        "center_y": Float(0.5, min=0.0, max=1.0, doc="radial/conic centre, relative y"),
        "stops": Int(2, min=2, max=16, doc="colours picked from the palette when colors is null"),
        "phase": _phase("colour flow, period 1 (0 and 1 are the same picture): linear and radial "
                        "ramps slide there and back, a conic one turns once"),
        **_palette_params("sunset", random_choice=True),
        **_size_params(),
    },
)
def generate_gradient(
    ctx: NodeContext,
    kind: str,
    colors: list[str] | None,
    angle: float | None,
    center_x: float,
    center_y: float,
    stops: int,
    phase: float,
    palette: str,
    custom: list[str] | None,
    count: int,
    width: int,
    height: int,
) -> np.ndarray:
    """Linear, radial or conic colour gradients (random colours and angles per item unless given)."""
    _check(ctx, width, height, count)
    out = np.empty((count, height, width, 3), np.float32)
    fixed = palette_array("", colors) if colors else None
    for i in range(count):
        rng = ctx.rng(i)
        a = float(rng.uniform(0, 360)) if angle is None else angle
        if fixed is not None:
            cols = fixed
        else:
            pal = _item_palette(rng, palette, custom)
            cols = _distinct_colors(rng, pal, stops)
        if kind == "conic":
            cols = np.concatenate([cols, cols[:1]])
        t = gradient_field(width, height, kind, a, (center_x, center_y))
        if phase and kind == "conic":
            t = (t + np.float32(phase)) % np.float32(1.0)
        elif phase:  # a triangle wave of period 2 in t: unchanged at phase 0, back at phase 1
            t = 1 - np.abs(1 - 2 * ((t / 2 + np.float32(phase)) % np.float32(1.0)))
        out[i] = color_ramp(t.astype(np.float32), cols)
    return f32(out)


@node(
    "generate.noise",
    category="generate",
    estimate=generator(),
    deterministic=False,
    outputs={"image": Out(IMAGE, "noise images")},
    params={
        "kind": Choice(
            ["fbm", "perlin", "value", "ridged", "turbulence"],
            "fbm",
            doc="fbm: fractal Perlin; perlin/value: one octave; ridged/turbulence: folded fBm",
        ),
        "scale": Float(96.0, min=1.0, max=8192.0, doc="feature size of the coarsest octave, in pixels"),
        "octaves": Int(5, min=1, max=12, doc="fractal layers (fbm, ridged, turbulence)"),
        "persistence": Float(0.5, min=0.0, max=1.0, doc="amplitude kept from one octave to the next"),
        "lacunarity": Float(2.0, min=1.0, max=4.0, doc="frequency growth from one octave to the next"),
        "color": Choice(
            ["rgb", *COLORMAPS],
            "gray",
            doc="'gray', 'rgb' (independent noise per channel) or a colour map name",
        ),
        "normalize": Bool(True, doc="stretch each image to the full 0..1 range"),
        "phase": _phase("animation, period 1 (0 and 1 are the same picture): every lattice gradient "
                        "turns once, so 0 -> 1 over N frames is a seamless N-frame loop"),
        **_size_params(),
    },
)
def generate_noise(
    ctx: NodeContext,
    kind: str,
    scale: float,
    octaves: int,
    persistence: float,
    lacunarity: float,
    color: str,
    normalize: bool,
    phase: float,
    count: int,
    width: int,
    height: int,
) -> np.ndarray:
    """Value, Perlin and fractal (fBm) noise, grey, RGB or through a colour map."""
    _check(ctx, width, height, count)
    out = np.empty((count, height, width, 3), np.float32)

    def field(rng: np.random.Generator) -> np.ndarray:
        if kind == "perlin":
            f = noise.perlin(height, width, scale, rng, phase) * 0.5 + 0.5
        elif kind == "value":
            f = noise.value_noise(height, width, scale, rng, phase)
        else:
            f = noise.fbm(
                height,
                width,
                scale,
                rng,
                octaves=octaves,
                persistence=persistence,
                lacunarity=lacunarity,
                kind="perlin" if kind == "fbm" else kind,
                phase=phase,
            )
        return noise.stretch(f) if normalize else np.clip(f, 0, 1)

    for i in range(count):
        rng = ctx.rng(i)
        if color == "rgb":
            out[i] = np.stack([field(rng) for _ in range(3)], axis=-1)
        elif color == "gray":
            out[i] = field(rng)[..., None]
        else:
            out[i] = color_ramp(field(rng), colormap_colors(color))
    return f32(out)


def _parse_spec(
    text: str, width: int, height: int, node_id: str
) -> tuple[str, tuple[float, float], float, float, str | None]:
    parts = text.split()
    try:
        kind = parts[0]
        cx, cy, size = float(parts[1]) * width, float(parts[2]) * height, float(parts[3]) * min(width, height)
        rot = float(parts[4]) if len(parts) > 4 else 0.0
    except (IndexError, ValueError):
        raise ArtflowError(
            f"node '{node_id}': shape '{text}' should read 'KIND X Y SIZE [ROTATION] [COLOUR]' "
            "with X, Y, SIZE relative (0..1), e.g. 'star 0.5 0.5 0.4 15 #ffcc00'"
        ) from None
    if kind not in SHAPES:
        raise ArtflowError(f"node '{node_id}': unknown shape '{kind}'; use one of {', '.join(SHAPES)}")
    return kind, (cx, cy), size, rot, (parts[5] if len(parts) > 5 else None)


def _overlaps(box: tuple[float, ...], others: list[tuple[float, ...]], pad: float) -> bool:
    return any(
        box[0] < o[2] + pad and o[0] < box[2] + pad and box[1] < o[3] + pad and o[1] < box[3] + pad
        for o in others
    )


@node(
    "generate.shapes",
    category="generate",
    estimate=lambda params, inputs, input_dir: _shapes_estimate(params),
    deterministic=False,
    outputs={
        "image": Out(IMAGE, "images with shapes"),
        "boxes": Out(BOXES, "exact box of each visible shape, labelled with its kind"),
        "labels": Out(LABELS, "kinds present in each image, most frequent first"),
        "mask": Out(MASK, "coverage of all shapes"),
    },
    params={
        "kinds": Strings(list(SHAPES), doc="shape kinds to choose from: " + ", ".join(SHAPES)),
        "min_shapes": Int(3, min=0, max=500, doc="fewest shapes per image"),
        "max_shapes": Int(8, min=0, max=500, doc="most shapes per image"),
        "min_size": Float(
            0.1, min=0.005, max=2.0, doc="smallest shape diameter, relative to the shorter side"
        ),
        "max_size": Float(
            0.35, min=0.005, max=2.0, doc="largest shape diameter, relative to the shorter side"
        ),
        "rotate": Bool(True, doc="random rotation per shape"),
        "overlap": Bool(True, doc="allow shapes to overlap (false retries placements)"),
        "inside": Bool(True, doc="keep shapes wholly inside the image"),
        "background": Choice(
            ["solid", "random", "transparent", *BACKGROUNDS[1:]],
            "solid",
            doc="solid colour, a random kind per item, transparent, gradient, noise or voronoi",
        ),
        "background_color": Color("#f4f1ea", doc="colour of a solid background"),
        "shapes": Strings(
            None,
            optional=True,
            doc="explicit shapes instead of random ones, each 'KIND X Y SIZE [ROTATION] [COLOUR]' "
            "with X, Y, SIZE relative (0..1)",
        ),
        **_palette_params("vivid", random_choice=True),
        **_size_params(),
    },
)
def generate_shapes(
    ctx: NodeContext,
    kinds: list[str],
    min_shapes: int,
    max_shapes: int,
    min_size: float,
    max_size: float,
    rotate: bool,
    overlap: bool,
    inside: bool,
    background: str,
    background_color: tuple[float, ...],
    shapes: list[str] | None,
    palette: str,
    custom: list[str] | None,
    count: int,
    width: int,
    height: int,
) -> dict[str, Any]:
    """Random (or given) circles, squares, triangles, stars and hexagons, with exact boxes and labels."""
    _check(ctx, width, height, count)
    bad = [k for k in kinds if k not in SHAPES]
    if bad or not kinds:
        raise ArtflowError(
            f"node '{ctx.node_id}': unknown shape kinds {bad}; use some of {', '.join(SHAPES)}"
        )
    if max_shapes < min_shapes:
        raise ArtflowError(
            f"node '{ctx.node_id}': max_shapes ({max_shapes}) is below min_shapes ({min_shapes})"
        )
    lo, hi = sorted((min_size, max_size))
    channels = 4 if background == "transparent" else 3
    images = np.empty((count, height, width, channels), np.float32)
    masks = np.zeros((count, height, width, 1), np.float32)
    all_boxes: list[list[Box]] = []
    all_labels: list[list[Label]] = []
    short = min(width, height)
    for i in range(count):
        rng = ctx.rng(i)
        pal = _item_palette(rng, palette, custom)
        if background == "solid":
            canvas = np.empty((height, width, 3), np.float32)
            canvas[...] = np.asarray(background_color[:3], np.float32)
        elif background == "transparent":
            canvas = np.zeros((height, width, 4), np.float32)
        else:
            canvas = np.array(
                random_background(rng, width, height, None if background == "random" else background),
                dtype=np.float32,
            )
        plan: list[tuple[str, tuple[float, float], float, float, Any]] = []
        if shapes:
            for text in shapes:
                kind, center, size, rot, col = _parse_spec(text, width, height, ctx.node_id)
                plan.append((kind, center, size, rot, col or tuple(pal[len(plan) % len(pal)])))
        else:
            placed: list[tuple[float, ...]] = []
            for _ in range(int(rng.integers(min_shapes, max_shapes + 1))):
                for _attempt in range(30 if not overlap else 1):
                    kind = kinds[int(rng.integers(len(kinds)))]
                    size = float(rng.uniform(lo, hi)) * short
                    r = size / 2 if inside else 0.0
                    cx = float(rng.uniform(r, max(r, width - r)))
                    cy = float(rng.uniform(r, max(r, height - r)))
                    rot = float(rng.uniform(0, 360)) if rotate else 0.0
                    col = tuple(float(v) for v in pal[int(rng.integers(len(pal)))])
                    box = (cx - r, cy - r, cx + r, cy + r)
                    if overlap or not _overlaps(box, placed, 2.0):
                        placed.append(box)
                        plan.append((kind, (cx, cy), size, rot, col))
                        break
        boxes: list[Box] = []
        for kind, center, size, rot, col in plan:
            box = draw_shape(canvas, kind, center, size, rot, col)
            (rows, cols_), cov, _ = shape_coverage(kind, center, size, rot, width, height)
            if cov.size:
                masks[i, rows, cols_, 0] = np.maximum(masks[i, rows, cols_, 0], cov)
            if box[2] - box[0] >= 1 and box[3] - box[1] >= 1:
                boxes.append(Box(box, kind, 1.0))
        images[i] = canvas
        all_boxes.append(boxes)
        counts = Counter(b.label for b in boxes)
        total = sum(counts.values())
        all_labels.append(
            [Label(k, c / total) for k, c in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
        )
    return {"image": f32(images), "boxes": all_boxes, "labels": all_labels, "mask": f32(masks)}


@node(
    "generate.voronoi",
    category="generate",
    estimate=lambda params, inputs, input_dir: _voronoi_estimate(params),
    deterministic=False,
    outputs={"image": Out(IMAGE, "stained-glass images")},
    params={
        "cells": Int(48, min=2, max=5000, doc="number of glass pieces"),
        "line_width": Float(3.0, min=0.0, max=64.0, doc="width of the dark leading between pieces, pixels"),
        "line_color": Color("#17130f", doc="colour of the leading"),
        "texture": Float(0.35, min=0.0, max=1.0, doc="mottled texture inside the glass"),
        "relax": Int(1, min=0, max=10, doc="Lloyd relaxation steps (more = evener cells)"),
        "phase": _phase("cell drift, period 1 (0 and 1 are the same picture): each cell centre goes "
                        "once round its own small circle"),
        "drift": Float(0.3, min=0.0, max=2.0, doc="radius of that circle, in cell sizes"),
        **_palette_params("vivid", random_choice=True),
        **_size_params(),
    },
)
def generate_voronoi(
    ctx: NodeContext,
    cells: int,
    line_width: float,
    line_color: tuple[float, ...],
    texture: float,
    relax: int,
    phase: float,
    drift: float,
    palette: str,
    custom: list[str] | None,
    count: int,
    width: int,
    height: int,
) -> np.ndarray:
    """A stained-glass Voronoi mosaic with dark leading lines."""
    _check(ctx, width, height, count)
    out = np.empty((count, height, width, 3), np.float32)
    for i in range(count):
        rng = ctx.rng(i)
        out[i] = stained_glass(
            rng,
            width,
            height,
            cells,
            _item_palette(rng, palette, custom),
            line_width=line_width,
            line_color=line_color[:3],
            texture=texture,
            relax=relax,
            drift=(phase, drift, ctx.rng(f"{i}/drift")) if phase else None,
        )
    return f32(out)


@node(
    "generate.flow_field",
    category="generate",
    estimate=lambda params, inputs, input_dir: _flow_field_estimate(params),
    deterministic=False,
    outputs={"image": Out(IMAGE, "flow-field drawings")},
    params={
        "lines": Int(900, min=1, max=100000, doc="number of strokes"),
        "steps": Int(80, min=2, max=2000, doc="points per stroke"),
        "step_length": Float(2.0, min=0.1, max=50.0, doc="distance between points, pixels"),
        "scale": Float(160.0, min=4.0, max=8192.0, doc="feature size of the Perlin angle field, pixels"),
        "curl": Float(1.5, min=0.0, max=10.0, doc="how many turns the noise value maps to"),
        "stroke": Float(1.4, min=0.2, max=32.0, doc="line width, pixels"),
        "opacity": Float(0.65, min=0.01, max=1.0, doc="stroke opacity"),
        "color_by": Choice(
            ["random", "angle", "position"], "position", doc="how a stroke picks its colour from the palette"
        ),
        "background": Color("#0f0e17", doc="canvas colour"),
        "phase": _phase("animation, period 1 (0 and 1 are the same picture): the angle field's noise "
                        "loops once, the strokes follow it from fixed starts"),
        **_palette_params("sunset", random_choice=True),
        **_size_params(),
    },
)
def generate_flow_field(
    ctx: NodeContext,
    lines: int,
    steps: int,
    step_length: float,
    scale: float,
    curl: float,
    stroke: float,
    opacity: float,
    color_by: str,
    background: tuple[float, ...],
    phase: float,
    palette: str,
    custom: list[str] | None,
    count: int,
    width: int,
    height: int,
) -> np.ndarray:
    """Strokes that follow a Perlin-noise angle field."""
    _check(ctx, width, height, count)
    ss = 2  # draw at twice the size, then downsample: smooth anti-aliased strokes
    out = np.empty((count, height, width, 3), np.float32)
    for i in range(count):
        rng = ctx.rng(i)
        pal = _item_palette(rng, palette, custom)
        field = noise.fbm(height, width, scale, rng, octaves=2, phase=phase) * np.float32(2 * math.pi * curl)
        pos = rng.uniform([0, 0], [width, height], size=(lines, 2))
        start = pos.copy()
        path = np.empty((steps, lines, 2))
        alive_until = np.full(lines, steps)
        for s in range(steps):
            path[s] = pos
            ix = np.clip(pos[:, 0].astype(np.intp), 0, width - 1)
            iy = np.clip(pos[:, 1].astype(np.intp), 0, height - 1)
            a = field[iy, ix]
            pos = pos + step_length * np.stack([np.cos(a), np.sin(a)], axis=-1)
            outside = (pos[:, 0] < 0) | (pos[:, 0] >= width) | (pos[:, 1] < 0) | (pos[:, 1] >= height)
            alive_until = np.where(outside & (alive_until == steps), s + 1, alive_until)
        if color_by == "random":
            t = rng.random(lines)
        elif color_by == "angle":
            t = field[
                np.clip(start[:, 1].astype(np.intp), 0, height - 1),
                np.clip(start[:, 0].astype(np.intp), 0, width - 1),
            ] / np.float32(2 * math.pi * max(curl, 1e-6))
        else:
            t = (start[:, 0] / width + start[:, 1] / height) / 2 + rng.normal(0, 0.06, lines)
        cols = color_ramp(np.clip(t, 0, 1).astype(np.float32), pal)
        img = Image.new("RGB", (width * ss, height * ss), to_rgb8(background[:3]))
        draw = ImageDraw.Draw(img, "RGBA")
        alpha = int(round(opacity * 255))
        w_px = max(1, int(round(stroke * ss)))
        for j in range(lines):
            n = int(alive_until[j])
            if n < 2:
                continue
            pts = (path[:n, j] * ss).round(1).tolist()
            draw.line([tuple(p) for p in pts], fill=to_rgb8(cols[j]) + (alpha,), width=w_px, joint="curve")
        small = img.resize((width, height), Image.Resampling.LANCZOS)
        out[i] = np.asarray(small, dtype=np.float32) / 255.0
    return f32(out)


def _fill(template: str, ctx: NodeContext, **values: Any) -> str:
    """Fill {placeholders}; a template that does not format is used as written."""
    try:
        return template.format(seed=ctx.seed, **values)
    except (KeyError, IndexError, ValueError):
        return template


def _fit_font(
    draw: ImageDraw.ImageDraw, text: str, width: int, height: int, path: str, spacing: float
) -> Any:
    size = max(8, height)
    while size > 8:
        f = load_font(size, path)
        x0, y0, x1, y1 = draw.multiline_textbbox((0, 0), text, font=f, spacing=int(size * spacing))
        if x1 - x0 <= width * 0.9 and y1 - y0 <= height * 0.9:
            return f, size
        size = int(size * 0.9)
    return load_font(8, path), 8


@node(
    "generate.text",
    category="generate",
    inputs={"texts": In(TEXT, "one text per image (overrides the text param and count)", optional=True)},
    outputs={"image": Out(IMAGE, "rendered text"), "mask": Out(MASK, "text coverage")},
    params={
        "text": Str("artflow", doc="text to render; may use {index} and {seed}; \\n breaks lines"),
        "font_size": Int(0, min=0, max=2048, doc="pixel size; 0 fits the text to the image"),
        "font": File(None, optional=True, doc="a .ttf/.otf file; null uses DejaVu Sans or Pillow's default"),
        "color": Color("#fffffe", doc="text colour"),
        "background": Color("#1b1b2f", doc="background colour; a transparent colour gives RGBA"),
        "stroke": Int(0, min=0, max=64, doc="outline width in pixels"),
        "stroke_color": Color("black", doc="outline colour"),
        "align": Choice(["center", "left", "right"], "center", doc="horizontal alignment"),
        "spacing": Float(0.2, min=0.0, max=3.0, doc="extra line spacing, relative to the font size"),
        **_size_params(512, 256),
    },
)
def generate_text(
    ctx: NodeContext,
    texts: list[str] | None,
    text: str,
    font_size: int,
    font: str | None,
    color: tuple[float, ...],
    background: tuple[float, ...],
    stroke: int,
    stroke_color: tuple[float, ...],
    align: str,
    spacing: float,
    count: int,
    width: int,
    height: int,
) -> dict[str, Any]:
    """Render text centred on a background."""
    if texts is None:
        body = text.replace("\\n", "\n")
        texts = [_fill(body, ctx, index=i) for i in range(count)]
    _check(ctx, width, height, len(texts))
    font_path = font or ""
    has_alpha = len(background) == 4 and background[3] < 1.0
    images, masks = [], []
    for t in texts:
        cov = Image.new("L", (width, height), 0)
        d = ImageDraw.Draw(cov)
        if font_size == 0:
            fnt, size = _fit_font(d, t or " ", width - 2 * stroke, height - 2 * stroke, font_path, spacing)
        else:
            fnt, size = load_font(font_size, font_path), font_size
        anchor_x = {"center": width / 2, "left": width * 0.05, "right": width * 0.95}[align]
        anchor = {"center": "mm", "left": "lm", "right": "rm"}[align]
        kw = dict(font=fnt, anchor=anchor, align=align, spacing=int(size * spacing))
        fill_img = Image.new("RGBA", (width, height), to_rgb8(background[:3]) + (0,))
        fd = ImageDraw.Draw(fill_img)
        if stroke:
            fd.multiline_text(
                (anchor_x, height / 2),
                t,
                fill=to_rgb8(stroke_color[:3]) + (255,),
                stroke_width=stroke,
                stroke_fill=to_rgb8(stroke_color[:3]) + (255,),
                **kw,
            )
            d.multiline_text((anchor_x, height / 2), t, fill=255, stroke_width=stroke, stroke_fill=255, **kw)
        fd.multiline_text((anchor_x, height / 2), t, fill=to_rgb8(color[:3]) + (255,), **kw)
        d.multiline_text((anchor_x, height / 2), t, fill=255, **kw)
        layer = np.asarray(fill_img, dtype=np.float32) / 255.0
        bg = np.empty((height, width, 4), np.float32)
        bg[...] = np.asarray(tuple(background[:3]) + (background[3] if len(background) == 4 else 1.0,))
        a = layer[..., 3:] * (color[3] if len(color) == 4 else 1.0)
        out_a = a + bg[..., 3:] * (1 - a)
        rgb = (layer[..., :3] * a + bg[..., :3] * bg[..., 3:] * (1 - a)) / np.maximum(out_a, 1e-6)
        images.append(np.concatenate([rgb, out_a], axis=-1) if has_alpha else rgb)
        masks.append(np.asarray(cov, dtype=np.float32)[..., None] / 255.0)
    return {"image": f32(np.stack(images)), "mask": f32(np.stack(masks))}


NODES = [
    generate_solid,
    generate_gradient,
    generate_noise,
    generate_shapes,
    generate_voronoi,
    generate_flow_field,
    generate_text,
]
