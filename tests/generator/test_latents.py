"""Latent draws and walks (numpy only)."""

from __future__ import annotations

import numpy as np
from artflow_generator.latents import draw_latent, lerp, seeded_rng, slerp


def test_seeded_rng_depends_only_on_seed_and_item() -> None:
    a = seeded_rng(5, 3).standard_normal(4)
    assert np.array_equal(a, seeded_rng(5, 3).standard_normal(4))
    assert not np.array_equal(a, seeded_rng(5, 4).standard_normal(4))
    assert not np.array_equal(a, seeded_rng(6, 3).standard_normal(4))


def test_truncation_scales_the_latent_toward_zero() -> None:
    full = draw_latent(seeded_rng(1, 0), 16, 1.0)
    half = draw_latent(seeded_rng(1, 0), 16, 0.5)
    assert full.dtype == np.float32
    np.testing.assert_allclose(half, full * 0.5, rtol=1e-6)


def test_slerp_returns_exact_endpoints_and_keeps_a_typical_norm() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(128).astype(np.float32), rng.standard_normal(128).astype(np.float32)
    t = np.linspace(0, 1, 9, dtype=np.float32)
    walk = slerp(a, b, t)
    assert np.array_equal(walk[0], a) and np.array_equal(walk[-1], b)
    straight = lerp(a, b, t)
    # the straight line sags toward the origin in the middle; the great circle does not
    assert np.linalg.norm(walk[4]) > np.linalg.norm(straight[4]) * 1.2
    assert abs(np.linalg.norm(walk[4]) - (np.linalg.norm(a) + np.linalg.norm(b)) / 2) < 1e-3


def test_slerp_of_parallel_latents_falls_back_to_a_straight_line() -> None:
    a = np.ones(8, np.float32)
    t = np.array([0.0, 0.5, 1.0], np.float32)
    np.testing.assert_allclose(slerp(a, 2 * a, t), lerp(a, 2 * a, t), rtol=1e-6)
