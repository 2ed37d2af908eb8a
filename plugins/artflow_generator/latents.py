"""Latent vectors for the generator nodes (numpy only): per-item draws, truncation, latent walks.

Item keys make every image reproducible on its own. Item ``k`` of a node draws its latent from
``ctx.rng(k)`` (graph seed, node id, item) — or, when the node is given an explicit ``seed``, from
a generator keyed on (seed, k) alone, so the same ``seed`` gives the same picture in any graph and
in any node (``gan.generate`` item 0 of seed S is the ``gan.interpolate`` endpoint for seed S).
"""

from __future__ import annotations

import hashlib

import numpy as np


def seeded_rng(seed: int, item: int) -> np.random.Generator:
    """The generator for item ``item`` of an explicit ``seed`` (independent of graph and node)."""
    digest = hashlib.sha256(f"artflow.gan/{seed}/{item}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def draw_latent(rng: np.random.Generator, size: int, truncation: float = 1.0) -> np.ndarray:
    """One standard-normal latent (float32) scaled toward the mean by ``truncation`` ψ ∈ (0, 1]."""
    z = rng.standard_normal(size).astype(np.float32)
    return (z * np.float32(truncation)).astype(np.float32)


def lerp(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Straight-line interpolation between latents a and b at fractions t (N,) → (N, D)."""
    t = t.astype(np.float32)[:, None]
    return ((1.0 - t) * a[None] + t * b[None]).astype(np.float32)


def slerp(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Spherical interpolation (great circle, norm interpolated linearly): keeps latents at a
    typical radius, so midpoints look as sharp as the endpoints. Falls back to lerp for
    (nearly) parallel latents. Endpoints are returned exactly."""
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    na, nb = np.linalg.norm(a64), np.linalg.norm(b64)
    if na < 1e-12 or nb < 1e-12:
        return lerp(a, b, t)
    cos = float(np.clip(np.dot(a64 / na, b64 / nb), -1.0, 1.0))
    omega = np.arccos(cos)
    if np.sin(omega) < 1e-6:
        return lerp(a, b, t)
    t64 = t.astype(np.float64)[:, None]
    direction = (np.sin((1 - t64) * omega) * (a64 / na) + np.sin(t64 * omega) * (b64 / nb)) / np.sin(omega)
    out = (direction * ((1 - t64) * na + t64 * nb)).astype(np.float32)
    out[t == 0] = a
    out[t == 1] = b
    return out
