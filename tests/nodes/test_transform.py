"""Geometry nodes: sizes, aspect ratios, alpha, symmetry."""

from __future__ import annotations

import numpy as np
import pytest

from artflow.errors import ArtflowError
from tests.nodes.conftest import ramp


def test_resize_missing_height_keeps_aspect(run) -> None:
    out = run("image.resize", image=ramp(2, 16, 24), width=48)
    assert out.shape == (2, 32, 48, 3) and out.dtype == np.float32


def test_resize_missing_width_keeps_aspect(run) -> None:
    assert run("image.resize", image=ramp(1, 16, 24), height=8).shape == (1, 8, 12, 3)


def test_resize_scale_and_nothing_given(run) -> None:
    assert run("image.resize", image=ramp(1, 16, 24), scale=0.5).shape == (1, 8, 12, 3)
    with pytest.raises(ArtflowError, match="width, height or scale"):
        run("image.resize", image=ramp(1))


def test_resize_cover_and_contain_hit_the_exact_size(run) -> None:
    img = ramp(1, 16, 32)
    assert run("image.resize", image=img, width=20, height=20, mode="cover").shape == (1, 20, 20, 3)
    out = run("image.resize", image=img, width=20, height=20, mode="contain", fill="red")
    assert out.shape == (1, 20, 20, 3)
    assert np.allclose(out[0, 0, 10], [1, 0, 0])  # letterbox band


def test_resize_keeps_alpha_and_flat_colours(run) -> None:
    img = np.full((1, 10, 10, 4), 0.25, np.float32)
    out = run("image.resize", image=img, width=23, height=7)
    assert out.shape == (1, 7, 23, 4)
    assert np.allclose(out, 0.25, atol=1e-4)


def test_crop_in_pixels_and_relative_box(run) -> None:
    img = ramp(1, 16, 24)
    assert np.array_equal(run("image.crop", image=img, x=2, y=3, width=5, height=4), img[:, 3:7, 2:7])
    assert run("image.crop", image=img, box=[0.5, 0.0, 1.0, 0.5]).shape == (1, 8, 12, 3)
    with pytest.raises(ArtflowError, match="empty"):
        run("image.crop", image=img, x=30)


def test_rotate_90_with_expand_swaps_the_size(run) -> None:
    img = ramp(1, 16, 24)
    out = run("image.rotate", image=img, degrees=90, expand=True, filter="nearest")
    assert out.shape == (1, 24, 16, 3)
    assert np.allclose(out[0], np.rot90(img[0]), atol=1e-5)


def test_rotate_with_transparent_fill_gives_rgba(run) -> None:
    out = run("image.rotate", image=ramp(1, 20, 20), degrees=45, fill="transparent")
    assert out.shape[-1] == 4
    assert out[0, 0, 0, 3] < 0.01 and out[0, 10, 10, 3] > 0.99


def test_flip_mirrors(run) -> None:
    img = ramp(1)
    assert np.array_equal(run("image.flip", image=img), img[:, :, ::-1])
    assert np.array_equal(run("image.flip", image=img, direction="both"), img[:, ::-1, ::-1])


def test_tile_repeats_and_mirror_is_seamless(run) -> None:
    img = ramp(1, 4, 6)
    out = run("image.tile", image=img, nx=3, ny=2)
    assert out.shape == (1, 8, 18, 3)
    assert np.array_equal(out[:, 4:8, 6:12], img)
    mirrored = run("image.tile", image=img, nx=2, ny=1, mirror=True)
    assert np.array_equal(mirrored[0, :, 5], mirrored[0, :, 6])


def test_kaleidoscope_radial_is_mirror_symmetric(run) -> None:
    out = run("image.kaleidoscope", image=ramp(1, 33, 33), segments=5)
    assert np.abs(out[0] - out[0, ::-1]).max() < 0.02


def test_kaleidoscope_mirror_mode_is_four_way_symmetric(run) -> None:
    out = run("image.kaleidoscope", image=ramp(1, 20, 30), mode="mirror")
    assert np.allclose(out[0], out[0, :, ::-1], atol=1e-5)
    assert np.allclose(out[0], out[0, ::-1, :], atol=1e-5)


def test_pad_adds_borders_in_colour_or_reflection(run) -> None:
    img = ramp(1, 4, 6)
    out = run("image.pad", image=img, amount=2, left=0, fill="blue")
    assert out.shape == (1, 8, 8, 3)
    assert np.allclose(out[0, 0, 0], [0, 0, 1])
    refl = run("image.pad", image=img, amount=1, mode="reflect")
    assert np.array_equal(refl[0, 0, 1:-1], img[0, 0])


def test_concat_joins_batches_and_resizes_the_second(run) -> None:
    out = run("image.concat", a=ramp(2, 8, 8), b=ramp(1, 16, 16, channels=4))
    assert out.shape == (3, 8, 8, 4)
