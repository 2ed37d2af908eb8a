"""Scenes are seeded with exact boxes; letterboxing maps boxes back to the image's pixels; the
NumPy decoder reads boxes off a hand-made grid. No TensorFlow."""

from __future__ import annotations

import numpy as np
import pytest
from artflow_detector.detect import Letterbox, letterbox
from artflow_detector.model import MIN_SCORE, STRIDE, decode_numpy, make_targets
from artflow_detector.scenes import CLASSES, HELDOUT_SEED_BASE, render_scene, scene_batch, scene_seed


def test_the_same_seed_draws_the_same_scene_and_boxes_stay_inside_the_image():
    a, b = render_scene(11, 96), render_scene(11, 96)
    assert np.array_equal(a.image, b.image) and np.array_equal(a.boxes, b.boxes)
    assert not np.array_equal(a.image, render_scene(12, 96).image)
    for seed in range(20):
        s = render_scene(seed, 96)
        assert 1 <= len(s.boxes) <= 8 and s.image.shape == (96, 96, 3)
        assert s.image.min() >= 0 and s.image.max() <= 1
        assert (s.boxes[:, 0] >= 0).all() and (s.boxes[:, 2] <= 96).all()
        assert (s.boxes[:, 2] > s.boxes[:, 0]).all() and (s.boxes[:, 3] > s.boxes[:, 1]).all()
        assert set(s.labels) <= set(CLASSES)


def test_heldout_seeds_and_photos_never_meet_training():
    assert scene_seed(0, "heldout") >= HELDOUT_SEED_BASE > scene_seed(10**6, "train", seed=99)
    from artflow_detector.scenes import HELDOUT_PHOTOS, TRAIN_PHOTOS

    assert not set(HELDOUT_PHOTOS) & set(TRAIN_PHOTOS)
    images, boxes, classes = scene_batch(3, split="heldout", size=64)
    assert images.dtype == np.uint8 and images.shape == (3, 64, 64, 3) and len(boxes) == len(classes) == 3


@pytest.mark.parametrize("h, w", [(100, 300), (300, 100), (256, 256), (37, 53)])
def test_letterbox_maps_boxes_back_to_the_original_pixels(h, w):
    image = np.zeros((1, h, w, 3), np.float32)
    image[0, h // 4: h // 2, w // 5: w // 2] = 1.0  # a white rectangle
    x, geo = letterbox(image, 128)
    assert x.shape == (1, 128, 128, 3)
    truth = np.array([w // 5, h // 4, w // 2, h // 2], np.float64)
    in_model = geo.to_input(truth)
    assert np.allclose(geo.to_image(in_model), truth, atol=1e-6)
    # the rectangle really sits where to_input says (within a pixel of the model input)
    ys, xs = np.nonzero(x[0, ..., 0] > 0.75)
    found = np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]) / 128
    assert np.allclose(found, in_model, atol=1.5 / 128 + 1.0 / min(geo.scale_x * w, 128))
    # padding is grey and outside boxes clip to the image
    if h != w:
        assert np.isclose(x[0, 0, 0, 0], 0.5) or np.isclose(x[0, -1, -1, 0], 0.5)
    clipped = geo.to_image(np.array([-0.5, -0.5, 1.5, 1.5]))
    assert np.allclose(clipped, [0, 0, w, h])


def test_letterbox_geometry_is_centred():
    geo = Letterbox.fit(100, 200, 128)
    assert geo.pad_x == 0 and geo.pad_y == 32 and np.isclose(geo.scale_x, 0.64)


def test_targets_and_numpy_decoder_agree_on_a_hand_made_grid():
    size, n_classes = 64, len(CLASSES)
    box = np.array([[10.0, 20.0, 30.0, 34.0]], np.float32)
    y = make_targets([box], [np.array([3])], size, n_classes)
    heat = np.where(y[..., :n_classes] >= 1, 8.0, -8.0)  # one confident peak at the centre cell
    raw = np.concatenate([heat, y[..., n_classes:n_classes + 4]], axis=-1).astype(np.float32)
    out = decode_numpy(raw, n_classes, size)
    assert out["scores"][0, 0] > 0.99 and out["classes"][0, 0] == 3
    assert np.allclose(out["boxes"][0, 0] * size, box[0], atol=1e-3)
    assert (out["scores"][0, 1:] < MIN_SCORE).all() or (out["scores"][0, 1:] == 0).all()
    assert y.shape == (1, size // STRIDE, size // STRIDE, n_classes + 5)
