"""Geometry: resize, crop, rotate, flip, pad, tile, kaleidoscope, and joining batches."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from PIL import Image

from artflow.errors import ArtflowError
from artflow.imaging import check_size
from artflow.nodes import In, NodeContext, Out, node
from artflow.params import Bool, Choice, Color, Float, Floats, Int
from artflow.types import IMAGE

from ._util import RESAMPLE, bilinear_sample, f32, fit_to, join_alpha, map_items, resize_array, split_alpha

_FILTERS = list(RESAMPLE)


def _with_fill(image: np.ndarray, fill: tuple[float, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Image with alpha (for compositing onto a fill) and the fill as RGBA."""
    rgba = (
        image
        if image.shape[-1] == 4
        else np.concatenate([split_alpha(image)[0], np.ones(image.shape[:-1] + (1,), np.float32)], axis=-1)
    )
    fill4 = np.asarray(tuple(fill) + ((1.0,) if len(fill) == 3 else ()), dtype=np.float32)
    return rgba, fill4


def _keep_alpha(out: np.ndarray, had_alpha: bool, fill_alpha: float) -> np.ndarray:
    return out if (had_alpha or fill_alpha < 1.0) else out[..., :3]


@node(
    "image.resize",
    category="transform",
    inputs={"image": In(IMAGE, "images to resize")},
    outputs={"image": Out(IMAGE, "resized images")},
    params={
        "width": Int(
            None, min=1, max=16384, optional=True, doc="new width in pixels; null keeps the aspect ratio"
        ),
        "height": Int(
            None, min=1, max=16384, optional=True, doc="new height in pixels; null keeps the aspect ratio"
        ),
        "scale": Float(
            None,
            min=0.001,
            max=64.0,
            optional=True,
            doc="scale factor, used when width and height are both null",
        ),
        "mode": Choice(
            ["stretch", "cover", "contain"],
            "stretch",
            doc="with both sizes: stretch to fit, cover (scale and centre-crop) or contain (scale and pad)",
        ),
        "filter": Choice(_FILTERS, "lanczos", doc="resampling filter"),
        "fill": Color("black", doc="padding colour for mode 'contain'"),
    },
)
def image_resize(
    ctx: NodeContext,
    image: np.ndarray,
    width: int | None,
    height: int | None,
    scale: float | None,
    mode: str,
    filter: str,
    fill: tuple[float, ...],
) -> np.ndarray:
    """Resize images; give width, height (the other follows the aspect ratio) or a scale."""
    h, w = image.shape[1:3]
    if width is None and height is None:
        if scale is None:
            raise ArtflowError(f"node '{ctx.node_id}': image.resize needs width, height or scale")
        width, height = max(1, round(w * scale)), max(1, round(h * scale))
    elif height is None:
        height = max(1, round(h * width / w))
    elif width is None:
        width = max(1, round(w * height / h))
    assert width is not None and height is not None
    check_size(width, height, f"node '{ctx.node_id}' output")
    if mode == "stretch" or (width, height) == (w, h):
        return map_items(lambda im: resize_array(im, width, height, filter), image)
    s = max(width / w, height / h) if mode == "cover" else min(width / w, height / h)
    sw, sh = max(1, round(w * s)), max(1, round(h * s))
    scaled = map_items(lambda im: resize_array(im, sw, sh, filter), image)
    if mode == "cover":
        x0, y0 = (sw - width) // 2, (sh - height) // 2
        return f32(scaled[:, y0 : y0 + height, x0 : x0 + width])
    rgba, fill4 = _with_fill(scaled, fill)
    out = np.broadcast_to(fill4, (len(image), height, width, 4)).copy()
    x0, y0 = (width - sw) // 2, (height - sh) // 2
    a = rgba[..., 3:]
    region = out[:, y0 : y0 + sh, x0 : x0 + sw]
    region[..., :3] = rgba[..., :3] * a + region[..., :3] * (1 - a)
    region[..., 3:] = a + region[..., 3:] * (1 - a)
    return f32(_keep_alpha(out, image.shape[-1] == 4, fill4[3]))


@node(
    "image.crop",
    category="transform",
    inputs={"image": In(IMAGE, "images to crop")},
    outputs={"image": Out(IMAGE, "the cropped region")},
    params={
        "x": Int(0, min=0, doc="left edge in pixels"),
        "y": Int(0, min=0, doc="top edge in pixels"),
        "width": Int(None, min=1, optional=True, doc="width in pixels; null runs to the right edge"),
        "height": Int(None, min=1, optional=True, doc="height in pixels; null runs to the bottom edge"),
        "box": Floats(
            None,
            length=4,
            min=0.0,
            max=1.0,
            optional=True,
            doc="relative [x0, y0, x1, y1] in 0..1 of the size; overrides x, y, width, height",
        ),
    },
)
def image_crop(
    ctx: NodeContext,
    image: np.ndarray,
    x: int,
    y: int,
    width: int | None,
    height: int | None,
    box: list[float] | None,
) -> np.ndarray:
    """Cut a rectangle out of every image, in pixels or relative to the size."""
    h, w = image.shape[1:3]
    if box is not None:
        x0, y0 = round(box[0] * w), round(box[1] * h)
        x1, y1 = round(box[2] * w), round(box[3] * h)
    else:
        x0, y0 = x, y
        x1 = w if width is None else x + width
        y1 = h if height is None else y + height
    x1, y1 = min(x1, w), min(y1, h)
    if x1 <= x0 or y1 <= y0:
        raise ArtflowError(
            f"node '{ctx.node_id}': crop ({x0}, {y0})–({x1}, {y1}) is empty for a {w}x{h} image; "
            "keep the rectangle inside the image"
        )
    return f32(image[:, y0:y1, x0:x1])


@node(
    "image.rotate",
    category="transform",
    inputs={"image": In(IMAGE, "images to rotate")},
    outputs={"image": Out(IMAGE, "rotated images")},
    params={
        "degrees": Float(15.0, min=-3600, max=3600, doc="angle, counter-clockwise"),
        "expand": Bool(False, doc="grow the canvas to hold the whole rotated image"),
        "fill": Color("black", doc="colour of uncovered corners; a transparent colour gives RGBA output"),
        "filter": Choice(["nearest", "bilinear", "bicubic"], "bicubic", doc="resampling filter"),
    },
)
def image_rotate(
    ctx: NodeContext, image: np.ndarray, degrees: float, expand: bool, fill: tuple[float, ...], filter: str
) -> np.ndarray:
    """Rotate images about their centre, filling the corners with a colour."""
    rgba, fill4 = _with_fill(image, fill)
    method = RESAMPLE[filter]

    def one(im: np.ndarray) -> np.ndarray:
        a = im[..., 3]
        planes = [im[..., c] * a for c in range(3)] + [a]
        rot = [
            np.asarray(
                Image.fromarray(np.ascontiguousarray(p, dtype=np.float32), "F").rotate(
                    degrees, method, expand=expand
                ),
                dtype=np.float32,
            )
            for p in planes
        ]
        pr = np.stack(rot[:3], axis=-1)
        ar = np.clip(rot[3], 0, 1)[..., None]
        out_a = ar + fill4[3] * (1 - ar)
        out_rgb = (pr + fill4[:3] * fill4[3] * (1 - ar)) / np.maximum(out_a, 1e-6)
        return np.concatenate([out_rgb, out_a], axis=-1)

    out = map_items(one, rgba)
    return f32(_keep_alpha(out, image.shape[-1] == 4, fill4[3]))


@node(
    "image.flip",
    category="transform",
    inputs={"image": In(IMAGE, "images to mirror")},
    outputs={"image": Out(IMAGE, "mirrored images")},
    params={
        "direction": Choice(
            ["horizontal", "vertical", "both"],
            "horizontal",
            doc="horizontal mirrors left↔right, vertical top↔bottom",
        )
    },
)
def image_flip(ctx: NodeContext, image: np.ndarray, direction: str) -> np.ndarray:
    """Mirror images left-right, top-bottom or both."""
    axes = {"horizontal": (2,), "vertical": (1,), "both": (1, 2)}[direction]
    return f32(np.flip(image, axis=axes))


@node(
    "image.pad",
    category="transform",
    inputs={"image": In(IMAGE, "images to pad")},
    outputs={"image": Out(IMAGE, "padded images")},
    params={
        "amount": Int(16, min=0, max=4096, doc="border on every side, in pixels"),
        "left": Int(None, min=0, max=4096, optional=True, doc="left border; null uses amount"),
        "right": Int(None, min=0, max=4096, optional=True, doc="right border; null uses amount"),
        "top": Int(None, min=0, max=4096, optional=True, doc="top border; null uses amount"),
        "bottom": Int(None, min=0, max=4096, optional=True, doc="bottom border; null uses amount"),
        "mode": Choice(
            ["constant", "edge", "reflect", "wrap"],
            "constant",
            doc="what fills the border: a colour, the edge pixels, a mirror or a wrap-around",
        ),
        "fill": Color("white", doc="border colour for mode 'constant'; transparent gives RGBA"),
    },
)
def image_pad(
    ctx: NodeContext,
    image: np.ndarray,
    amount: int,
    left: int | None,
    right: int | None,
    top: int | None,
    bottom: int | None,
    mode: str,
    fill: tuple[float, ...],
) -> np.ndarray:
    """Add a border around images: a colour, repeated edges, a mirror or a wrap-around."""
    t, b = amount if top is None else top, amount if bottom is None else bottom
    l, r = amount if left is None else left, amount if right is None else right
    h, w = image.shape[1:3]
    check_size(w + l + r, h + t + b, f"node '{ctx.node_id}' output")
    widths = ((0, 0), (t, b), (l, r), (0, 0))
    if mode != "constant":
        return f32(np.pad(image, widths, mode="symmetric" if mode == "reflect" else mode))
    rgba, fill4 = _with_fill(image, fill)
    out = np.broadcast_to(fill4, (len(image), h + t + b, w + l + r, 4)).copy()
    out[:, t : t + h, l : l + w] = rgba
    return f32(_keep_alpha(out, image.shape[-1] == 4, fill4[3]))


@node(
    "image.tile",
    category="transform",
    inputs={"image": In(IMAGE, "images to repeat")},
    outputs={"image": Out(IMAGE, "the tiled images")},
    params={
        "nx": Int(3, min=1, max=64, doc="copies across"),
        "ny": Int(3, min=1, max=64, doc="copies down"),
        "mirror": Bool(False, doc="flip every other copy so the tiles join seamlessly"),
    },
)
def image_tile(ctx: NodeContext, image: np.ndarray, nx: int, ny: int, mirror: bool) -> np.ndarray:
    """Repeat each image nx × ny times, optionally mirrored for seamless joins."""
    h, w = image.shape[1:3]
    check_size(w * nx, h * ny, f"node '{ctx.node_id}' output")
    if not mirror:
        return f32(np.tile(image, (1, ny, nx, 1)))
    row = np.concatenate([image if i % 2 == 0 else image[:, :, ::-1] for i in range(nx)], axis=2)
    return f32(np.concatenate([row if j % 2 == 0 else row[:, ::-1] for j in range(ny)], axis=1))


def _reflect(v: np.ndarray, n: int) -> np.ndarray:
    """Fold coordinates back into [0, n-1] by mirroring (no hard clamp seams)."""
    period = 2 * (n - 1) if n > 1 else 1
    v = np.mod(v, period)
    return np.where(v > n - 1, period - v, v)


@node(
    "image.kaleidoscope",
    category="transform",
    inputs={"image": In(IMAGE, "source images")},
    outputs={"image": Out(IMAGE, "symmetric images, same size")},
    params={
        "mode": Choice(
            ["radial", "mirror"],
            "radial",
            doc="radial: N-fold mirrored wedges around the centre; mirror: four-way mirrored quadrants",
        ),
        "segments": Int(6, min=1, max=64, doc="radial mode: number of mirrored wedge pairs"),
        "angle": Float(0.0, min=-360, max=360, doc="radial mode: rotate the sampled wedge, degrees "
                       "(the picture repeats every 360°, not every 360°/segments: the source turns)"),
        "phase": Float(0.0, min=0.0, max=1.0, doc="radial mode: turns of the sampled wedge added to angle, "
                       "period 1 (0 and 1 are the same picture): 0 -> 1 over N frames loops seamlessly"),
        "zoom": Float(1.0, min=0.05, max=20.0, doc="radial mode: >1 samples a larger part of the source"),
        "center_x": Float(0.5, min=0.0, max=1.0, doc="source centre, relative x"),
        "center_y": Float(0.5, min=0.0, max=1.0, doc="source centre, relative y"),
    },
)
def image_kaleidoscope(
    ctx: NodeContext,
    image: np.ndarray,
    mode: str,
    segments: int,
    angle: float,
    phase: float,
    zoom: float,
    center_x: float,
    center_y: float,
) -> np.ndarray:
    """Fold images into mirror or N-fold radial symmetry."""
    h, w = image.shape[1:3]
    if mode == "mirror":

        def axis(n: int, c: float) -> np.ndarray:  # output centre ↔ source c, output edges ↔ source edge 0
            mid = max((n - 1) / 2.0, 0.5)
            return _reflect(c * (n - 1) - np.abs(np.arange(n) - mid) * (c * (n - 1) / mid), n)

        xs, ys = axis(w, center_x), axis(h, center_y)
        X, Y = np.meshgrid(xs, ys)
        return map_items(lambda im: bilinear_sample(im, X, Y), image)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    ox, oy = (w - 1) / 2.0, (h - 1) / 2.0
    dx, dy = xs - ox, oy - ys
    r = np.sqrt(dx * dx + dy * dy) * zoom
    theta = np.arctan2(dy, dx)
    half = math.pi / segments
    t = np.mod(theta, 2 * half)
    t = np.minimum(t, 2 * half - t) + math.radians(angle + 360.0 * (phase % 1.0))
    sx = _reflect(center_x * (w - 1) + r * np.cos(t), w)
    sy = _reflect(center_y * (h - 1) - r * np.sin(t), h)
    return map_items(lambda im: bilinear_sample(im, sx, sy), image)


@node(
    "image.concat",
    category="transform",
    inputs={"a": In(IMAGE, "first batch"), "b": In(IMAGE, "second batch (resized to the first's size)")},
    outputs={"image": Out(IMAGE, "a's items followed by b's")},
    params={"filter": Choice(_FILTERS, "lanczos", doc="resampling filter when sizes differ")},
)
def image_concat(ctx: NodeContext, a: np.ndarray, b: np.ndarray, filter: str) -> np.ndarray:
    """Join two batches into one (e.g. to lay out several branches in one grid)."""
    b = fit_to(b, a.shape[1], a.shape[2], filter)
    channels = max(a.shape[-1], b.shape[-1])
    parts: list[Any] = []
    for part in (a, b):
        rgb, alpha = split_alpha(part)
        if channels == 4 and alpha is None:
            alpha = np.ones(rgb.shape[:-1] + (1,), np.float32)
        parts.append(join_alpha(rgb, alpha))
    return f32(np.concatenate(parts, axis=0))


NODES = [
    image_resize,
    image_crop,
    image_rotate,
    image_flip,
    image_pad,
    image_tile,
    image_kaleidoscope,
    image_concat,
]
