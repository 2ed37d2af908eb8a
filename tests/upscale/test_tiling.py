"""Tiles: they cover the image, their feathered weights sum to one, and a tiled run of a network
that looks at neighbours equals the whole-image run away from the tiles' outer margins."""

from __future__ import annotations

import numpy as np
import pytest
from artflow_upscale.tiling import feather, tile_starts, upscale_tiled
from artflow_upscale.upscale import Route, mean_shrink, network_work_pixels, route


def nearest(scale: int):
    return lambda x: np.repeat(np.repeat(x, scale, axis=0), scale, axis=1)


def blur_then_nearest(x: np.ndarray) -> np.ndarray:
    """A 'network' whose output depends on a 5×5 neighbourhood (zero padding like a conv's)."""
    p = np.pad(x, ((2, 2), (2, 2), (0, 0)))
    acc = sum(p[dy:dy + x.shape[0], dx:dx + x.shape[1]] for dy in range(5) for dx in range(5)) / 25
    return nearest(2)(acc)


@pytest.mark.parametrize(("length", "tile", "overlap"),
                         [(100, 32, 8), (33, 32, 8), (32, 32, 8), (257, 64, 16)])
def test_tiles_cover_the_length_and_share_at_least_the_overlap(length: int, tile: int, overlap: int) -> None:
    starts = tile_starts(length, tile, overlap)
    assert starts[0] == 0 and min(length, starts[-1] + tile) == length
    for a, b in zip(starts, starts[1:], strict=False):
        assert a + tile - b >= overlap


def test_feathered_weights_of_neighbours_sum_to_one_inside_the_image() -> None:
    rng = np.random.default_rng(3)
    image = rng.random((70, 90, 3), dtype=np.float32)
    out = upscale_tiled(nearest(4), image, 4, tile=32, overlap=8)
    np.testing.assert_allclose(out, nearest(4)(image), atol=1e-6)


def test_tiled_equals_whole_for_a_network_that_sees_neighbours() -> None:
    rng = np.random.default_rng(4)
    image = rng.random((61, 75, 3), dtype=np.float32)
    whole = blur_then_nearest(image)
    tiled = upscale_tiled(blur_then_nearest, image, 2, tile=24, overlap=12)
    np.testing.assert_allclose(tiled, whole, atol=1e-6)


def test_a_ramp_rises_only_inside_the_overlap() -> None:
    w = feather(16, 2, lead=True, trail=False, overlap=8)
    assert w[:4].max() == 0 and w[-1] == 1 and np.all(np.diff(w) >= 0)
    assert np.all(feather(16, 2, lead=False, trail=False, overlap=8) == 1)


@pytest.mark.parametrize(("model", "scale", "expected"), [
    (4, 2, Route(1, shrink=2)), (4, 4, Route(1)), (4, 8, Route(1, stretch=2)),
    (2, 8, Route(3)), (8, 2, Route(1, shrink=4)), (2, 4, Route(2)),
])
def test_the_network_runs_as_often_as_its_scale_fits(model: int, scale: int, expected: Route) -> None:
    assert route(model, scale) == expected


def test_work_counts_every_pass_at_its_own_size_and_the_overlaps() -> None:
    assert network_work_pixels(2, 8, 10, 10, tile=64, overlap=8) == 100 + 400 + 1600
    assert network_work_pixels(4, 8, 10, 10, tile=64, overlap=8) == 100
    assert network_work_pixels(4, 2, 10, 10, tile=64, overlap=8) == 100
    assert network_work_pixels(4, 4, 512, 512, tile=128, overlap=16) == (5 * 128) ** 2


def test_mean_shrink_averages_blocks() -> None:
    x = np.arange(16, dtype=np.float32).reshape(4, 4, 1)
    np.testing.assert_allclose(mean_shrink(x, 2)[..., 0], [[2.5, 4.5], [10.5, 12.5]])
