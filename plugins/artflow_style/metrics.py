"""Style metrics without TensorFlow: structure kept and palette carried.

    edge_correlation(output, content)      # Pearson r of Gaussian(σ=3)-smoothed Sobel magnitudes
    color_ratio(output, content, style)    # histogram distance to the style, output vs content
"""

from __future__ import annotations

import numpy as np

from artflow.imaging import LUMA


def edge_map(image: np.ndarray, sigma: float = 3.0) -> np.ndarray:
    """Sobel gradient magnitude of the grayscale image, smoothed with a Gaussian of ``sigma`` px."""
    from scipy import ndimage

    gray = image[..., :3] @ LUMA if image.ndim == 3 and image.shape[-1] >= 3 else np.squeeze(image)
    gray = gray.astype(np.float64)
    mag = np.hypot(ndimage.sobel(gray, axis=0), ndimage.sobel(gray, axis=1))
    return ndimage.gaussian_filter(mag, sigma)


def edge_correlation(output: np.ndarray, content: np.ndarray, sigma: float = 3.0) -> float:
    """Pearson correlation of the smoothed edge maps of two same-size images."""
    if output.shape[:2] != content.shape[:2]:
        raise ValueError(f"sizes differ: {output.shape[:2]} vs {content.shape[:2]}")
    a = edge_map(output, sigma).ravel()
    b = edge_map(content, sigma).ravel()
    a -= a.mean()
    b -= b.mean()
    return float((a @ b) / (np.sqrt((a @ a) * (b @ b)) + 1e-12))


def color_histogram(image: np.ndarray, bins: int = 8) -> np.ndarray:
    """Normalised joint RGB histogram (bins³ cells) of an HWC image in [0, 1]."""
    rgb = np.clip(np.asarray(image, np.float64)[..., :3].reshape(-1, 3), 0.0, 1.0)
    idx = np.minimum((rgb * bins).astype(np.int64), bins - 1)
    flat = (idx[:, 0] * bins + idx[:, 1]) * bins + idx[:, 2]
    hist = np.bincount(flat, minlength=bins ** 3).astype(np.float64)
    return hist / max(hist.sum(), 1.0)


def color_ratio(output: np.ndarray, content: np.ndarray, style: np.ndarray, bins: int = 8) -> float:
    """How far the output's palette moved toward the style's: L1 distance between normalised
    8×8×8 RGB histograms, output-vs-style divided by content-vs-style (1 = not at all, 0 = all)."""
    hs = color_histogram(style, bins)
    d_out = np.abs(color_histogram(output, bins) - hs).sum()
    d_in = np.abs(color_histogram(content, bins) - hs).sum()
    return float(d_out / max(d_in, 1e-12))
