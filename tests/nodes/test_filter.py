"""Filters: blur, sharpen, edges, emboss, median, pixelate, grain."""

from __future__ import annotations

import numpy as np

from tests.nodes.conftest import ramp


def _step(h: int = 16, w: int = 16) -> np.ndarray:
    img = np.zeros((1, h, w, 3), np.float32)
    img[:, :, w // 2 :] = 1
    return img


def test_blur_keeps_flat_images_and_smooths_steps(run) -> None:
    flat = np.full((1, 12, 12, 3), 0.4, np.float32)
    assert np.allclose(run("filter.blur", image=flat, radius=3), 0.4, atol=1e-5)
    out = run("filter.blur", image=_step(), radius=2)
    assert 0.05 < out[0, 8, 7, 0] < 0.95
    assert abs(out.mean() - 0.5) < 0.01


def test_blur_with_alpha_does_not_darken_edges(run) -> None:
    img = np.zeros((1, 16, 16, 4), np.float32)
    img[:, 4:12, 4:12] = [1, 1, 1, 1]
    out = run("filter.blur", image=img, radius=2)
    soft = out[0, 3, 8]
    assert 0 < soft[3] < 1 and np.allclose(soft[:3], 1, atol=1e-4)


def test_sharpen_amount_zero_is_identity_and_else_adds_contrast(run) -> None:
    img = ramp(1)
    assert np.allclose(run("filter.sharpen", image=img, amount=0), img, atol=1e-6)
    out = run("filter.sharpen", image=np.clip(_step() * 0.5 + 0.25, 0, 1), amount=1)
    assert out[0, 8, 7, 0] < 0.25 and out[0, 8, 8, 0] > 0.75


def test_edges_find_steps_and_ignore_flat_areas(run) -> None:
    out = run("filter.edges", image=_step())
    assert out[0, 8, 2].max() == 0 and out[0, 8, 7].min() > 0.5
    inv = run("filter.edges", image=_step(), invert=True)
    assert np.allclose(inv[0, 8, 2], 1)


def test_emboss_of_flat_image_is_mid_grey(run) -> None:
    out = run("filter.emboss", image=np.full((1, 8, 8, 3), 0.7, np.float32))
    assert np.allclose(out, 0.5)


def test_median_removes_salt_noise(run) -> None:
    img = np.full((1, 9, 9, 3), 0.2, np.float32)
    img[0, 4, 4] = 1
    assert np.allclose(run("filter.median", image=img, size=3), 0.2)


def test_pixelate_makes_uniform_blocks(run) -> None:
    out = run("filter.pixelate", image=ramp(1, 16, 24), size=4)
    assert out.shape == (1, 16, 24, 3)
    block = out[0, 4:8, 8:12]
    assert np.allclose(block, block[0, 0])


def test_vignette_darkens_corners_not_centre(run) -> None:
    out = run("filter.vignette", image=np.ones((1, 21, 21, 3), np.float32))
    assert out[0, 10, 10, 0] > 0.99 and out[0, 0, 0, 0] < 0.7


def test_grain_is_seeded_per_item(run, tmp_path) -> None:
    from tests.nodes.conftest import call_node

    img = np.full((2, 8, 8, 3), 0.5, np.float32)
    a = call_node("filter.grain", tmp=tmp_path, seed=1, image=img)
    b = call_node("filter.grain", tmp=tmp_path, seed=1, image=img)
    c = call_node("filter.grain", tmp=tmp_path, seed=2, image=img)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert not np.array_equal(a[0], a[1])
