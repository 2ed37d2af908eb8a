"""Vectorised 2-D noise (value, Perlin, fBm, ridged) in numpy, seeded by a numpy Generator.

All functions return float32 (H, W) arrays; big numpy ops release the GIL, so noise for
independent graph branches renders in parallel threads.
"""

from __future__ import annotations

import numpy as np


def _fade(t: np.ndarray) -> np.ndarray:
    return t * t * t * (t * (t * 6 - 15) + 10)


def _grid(height: int, width: int, scale: float, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """Lattice coordinates of every pixel at a feature size of `scale` pixels, randomly offset."""
    scale = max(float(scale), 1e-3)
    ox, oy = rng.uniform(0, 1000, size=2)
    xs = np.arange(width, dtype=np.float64) / scale + ox
    ys = np.arange(height, dtype=np.float64) / scale + oy
    x0 = np.floor(xs)
    y0 = np.floor(ys)
    fx = (xs - x0).astype(np.float32)
    fy = (ys - y0).astype(np.float32)
    gx = (x0 - x0.min()).astype(np.intp)
    gy = (y0 - y0.min()).astype(np.intp)
    return gx, gy, fx, fy


def value_noise(height: int, width: int, scale: float, rng: np.random.Generator) -> np.ndarray:
    """Smoothly interpolated random lattice values, in [0, 1]."""
    gx, gy, fx, fy = _grid(height, width, scale, rng)
    lattice = rng.random((gy[-1] + 2, gx[-1] + 2), dtype=np.float32)
    u = _fade(fx)[None, :]
    v = _fade(fy)[:, None]
    a = lattice[gy[:, None], gx[None, :]]
    b = lattice[gy[:, None], gx[None, :] + 1]
    c = lattice[gy[:, None] + 1, gx[None, :]]
    d = lattice[gy[:, None] + 1, gx[None, :] + 1]
    return ((a + (b - a) * u) * (1 - v) + (c + (d - c) * u) * v).astype(np.float32)


def perlin(height: int, width: int, scale: float, rng: np.random.Generator) -> np.ndarray:
    """Classic gradient (Perlin) noise, roughly in [-1, 1]."""
    gx, gy, fx, fy = _grid(height, width, scale, rng)
    angles = rng.uniform(0, 2 * np.pi, size=(gy[-1] + 2, gx[-1] + 2))
    grad = np.stack([np.cos(angles), np.sin(angles)], axis=-1).astype(np.float32)
    X = fx[None, :]
    Y = fy[:, None]
    iy = gy[:, None]
    ix = gx[None, :]

    def dot(dy: int, dx: int) -> np.ndarray:
        g = grad[iy + dy, ix + dx]
        return g[..., 0] * (X - dx) + g[..., 1] * (Y - dy)

    u = _fade(X)
    v = _fade(Y)
    n00, n10, n01, n11 = dot(0, 0), dot(0, 1), dot(1, 0), dot(1, 1)
    top = n00 + (n10 - n00) * u
    bottom = n01 + (n11 - n01) * u
    return ((top + (bottom - top) * v) * np.float32(np.sqrt(2.0))).astype(np.float32)


def fbm(
    height: int,
    width: int,
    scale: float,
    rng: np.random.Generator,
    *,
    octaves: int = 5,
    persistence: float = 0.5,
    lacunarity: float = 2.0,
    kind: str = "perlin",
) -> np.ndarray:
    """Fractal sum of noise octaves in [0, 1]; kind is 'perlin', 'value', 'ridged' or 'turbulence'."""
    total = np.zeros((height, width), dtype=np.float32)
    amp, norm, s = 1.0, 0.0, float(scale)
    for _ in range(max(1, octaves)):
        if kind == "value":
            layer = value_noise(height, width, s, rng) * 2 - 1
        else:
            layer = perlin(height, width, s, rng)
        if kind == "ridged":
            layer = 1 - 2 * np.abs(layer)
        elif kind == "turbulence":
            layer = 2 * np.abs(layer) - 1
        total += np.float32(amp) * layer
        norm += amp
        amp *= persistence
        s = max(s / lacunarity, 1.0)
    out = np.clip(total / np.float32(norm) * 0.5 + 0.5, 0.0, 1.0)
    if kind == "ridged":
        out = out * out
    return out.astype(np.float32)


def stretch(field: np.ndarray) -> np.ndarray:
    """Rescale a field to span [0, 1] (constant fields become 0.5)."""
    lo, hi = float(field.min()), float(field.max())
    if hi - lo < 1e-8:
        return np.full_like(field, 0.5, dtype=np.float32)
    return ((field - lo) / (hi - lo)).astype(np.float32)
