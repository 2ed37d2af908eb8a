"""scikit-image's sample photos as float RGB, and random crops of them: real-photo backgrounds
for the procedural training data of the model plugins (scikit-image is a `train` extra)."""

from __future__ import annotations

import functools

import numpy as np


def sample_photo(name: str) -> np.ndarray:
    """One `skimage.data` image as float32 HWC RGB in [0, 1] (grey and boolean images widened);
    a fresh copy, so callers may change it."""
    return _cached_photo(name).copy()


@functools.cache
def _cached_photo(name: str) -> np.ndarray:
    import skimage.data

    img = getattr(skimage.data, name)()
    if isinstance(img, tuple):  # stereo_motorcycle: (left, right, disparity)
        img = img[0]
    img = np.asarray(img)
    if img.dtype == bool:
        img = img.astype(np.float32)
    elif img.dtype not in (np.float32, np.float64):
        img = img.astype(np.float32) / 255.0
    img = img.astype(np.float32)
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=-1)
    return np.ascontiguousarray(img[..., :3])


def photo_crop(rng: np.random.Generator, names: tuple[str, ...], size: int, *, min_side: int = 8,
               min_divisor: int = 10, box_downscale: bool = False) -> np.ndarray:
    """A random square crop of one of the named photos, resized to ``size``: its side is drawn
    from [max(min_side, short side // min_divisor), short side]; flips and a tint vary too."""
    from PIL import Image

    img = _cached_photo(names[int(rng.integers(len(names)))])
    h, w = img.shape[:2]
    side = int(rng.integers(max(min_side, min(h, w) // min_divisor), min(h, w) + 1))
    y0 = int(rng.integers(0, h - side + 1))
    x0 = int(rng.integers(0, w - side + 1))
    crop = img[y0 : y0 + side, x0 : x0 + side]
    if rng.random() < 0.5:
        crop = crop[:, ::-1]
    if rng.random() < 0.5:
        crop = crop[::-1]
    pil = Image.fromarray((crop * 255 + 0.5).astype(np.uint8))
    method = Image.Resampling.BOX if box_downscale and side >= size else Image.Resampling.BILINEAR
    out = np.asarray(pil.resize((size, size), method), dtype=np.float32) / 255.0
    if rng.random() < 0.3:  # tint: grey textures become coloured ones
        out = np.clip(out * rng.uniform(0.5, 1.2, size=3).astype(np.float32), 0, 1)
    return np.ascontiguousarray(out)
