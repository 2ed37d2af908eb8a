"""Sample-quality measures: the Fréchet distance and the fixed random-conv feature space."""

from __future__ import annotations

import numpy as np
import pytest
from artflow_generator.evaluation import frechet_distance, random_conv_features


def _reference_fid(a: np.ndarray, b: np.ndarray) -> float:
    from scipy import linalg

    ca, cb = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = np.real(linalg.sqrtm(ca @ cb))
    return float(np.sum((a.mean(0) - b.mean(0)) ** 2) + np.trace(ca) + np.trace(cb) - 2 * np.trace(root))


@pytest.mark.parametrize("n,m,d", [(400, 300, 12), (50, 40, 90), (40, 60, 90)])
def test_frechet_distance_matches_the_textbook_formula(n: int, m: int, d: int) -> None:
    rng = np.random.default_rng(n + d)
    a = rng.normal(size=(n, d))
    b = rng.normal(size=(m, d)) * 1.4 + 0.3
    assert frechet_distance(a, b) == pytest.approx(_reference_fid(a, b), rel=1e-5)


def test_frechet_distance_of_a_set_with_itself_is_zero() -> None:
    a = np.random.default_rng(0).normal(size=(200, 16))
    assert abs(frechet_distance(a, a)) < 1e-6


def test_random_conv_features_are_fixed_and_separate_different_images() -> None:
    rng = np.random.default_rng(1)
    flat = np.full((20, 64, 64, 3), 0.5, np.float32) + rng.normal(0, 0.01, (20, 64, 64, 3)).astype(np.float32)
    noisy = rng.random((20, 64, 64, 3)).astype(np.float32)
    f1, f2 = random_conv_features(flat), random_conv_features(flat)
    assert f1.shape == (20, 384)
    assert np.array_equal(f1, f2)
    within = frechet_distance(f1[:10], f1[10:])
    across = frechet_distance(f1, random_conv_features(noisy))
    assert across > 10 * max(within, 1e-6)
