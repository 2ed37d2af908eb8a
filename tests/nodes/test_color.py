"""Colour nodes: identities, palettes, dithering, colour maps; alpha always kept."""

from __future__ import annotations

import numpy as np
import pytest

from tests.nodes.conftest import ramp


def test_adjust_defaults_change_nothing(run) -> None:
    img = ramp(2)
    assert np.allclose(run("color.adjust", image=img), img, atol=1e-6)
    assert np.allclose(run("color.adjust", image=img, hue=360), img, atol=1e-6)


def test_adjust_saturation_zero_is_grey_and_hue_rotates_primaries(run) -> None:
    grey = run("color.adjust", image=ramp(1), saturation=0)
    assert np.allclose(grey[..., 0], grey[..., 1], atol=1e-5)
    red = np.zeros((1, 2, 2, 3), np.float32)
    red[..., 0] = 1
    assert np.allclose(run("color.adjust", image=red, hue=120)[0, 0, 0], [0, 1, 0], atol=1e-5)


def test_adjust_brightness_contrast_gamma(run) -> None:
    img = np.full((1, 4, 4, 3), 0.25, np.float32)
    assert np.allclose(run("color.adjust", image=img, brightness=2), 0.5)
    assert np.allclose(run("color.adjust", image=img, contrast=0), 0.25, atol=1e-6)
    assert np.allclose(run("color.adjust", image=img, gamma=2), 0.5, atol=1e-6)


def test_grayscale_and_invert_keep_alpha(run) -> None:
    img = ramp(1, channels=4)
    grey = run("color.grayscale", image=img)
    assert grey.shape[-1] == 4 and np.allclose(grey[..., 3], img[..., 3])
    assert np.allclose(grey[..., 0], grey[..., 2], atol=1e-6)
    inv = run("color.invert", image=img)
    assert np.allclose(inv[..., :3], 1 - img[..., :3]) and np.allclose(inv[..., 3], img[..., 3])


def test_posterize_leaves_only_the_levels(run) -> None:
    out = run("color.posterize", image=ramp(1), levels=3)
    assert set(np.unique(np.round(out * 2, 5))) <= {0.0, 1.0, 2.0}


@pytest.mark.parametrize("method", ["kmeans", "median_cut"])
def test_quantize_uses_at_most_n_colours(run, method: str) -> None:
    out = run("color.quantize", image=ramp(2, 24, 24), colors=5, method=method)
    for item in out:
        assert len(np.unique(item.reshape(-1, 3), axis=0)) <= 5


def test_quantize_to_a_given_palette_uses_only_its_colours(run) -> None:
    out = run("color.quantize", image=ramp(1), custom=["#000000", "#ffffff", "#ff0000"])
    cols = {tuple(c) for c in np.round(out.reshape(-1, 3), 4)}
    assert cols <= {(0.0, 0.0, 0.0), (1.0, 1.0, 1.0), (1.0, 0.0, 0.0)}


def test_quantize_is_deterministic(run) -> None:
    img = ramp(1, 24, 24)
    assert np.array_equal(run("color.quantize", image=img), run("color.quantize", image=img))


@pytest.mark.parametrize("method", ["floyd_steinberg", "ordered"])
def test_dither_to_two_levels_keeps_the_mean_tone(run, method: str) -> None:
    img = np.full((1, 32, 32, 3), 0.3, np.float32)
    out = run("color.dither", image=img, method=method, levels=2)
    assert set(np.unique(out)) <= {0.0, 1.0}
    assert abs(out.mean() - 0.3) < 0.05


@pytest.mark.parametrize("method", ["floyd_steinberg", "ordered"])
def test_dither_to_a_palette_uses_only_its_colours(run, method: str) -> None:
    out = run("color.dither", image=ramp(1, 24, 24), method=method, palette="bauhaus", scale=2)
    from artflow_core._util import palette_array

    pal = {tuple(np.round(c * 255).astype(int)) for c in palette_array("bauhaus")}
    got = {tuple(c) for c in np.round(out.reshape(-1, 3) * 255).astype(int)}
    assert got <= pal and out.shape == (1, 24, 24, 3)


def test_dither_grayscale_is_grey(run) -> None:
    out = run("color.dither", image=ramp(1), grayscale=True)
    assert np.array_equal(out[..., 0], out[..., 1])


def test_colormap_maps_black_and_white_to_the_ends(run) -> None:
    img = np.zeros((1, 1, 2, 3), np.float32)
    img[0, 0, 1] = 1
    out = run("color.colormap", image=img, custom=["#ff0000", "#0000ff"])
    assert np.allclose(out[0, 0, 0], [1, 0, 0]) and np.allclose(out[0, 0, 1], [0, 0, 1])
    rev = run("color.colormap", image=img, custom=["#ff0000", "#0000ff"], reverse=True)
    assert np.allclose(rev[0, 0, 0], [0, 0, 1])


@pytest.mark.parametrize("name", ["viridis", "magma", "sunset", "twilight"])
def test_named_colormaps_work(run, name: str) -> None:
    out = run("color.colormap", image=ramp(1), colormap=name, normalize=True)
    assert out.shape == (1, 16, 24, 3)
