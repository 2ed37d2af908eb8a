"""How well an upscaler restores detail: photos reduced 4× with bicubic, enlarged 4× again, compared
with the originals (PSNR and SSIM, 8-bit, an 8-pixel border left out) against Lanczos; and how
closely a shipped model reproduces UpscalerJS' own output for the package's fixture.

Used by ship.py (figures for the card) and the tests. Needs scikit-image (the train extra).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from PIL import Image

#: held out: the slim/medium/thick choice and the ×2/×8 routes were measured on astronaut and coffee
PHOTOS = ("chelsea", "rocket", "motorcycle", "camera", "coins")
BORDER = 8

Upscaler = Callable[[np.ndarray], np.ndarray]


def photo(name: str) -> np.ndarray:
    """A scikit-image photo as uint8 RGB (grey ones repeated to three channels)."""
    from skimage import data

    img = data.stereo_motorcycle()[0] if name == "motorcycle" else getattr(data, name)()
    if img.ndim == 2:
        img = np.stack([img] * 3, axis=-1)
    return np.ascontiguousarray(img[..., :3])


def centre_crop(img: np.ndarray, side: int) -> np.ndarray:
    """The central side × side square (the whole image where it is smaller)."""
    h, w = img.shape[:2]
    y, x = max(0, (h - side) // 2), max(0, (w - side) // 2)
    return img[y:y + side, x:x + side]


def bicubic_down(hr: np.ndarray, factor: int) -> np.ndarray:
    """The low-resolution input: an 8-bit photo (sides cut to a multiple of ``factor``) reduced with
    Pillow's bicubic filter, as a canonical float image."""
    h, w = (hr.shape[0] // factor) * factor, (hr.shape[1] // factor) * factor
    small = Image.fromarray(hr[:h, :w]).resize((w // factor, h // factor), Image.Resampling.BICUBIC)
    return np.asarray(small, np.float32) / 255.0


def to_uint8(x: np.ndarray) -> np.ndarray:
    return np.clip(np.round(np.asarray(x) * 255.0), 0, 255).astype(np.uint8)


def scores(original: np.ndarray, restored: np.ndarray) -> tuple[float, float]:
    """(PSNR in dB, SSIM) of two uint8 RGB images, the border left out."""
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity

    b = BORDER
    a, r = original[b:-b, b:-b], restored[b:-b, b:-b]
    return (float(peak_signal_noise_ratio(a, r, data_range=255)),
            float(structural_similarity(a, r, channel_axis=-1, data_range=255)))


def compare(upscalers: dict[str, Upscaler], names: tuple[str, ...] = PHOTOS, side: int | None = None,
            factor: int = 4) -> dict[str, dict[str, dict[str, float]]]:
    """Per photo, per upscaler: {"psnr", "ssim"} of the restored photo (its centre ``side``² crop, or
    the whole photo), plus each upscaler's mean and its mean PSNR gain over "lanczos" if present."""
    out: dict[str, Any] = {}
    for name in names:
        hr = photo(name)
        if side:
            hr = centre_crop(hr, side)
        lr = bicubic_down(hr, factor)
        hr = hr[:lr.shape[0] * factor, :lr.shape[1] * factor]
        for key, fn in upscalers.items():
            p, s = scores(hr, to_uint8(fn(lr)))
            out.setdefault(key, {})[name] = {"psnr": round(p, 2), "ssim": round(s, 4)}
    for rows in out.values():
        rows["mean"] = {m: round(float(np.mean([r[m] for n, r in rows.items() if n in names])), 4)
                        for m in ("psnr", "ssim")}
    if "lanczos" in out:
        for rows in out.values():
            rows["mean"]["gain_db"] = round(rows["mean"]["psnr"] - out["lanczos"]["mean"]["psnr"], 2)
    return out


def fixture_difference(upscale: Upscaler, fixture: np.ndarray, reference: np.ndarray) -> float:
    """Max abs difference, in 8-bit levels, between an upscaler's output for the package's fixture
    (canonical float) and the package's own reference output (uint8)."""
    got = to_uint8(upscale(fixture)).astype(np.int16)
    return float(np.abs(got - reference.astype(np.int16)).max())
