"""Fitting images into a fixed-size square model input (letterbox) and mapping results back."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from artflow.imaging import resize

PAD_VALUE = 0.5


@dataclass(frozen=True)
class Letterbox:
    """How an (h, w) image sits, scaled and centred, in a side×side model input."""

    side: int
    scale: float
    pad_x: int
    pad_y: int
    new_w: int
    new_h: int
    width: int
    height: int

    def to_image(self, xy: np.ndarray) -> np.ndarray:
        """Points (..., 2) in model-input units (0…1) → (x, y) pixels of the original image."""
        p = np.asarray(xy, dtype=np.float64) * self.side
        out = np.empty_like(p)
        out[..., 0] = (p[..., 0] - self.pad_x) * self.width / self.new_w
        out[..., 1] = (p[..., 1] - self.pad_y) * self.height / self.new_h
        return out

    def crop(self, plane: np.ndarray) -> np.ndarray:
        """The part of a side×side model output (H, W, C) that covers the image (padding cut off)."""
        k = plane.shape[0] / self.side
        y0, x0 = int(round(self.pad_y * k)), int(round(self.pad_x * k))
        y1, x1 = int(round((self.pad_y + self.new_h) * k)), int(round((self.pad_x + self.new_w) * k))
        return plane[y0:max(y1, y0 + 1), x0:max(x1, x0 + 1)]


def letterbox(images: np.ndarray, side: int) -> tuple[np.ndarray, Letterbox]:
    """An NHWC RGB batch → (N, side, side, 3) float32, the image scaled to fit and centred on grey."""
    n, h, w = images.shape[:3]
    scale = side / max(h, w)
    new_w, new_h = max(1, round(w * scale)), max(1, round(h * scale))
    geo = Letterbox(side, scale, (side - new_w) // 2, (side - new_h) // 2, new_w, new_h, w, h)
    out = np.full((n, side, side, 3), PAD_VALUE, dtype=np.float32)
    out[:, geo.pad_y:geo.pad_y + new_h, geo.pad_x:geo.pad_x + new_w] = resize(images, new_h, new_w)
    return np.clip(out, 0.0, 1.0), geo
