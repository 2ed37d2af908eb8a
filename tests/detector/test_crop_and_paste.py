"""detect.crop cuts every box into a fixed-size batch; composite.paste_boxes puts it back."""

from __future__ import annotations

import numpy as np
from artflow_detector.nodes import crop_region, detect_crop, paste_boxes

from artflow.nodes import NodeContext
from artflow.types import Box


def _ctx(tmp_path) -> NodeContext:
    return NodeContext("n", "t", 0, tmp_path)


def test_crops_come_out_image_by_image_at_one_size(tmp_path):
    images = np.random.default_rng(0).random((2, 50, 80, 3)).astype(np.float32)
    boxes = [[Box((10, 10, 30, 20), "star", 0.9), Box((70, 40, 90, 60), "circle", 0.2)],
             [Box((0, 0, 5, 5), "square", 0.8)]]
    out = detect_crop(_ctx(tmp_path), images, boxes, size=24, padding=0.0, square=False, min_score=0.0)
    assert out["image"].shape == (3, 24, 24, 3) and out["names"] == ["star", "circle", "square"]
    kept = detect_crop(_ctx(tmp_path), images, boxes, size=24, padding=0.1, square=True, min_score=0.5)
    assert kept["names"] == ["star", "square"]


def test_a_crop_is_the_box_content(tmp_path):
    image = np.zeros((1, 40, 40, 3), np.float32)
    image[0, 10:20, 5:25] = [1.0, 0.0, 0.0]
    out = detect_crop(_ctx(tmp_path), image, [[Box((5, 10, 25, 20), "x", 1.0)]], size=8, padding=0.0,
                      square=False, min_score=0.0)
    assert np.allclose(out["image"][0], [1.0, 0.0, 0.0], atol=1e-5)


def test_pasting_unchanged_crops_back_leaves_the_image_as_it_was(tmp_path):
    rng = np.random.default_rng(1)
    image = np.repeat(np.repeat(rng.random((1, 8, 8, 3)), 8, axis=1), 8, axis=2).astype(np.float32)
    boxes = [[Box((16, 16, 48, 48), "a", 1.0), Box((0, 8, 24, 40), "b", 1.0)]]
    crops = detect_crop(_ctx(tmp_path), image, boxes, size=32, padding=0.0, square=False, min_score=0.0)
    back = paste_boxes(_ctx(tmp_path), image, boxes, crops["image"], padding=0.0, square=False, min_score=0.0,
                       feather=0)
    assert back.shape == image.shape
    assert np.abs(back - image).mean() < 0.02


def test_pasting_restyled_crops_changes_only_the_boxes(tmp_path):
    image = np.zeros((1, 32, 32, 3), np.float32)
    boxes = [[Box((8, 8, 16, 16), "a", 1.0)]]
    white = np.ones((1, 10, 10, 3), np.float32)
    out = paste_boxes(_ctx(tmp_path), image, boxes, white, padding=0.0, square=True, min_score=0.0, feather=0)
    assert out[0, 8:16, 8:16].min() == 1.0 and out[0, :8].max() == 0.0 and out[0, 16:].max() == 0.0


def test_square_padded_regions_grow_around_the_centre():
    assert crop_region((10, 10, 30, 20), 0.0, True) == (10, 5, 30, 25)
    assert crop_region((10, 10, 30, 20), 0.5, False) == (0, 5, 40, 25)
