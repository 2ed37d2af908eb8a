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


def _corners(lattice: np.ndarray, gy: np.ndarray, gx: np.ndarray) -> list[np.ndarray]:
    """Lattice values at the four corners of every pixel's cell: rows first, then columns (fast takes)."""
    out = []
    for dy in (0, 1):
        rows = np.take(lattice, gy + dy, axis=0)
        for dx in (0, 1):
            out.append(np.take(rows, gx + dx, axis=1))
    return out


def _looped_values(lattice: np.ndarray, phase: float) -> np.ndarray:
    """Lattice values moved along a triangle wave, half of them each way: unchanged at phase 0,
    back again at phase 1."""
    values = lattice.astype(np.float64)
    direction = np.where((values * 7.0) % 1.0 < 0.5, 1.0, -1.0)
    x = (values / 2 + phase * direction) % 1.0
    return (1 - np.abs(1 - 2 * x)).astype(np.float32)


def _spin(angles: np.ndarray, phase: float) -> np.ndarray:
    """Every lattice gradient turned by ``phase`` whole turns, half of them each way (flow noise):
    the same distribution at every phase, the same field at phase 0 and 1. No draws from the rng."""
    direction = np.where((angles * 7.0) % 1.0 < 0.5, 1.0, -1.0)
    return angles + 2 * np.pi * phase * direction


def value_noise(height: int, width: int, scale: float, rng: np.random.Generator,
                phase: float = 0.0) -> np.ndarray:
    """Smoothly interpolated random lattice values, in [0, 1]; ``phase`` loops them (period 1)."""
    gx, gy, fx, fy = _grid(height, width, scale, rng)
    lattice = rng.random((gy[-1] + 2, gx[-1] + 2), dtype=np.float32)
    if phase:
        lattice = _looped_values(lattice, phase)
    u = _fade(fx)[None, :]
    v = _fade(fy)[:, None]
    a, b, c, d = _corners(lattice, gy, gx)
    return ((a + (b - a) * u) * (1 - v) + (c + (d - c) * u) * v).astype(np.float32)


def perlin(height: int, width: int, scale: float, rng: np.random.Generator, phase: float = 0.0) -> np.ndarray:
    """Classic gradient (Perlin) noise, roughly in [-1, 1]; ``phase`` turns its gradients (period 1)."""
    gx, gy, fx, fy = _grid(height, width, scale, rng)
    angles = rng.uniform(0, 2 * np.pi, size=(gy[-1] + 2, gx[-1] + 2))
    if phase:
        angles = _spin(angles, phase)
    cos = np.cos(angles).astype(np.float32)
    sin = np.sin(angles).astype(np.float32)
    X = fx[None, :]
    Y = fy[:, None]
    c00, c10, c01, c11 = _corners(cos, gy, gx)
    s00, s10, s01, s11 = _corners(sin, gy, gx)
    n00 = c00 * X + s00 * Y
    n10 = c10 * (X - 1) + s10 * Y
    n01 = c01 * X + s01 * (Y - 1)
    n11 = c11 * (X - 1) + s11 * (Y - 1)
    u = _fade(X)
    v = _fade(Y)
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
    phase: float = 0.0,
) -> np.ndarray:
    """Fractal sum of noise octaves in [0, 1]; kind is 'perlin', 'value', 'ridged' or 'turbulence';
    ``phase`` moves every octave through one seamless loop (0 and 1 give the same field)."""
    total = np.zeros((height, width), dtype=np.float32)
    amp, norm, s = 1.0, 0.0, float(scale)
    for _ in range(max(1, octaves)):
        if kind == "value":
            layer = value_noise(height, width, s, rng, phase) * 2 - 1
        else:
            layer = perlin(height, width, s, rng, phase)
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
