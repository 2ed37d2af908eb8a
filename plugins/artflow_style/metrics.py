"""Structure-kept metric (no TensorFlow): correlation of smoothed Sobel edge maps.

    edge_correlation(output, content)   # Pearson r of Gaussian(σ=3)-smoothed Sobel magnitudes
"""

from __future__ import annotations

import numpy as np

LUMA = np.array([0.299, 0.587, 0.114], np.float32)


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
