"""Blend modes, masks and pasting, including batch broadcasting and alpha."""

from __future__ import annotations

import numpy as np
import pytest

from artflow.errors import ArtflowError
from tests.nodes.conftest import ramp

B, T = 0.25, 0.75


def _flat(v: float, n: int = 1, c: int = 3, h: int = 4, w: int = 4) -> np.ndarray:
    return np.full((n, h, w, c), v, np.float32)


@pytest.mark.parametrize(
    "mode, expected",
    [
        ("normal", T),
        ("multiply", B * T),
        ("screen", 1 - (1 - B) * (1 - T)),
        ("overlay", 2 * B * T),
        ("add", 1.0),
        ("difference", 0.5),
        ("darken", B),
        ("lighten", T),
        ("soft_light", B + (2 * T - 1) * (((16 * B - 12) * B + 4) * B - B)),
    ],
)
def test_blend_modes_follow_their_formulas(run, mode: str, expected: float) -> None:
    out = run("composite.blend", base=_flat(B), top=_flat(T), mode=mode)
    assert np.allclose(out, expected, atol=1e-5)


def test_blend_opacity_and_mask_limit_the_top_layer(run) -> None:
    assert np.allclose(run("composite.blend", base=_flat(B), top=_flat(T), opacity=0), B)
    assert np.allclose(run("composite.blend", base=_flat(B), top=_flat(T), opacity=0.5), 0.5)
    mask = np.zeros((1, 4, 4, 1), np.float32)
    mask[:, :, 2:] = 1
    out = run("composite.blend", base=_flat(B), top=_flat(T), mask=mask)
    assert np.allclose(out[0, :, :2], B) and np.allclose(out[0, :, 2:], T)


def test_blend_broadcasts_a_batch_of_one_and_resizes_the_top(run) -> None:
    out = run("composite.blend", base=ramp(3, 8, 8), top=_flat(T, 1, 3, 16, 16), opacity=0.5)
    assert out.shape == (3, 8, 8, 3)
    with pytest.raises(ArtflowError, match="batches of 3 and 2"):
        run("composite.blend", base=ramp(3, 8, 8), top=ramp(2, 8, 8))


def test_blend_respects_the_top_alpha(run) -> None:
    top = _flat(T, c=4)
    top[..., 3] = 0
    assert np.allclose(run("composite.blend", base=_flat(B), top=top), B)


def test_mask_from_image_luminance_threshold_and_alpha(run) -> None:
    img = ramp(1, channels=4)
    m = run("mask.from_image", image=img)
    assert m.shape == (1, 16, 24, 1)
    hard = run("mask.from_image", image=img, threshold=0.5)
    assert set(np.unique(hard)) <= {0.0, 1.0}
    assert np.allclose(run("mask.from_image", image=img, source="alpha"), 0.8)
    assert np.allclose(run("mask.from_image", image=img, source="alpha", invert=True), 0.2)


def test_apply_mask_turns_the_mask_into_alpha(run) -> None:
    mask = np.zeros((1, 16, 24, 1), np.float32)
    mask[:, :8] = 1
    out = run("composite.apply_mask", image=ramp(1), mask=mask)
    assert out.shape[-1] == 4
    assert np.allclose(out[0, :8, :, 3], 1) and np.allclose(out[0, 8:, :, 3], 0)


def test_paste_places_the_image_and_clips_at_the_edges(run) -> None:
    base = _flat(0.0, h=10, w=10)
    top = _flat(1.0, h=4, w=4)
    out = run("composite.paste", base=base, top=top, x=8, y=-2)
    assert out.shape == base.shape
    assert np.allclose(out[0, 0:2, 8:10], 1) and out[0, 2:, :].max() == 0 and out[0, :, :8].max() == 0
    centred = run("composite.paste", base=base, top=top, x=5, y=5, anchor="center", scale=0.5)
    assert np.allclose(centred[0, 4:6, 4:6], 1) and centred[0].sum() == pytest.approx(4 * 3)
