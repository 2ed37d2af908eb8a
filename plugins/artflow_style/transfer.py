"""`style.transfer`: stylize images with a feed-forward style model through ONNX Runtime.

Any size ≥ 1 px works (the image is padded by reflection to a multiple of 4 and at least 64 px,
then cropped back). Images above ``max_whole`` pixels are stylized in overlapping tiles blended
with feathered weights, so a 4096² image needs little memory. The instance-norm statistics are
shared across tiles: a first pass over the whole image (downscaled to at most
``STATS_PIXELS``) computes every norm layer's mean and variance, and each tile runs with those
(the model's ``stats``/``shared`` inputs) — tiles then agree with the whole-image result.

No TensorFlow: only NumPy, Pillow and the ONNX Runtime session the engine opens for the
``style`` param (``ctx.session("style")``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from artflow import IMAGE, Bool, Float, In, Int, Model, ModelError, Out, node
from artflow.imaging import LUMA, resize

STATS_PIXELS = 1 << 20  # the statistics pass sees at most this many pixels
MIN_SIDE = 64
MULTIPLE = 4


def _pad_to(x: np.ndarray, height: int, width: int) -> np.ndarray:
    """Pad an HWC image at the bottom/right to (height, width) by mirroring (edge for tiny ones)."""
    h, w = x.shape[:2]
    if (h, w) == (height, width):
        return x
    mode = "symmetric" if height - h <= h and width - w <= w else "edge"
    return np.pad(x, ((0, height - h), (0, width - w), (0, 0)), mode=mode)


def _round_up(v: int, m: int = MULTIPLE) -> int:
    return max(MIN_SIDE, -(-v // m) * m)


class Stylizer:
    """Runs one style session on single images, whole or tiled with shared statistics."""

    def __init__(self, session: Any):
        self.session = session
        shapes = session.input_shapes
        if not {"image", "stats", "shared"} <= set(shapes):
            raise ModelError(f"model {session.path.name} is not an artflow style model "
                             f"(inputs {session.input_names}; need image, stats, shared)")
        size = shapes["stats"][1]
        if size is None:
            raise ModelError(f"model {session.path.name}: the stats input has no fixed size")
        self.stats_size = int(size)

    def _run(self, x: np.ndarray, stats: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        feeds = {"image": x[None],
                 "stats": stats if stats is not None else np.zeros((1, self.stats_size), np.float32),
                 "shared": np.ones([1], np.float32) if stats is not None else np.zeros([1], np.float32)}
        out = self.session.run(feeds)
        return out["stylized"][0], out["norm_stats"]

    def statistics(self, x: np.ndarray) -> np.ndarray:
        """Instance-norm statistics of the whole image (downscaled to ≤ STATS_PIXELS)."""
        h, w = x.shape[:2]
        if h * w > STATS_PIXELS:
            s = math.sqrt(STATS_PIXELS / (h * w))
            nh = max(MIN_SIDE, int(h * s) // MULTIPLE * MULTIPLE)
            nw = max(MIN_SIDE, int(w * s) // MULTIPLE * MULTIPLE)
            x = resize(x, nh, nw, "box")
        return self._run(_pad_to(x, _round_up(x.shape[0]), _round_up(x.shape[1])))[1]

    def whole(self, x: np.ndarray) -> np.ndarray:
        """Stylize an HWC RGB image in one pass."""
        h, w = x.shape[:2]
        return self._run(_pad_to(x, _round_up(h), _round_up(w)))[0][:h, :w]

    def tiled(self, x: np.ndarray, tile: int = 512, overlap: int = 64) -> np.ndarray:
        """Stylize in overlapping tiles with shared statistics and feathered blending."""
        h, w = x.shape[:2]
        stats = self.statistics(x)
        ph, pw = _round_up(h), _round_up(w)
        xp = _pad_to(x, ph, pw)
        tile = max(MIN_SIDE, tile // MULTIPLE * MULTIPLE)
        overlap = min(max(MULTIPLE, overlap // MULTIPLE * MULTIPLE), tile // 2)
        margin = overlap // 4  # pixels at a tile's inner edge that get no weight at all
        out = np.zeros((ph, pw, 3), np.float32)
        weight = np.zeros((ph, pw), np.float32)
        for y0, th in _spans(ph, tile, overlap):
            wy = _ramp(th, y0 > 0, y0 + th < ph, overlap, margin)
            for x0, tw in _spans(pw, tile, overlap):
                wx = _ramp(tw, x0 > 0, x0 + tw < pw, overlap, margin)
                y, _ = self._run(np.ascontiguousarray(xp[y0:y0 + th, x0:x0 + tw]), stats)
                wt = wy[:, None] * wx[None, :]
                out[y0:y0 + th, x0:x0 + tw] += y * wt[..., None]
                weight[y0:y0 + th, x0:x0 + tw] += wt
        out /= np.maximum(weight, 1e-8)[..., None]
        return out[:h, :w]


def _spans(length: int, tile: int, overlap: int) -> list[tuple[int, int]]:
    """(start, size) of tiles covering ``length`` with at least ``overlap`` between neighbours."""
    if length <= tile:
        return [(0, length)]
    step = tile - overlap
    starts = list(range(0, length - tile, step)) + [length - tile]
    return [(s, tile) for s in starts]


def _ramp(n: int, lead: bool, trail: bool, overlap: int, margin: int) -> np.ndarray:
    """1-D blending weight: 0 over ``margin``, then a linear rise over the rest of ``overlap``."""
    i = np.arange(n, dtype=np.float32) + 0.5
    span = max(1, overlap - 2 * margin)
    w = np.ones(n, np.float32)
    if lead:
        w = np.minimum(w, np.clip((i - margin) / span, 0, 1))
    if trail:
        w = np.minimum(w, np.clip((n - i - margin) / span, 0, 1))
    return w


def preserve_colors(styled: np.ndarray, content: np.ndarray) -> np.ndarray:
    """Luminance transfer: the styled image's luma with the content's chroma (YCbCr)."""
    delta = styled @ LUMA - content @ LUMA
    return np.clip(content + delta[..., None], 0, 1)


def stylize(session: Any, image: np.ndarray, *, strength: float = 1.0, preserve_color: bool = False,
            max_whole: int = 1 << 20, tile: int = 512, overlap: int = 64) -> np.ndarray:
    """Stylize one HWC image (1, 3 or 4 channels; alpha kept) with a style session."""
    rgb = image[..., :3] if image.shape[-1] >= 3 else np.repeat(image[..., :1], 3, axis=-1)
    rgb = np.ascontiguousarray(rgb, dtype=np.float32)
    s = Stylizer(session)
    h, w = rgb.shape[:2]
    styled = s.tiled(rgb, tile, overlap) if h * w > max_whole else s.whole(rgb)
    if preserve_color:
        styled = preserve_colors(styled, rgb)
    if strength < 1.0:
        styled = strength * styled + (1.0 - strength) * rgb
    styled = np.clip(styled, 0, 1)
    if image.shape[-1] == 4:
        styled = np.concatenate([styled, image[..., 3:4]], axis=-1)
    return styled.astype(np.float32)


@node(
    "style.transfer",
    category="model",
    inputs={"image": In(IMAGE, "images to stylize (any size; alpha kept)")},
    outputs={"image": Out(IMAGE, "stylized images, same size")},
    params={
        "style": Model("style", "glass",
                       doc="the style: a shipped style model or an .onnx path"),
        "strength": Float(1.0, min=0.0, max=1.0, doc="blend: 0 keeps the photo, 1 is the full style"),
        "preserve_color": Bool(False, doc="keep the photo's colours (luminance transfer)"),
        "max_whole": Int(1 << 20, min=0, max=1 << 28,
                         doc="images above this many pixels are stylized in tiles (0: always tile)"),
        "tile": Int(512, min=64, max=4096, doc="tile side in pixels (multiple of 4)"),
        "overlap": Int(64, min=8, max=1024, doc="overlap between tiles, feathered"),
    },
    version=1,
)
def style_transfer(ctx: Any, image: np.ndarray, style: str, strength: float, preserve_color: bool,
                   max_whole: int, tile: int, overlap: int) -> np.ndarray:
    """Stylize images with a fast style-transfer model, tiled above a size limit."""
    session = ctx.session("style")
    channels = 4 if image.shape[-1] == 4 else 3
    out = np.empty(image.shape[:3] + (channels,), np.float32)
    for i in range(len(image)):
        out[i] = stylize(session, image[i], strength=strength, preserve_color=preserve_color,
                         max_whole=max_whole, tile=tile, overlap=overlap)
    return out
