"""Running a super-resolution network over an image of any size in overlapping tiles.

The image is cut into low-resolution tiles that overlap their neighbours by ``overlap`` pixels;
each tile is upscaled alone and laid into the output with a weight that is zero over the outer
quarter of the overlap (where the tile's own zero padding disturbs the network) and rises
linearly across the rest, so the seams are feathered and neighbours' weights sum to one. Edges of
the image itself keep full weight: there the whole-image run sees the same zero padding. Memory
is one tile's activations plus the output and its weight sum, whatever the image's size.

NumPy only; the network is any function from an HWC tile to its upscaled HWC tile.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Network = Callable[[np.ndarray], np.ndarray]


def tile_starts(length: int, tile: int, overlap: int) -> list[int]:
    """Start offsets of tiles of side ``tile`` covering ``length``, neighbours sharing ≥ ``overlap``."""
    if length <= tile:
        return [0]
    stride = max(1, tile - overlap)
    starts = list(range(0, length - tile, stride))
    return starts + [length - tile]


def tiled_pixels(height: int, width: int, tile: int, overlap: int) -> int:
    """Input pixels the network sees when an image is run in tiles (overlaps counted each time)."""
    overlap = min(overlap, tile // 2)
    rows, cols = len(tile_starts(height, tile, overlap)), len(tile_starts(width, tile, overlap))
    return rows * min(tile, height) * cols * min(tile, width)


def feather(size: int, scale: int, lead: bool, trail: bool, overlap: int) -> np.ndarray:
    """The 1-D weight of an upscaled tile of ``size`` low-resolution pixels: 0 then a linear rise
    over the overlap at an edge shared with a neighbour (``lead``: its start, ``trail``: its end)."""
    hr = size * scale
    skip = (overlap // 4) * scale
    rise = max(1, overlap * scale - 2 * skip)
    pos = np.arange(hr, dtype=np.float32) + 0.5
    weight = np.ones(hr, np.float32)
    if lead:
        weight = np.minimum(weight, np.clip((pos - skip) / rise, 0.0, 1.0))
    if trail:
        weight = np.minimum(weight, np.clip((hr - pos - skip) / rise, 0.0, 1.0))
    return weight


def upscale_tiled(network: Network, image: np.ndarray, scale: int, tile: int, overlap: int) -> np.ndarray:
    """Upscale an HWC float image by ``scale`` with ``network``, tile by tile (whole if it fits one)."""
    h, w, c = image.shape
    if h <= tile and w <= tile:
        return network(np.ascontiguousarray(image))
    overlap = min(overlap, tile // 2)
    out = np.zeros((h * scale, w * scale, c), np.float32)
    total = np.zeros((h * scale, w * scale, 1), np.float32)
    ys, xs = tile_starts(h, tile, overlap), tile_starts(w, tile, overlap)
    for y in ys:
        th = min(tile, h)
        wy = feather(th, scale, y > 0, y + th < h, overlap)
        for x in xs:
            tw = min(tile, w)
            wx = feather(tw, scale, x > 0, x + tw < w, overlap)
            up = network(np.ascontiguousarray(image[y:y + th, x:x + tw]))
            weight = (wy[:, None] * wx[None, :])[..., None]
            out[y * scale:(y + th) * scale, x * scale:(x + tw) * scale] += up * weight
            total[y * scale:(y + th) * scale, x * scale:(x + tw) * scale] += weight
    out /= np.maximum(total, 1e-8)
    return out
