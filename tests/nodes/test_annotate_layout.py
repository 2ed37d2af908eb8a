"""draw.boxes, draw.caption and layout.grid."""

from __future__ import annotations

import numpy as np
import pytest

from artflow.errors import ArtflowError
from artflow.types import Box, Label
from tests.nodes.conftest import ramp


def test_boxes_draw_on_the_outline_and_leave_the_rest(run) -> None:
    img = np.zeros((1, 64, 64, 3), np.float32)
    out = run("draw.boxes", image=img, boxes=[[Box((20, 30, 50, 60), "cat", 0.9)]], fill_opacity=0)
    assert out[0, 45, 20].max() > 0.5  # left edge
    assert out[0, 5:15, 55:].max() == 0  # far away untouched
    assert out[0, 20:29, 20:40].max() > 0.5  # the label tag above the box


def test_boxes_colour_per_label_and_min_score(run) -> None:
    img = np.zeros((1, 64, 64, 3), np.float32)
    boxes = [[Box((5, 20, 25, 40), "cat", 0.9), Box((35, 20, 60, 40), "dog", 0.9)]]
    out = run("draw.boxes", image=img, boxes=boxes, show_label=False, show_score=False, fill_opacity=0)
    assert not np.allclose(out[0, 30, 5], out[0, 30, 35])
    skipped = run("draw.boxes", image=img, boxes=boxes, min_score=0.95)
    assert skipped.max() == 0


def test_tags_of_neighbouring_boxes_do_not_cover_each_other() -> None:
    from artflow_core.nodes_annotate import _tag_place

    placed: list[tuple[float, float, float, float]] = []
    # three boxes side by side with tops level: every tag wants the same strip above them
    for box in ((10, 40, 50, 80), (40, 40, 80, 80), (70, 40, 110, 80)):
        x, y = _tag_place(box, 45, 12, 2, 160, 120, placed)
        assert 0 <= x <= 160 - 45 and 0 <= y <= 120 - 12
        for a, b, a2, b2 in placed:
            assert x + 45 <= a or a2 <= x or y + 12 <= b or b2 <= y, (box, (x, y), placed)
        placed.append((x, y, x + 45, y + 12))


def test_boxes_broadcast_one_image_over_box_lists_and_check_counts(run) -> None:
    out = run("draw.boxes", image=ramp(1, 32, 32), boxes=[[], [Box((1, 1, 9, 9), "x", 0.5)]])
    assert out.shape[0] == 2 and np.allclose(out[0], ramp(1, 32, 32)[0])
    with pytest.raises(ArtflowError):
        run("draw.boxes", image=ramp(2, 32, 32), boxes=[[], [], []])


def test_caption_band_extends_the_canvas_or_overlays(run) -> None:
    img = ramp(2, 40, 60)
    out = run("draw.caption", image=img, text="hello", font_size=10)
    assert out.shape == (2, 58, 60, 3)
    assert np.allclose(out[:, :40], img)
    top = run("draw.caption", image=img, text="hi", position="top", font_size=10)
    assert np.allclose(top[:, 18:], img)
    assert run("draw.caption", image=img, text="hi", overlay=True).shape == img.shape


def test_caption_placeholders_come_from_top_label_and_captions(tmp_path) -> None:
    from artflow_core.nodes_annotate import _caption_text

    from artflow.nodes import NodeContext

    ctx = NodeContext(node_id="c", node_type="draw.caption", seed=9, output_dir=tmp_path)
    labels = [Label("cat", 0.875), Label("dog", 0.1)]
    assert _caption_text("{label} {score} #{index} s{seed}", ctx, 2, None, labels) == "cat 0.88 #2 s9"
    assert _caption_text("", ctx, 0, "given", labels) == "given"
    assert _caption_text("", ctx, 0, None, labels) == "cat (88%)"
    with pytest.raises(ArtflowError, match="placeholder"):
        _caption_text("{nope}", ctx, 0, None, labels)


def test_grid_lays_out_a_batch_as_one_sheet(run) -> None:
    out = run("layout.grid", image=ramp(5, 10, 20), gap=2, columns=0)
    assert out.shape[0] == 1
    assert out.shape[1:3] == (2 * 10 + 3 * 2, 3 * 20 + 4 * 2)
    with_caps = run(
        "layout.grid", image=ramp(2, 10, 20), captions=["a", "b"], columns=2, gap=0, caption_size=10
    )
    assert with_caps.shape[1:3] == (10 + 16, 40)
