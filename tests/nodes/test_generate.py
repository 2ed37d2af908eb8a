"""Generators: seeded per item, varied, and the shapes generator's boxes are exact."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from artflow.errors import ArtflowError
from tests.nodes.conftest import call_node

STOCHASTIC = [
    "generate.gradient",
    "generate.noise",
    "generate.shapes",
    "generate.voronoi",
    "generate.flow_field",
]
FAST = {"generate.flow_field": {"lines": 40, "steps": 12}, "generate.voronoi": {"cells": 8}}


def _gen(tmp: Path, name: str, seed: int = 1, node_id: str = "n", **kw):
    out = call_node(
        name, tmp=tmp, seed=seed, node_id=node_id, width=32, height=24, **FAST.get(name, {}), **kw
    )
    return out["image"] if isinstance(out, dict) else out


@pytest.mark.parametrize("name", STOCHASTIC)
def test_generators_same_seed_same_pixels_other_seed_other_pixels(tmp_path: Path, name: str) -> None:
    a = _gen(tmp_path, name, seed=1, count=2)
    assert np.array_equal(a, _gen(tmp_path, name, seed=1, count=2))
    assert not np.array_equal(a, _gen(tmp_path, name, seed=2, count=2))
    assert not np.array_equal(a, _gen(tmp_path, name, seed=1, node_id="other", count=2))
    assert not np.array_equal(a[0], a[1]), "items of a batch should differ"


@pytest.mark.parametrize("name", STOCHASTIC)
def test_each_item_is_reproducible_alone(tmp_path: Path, name: str) -> None:
    big = _gen(tmp_path, name, count=3)
    small = _gen(tmp_path, name, count=2)
    assert np.array_equal(big[:2], small)


def test_generate_shapes_same_seed_same_pixels(tmp_path: Path) -> None:
    a = call_node("generate.shapes", tmp=tmp_path, seed=7, count=3, width=48, height=48)
    b = call_node("generate.shapes", tmp=tmp_path, seed=7, count=3, width=48, height=48)
    assert np.array_equal(a["image"], b["image"]) and a["boxes"] == b["boxes"]


def test_generate_shapes_boxes_are_exact_and_labelled(tmp_path: Path) -> None:
    from artflow_core.draw import shape_bbox

    out = call_node(
        "generate.shapes",
        tmp=tmp_path,
        width=100,
        height=80,
        background_color="black",
        shapes=["square 0.5 0.5 0.4 0 #ffffff", "circle 0.2 0.25 0.2", "star 0.8 0.7 0.3 10"],
    )
    boxes = out["boxes"][0]
    assert [b.label for b in boxes] == ["square", "circle", "star"]
    assert boxes[0].box == pytest.approx(shape_bbox("square", (50, 40), 32, 0))
    x0, y0, x1, y1 = (round(v) for v in boxes[0].box)
    img = out["image"][0]
    assert img[y0 + 1 : y1 - 1, x0 + 1 : x1 - 1].min() > 0.99  # the square fills its box
    assert img[:, : x0 - 1].max() == 0 or boxes[1].box[0] < x0  # nothing else drawn there but the circle
    assert out["labels"][0][0].score == pytest.approx(1 / 3)
    assert out["mask"][0, 40, 50, 0] == pytest.approx(1.0)


def test_generate_shapes_random_boxes_cover_the_drawn_pixels(tmp_path: Path) -> None:
    out = call_node(
        "generate.shapes",
        tmp=tmp_path,
        seed=3,
        count=4,
        width=64,
        height=64,
        background="transparent",
        overlap=False,
    )
    for img, boxes in zip(out["image"], out["boxes"], strict=True):
        assert boxes, "some shapes drawn"
        covered = np.zeros(img.shape[:2], bool)
        for b in boxes:
            x0, y0, x1, y1 = b.box
            assert 0 <= x0 < x1 <= 64 and 0 <= y0 < y1 <= 64
            covered[int(y0) : int(np.ceil(y1)), int(x0) : int(np.ceil(x1))] = True
        assert img[~covered, 3].max() == 0  # no paint outside the boxes


def test_generate_shapes_rejects_unknown_kinds(tmp_path: Path) -> None:
    with pytest.raises(ArtflowError, match="unknown shape"):
        call_node("generate.shapes", tmp=tmp_path, kinds=["blob"])
    with pytest.raises(ArtflowError, match="KIND X Y SIZE"):
        call_node("generate.shapes", tmp=tmp_path, shapes=["circle 0.5"])


def test_draw_shape_helper_returns_exact_clipped_box() -> None:
    from artflow_core.draw import SHAPES, draw_shape, random_background

    canvas = np.zeros((40, 40, 3), np.float32)
    box = draw_shape(canvas, "square", (20, 20), 20 * np.sqrt(2), rotation=0, color=(1, 0, 0))
    assert box == pytest.approx((10, 10, 30, 30))
    assert np.allclose(canvas[12:28, 12:28], [1, 0, 0]) and canvas[:9].max() == 0
    assert draw_shape(canvas, "circle", (0, 0), 20, color="#00ff00") == pytest.approx((0, 0, 10, 10))
    rng = np.random.default_rng(0)
    for kind in ("solid", "gradient", "noise", "voronoi"):
        bg = random_background(rng, 24, 16, kind)
        assert bg.shape == (16, 24, 3) and bg.dtype == np.float32 and 0 <= bg.min() and bg.max() <= 1
    assert set(SHAPES) == {"circle", "square", "triangle", "star", "hexagon"}


def test_solid_is_exact_and_transparent_gives_rgba(run) -> None:
    out = run("generate.solid", color="#ff8000", count=2, width=5, height=3)
    assert out.shape == (2, 3, 5, 3) and np.allclose(out[0, 0, 0], [1, 128 / 255, 0])
    assert run("generate.solid", color="transparent", width=2, height=2).shape[-1] == 4


def test_gradient_with_given_colours_runs_between_them(run) -> None:
    out = run("generate.gradient", colors=["black", "white"], angle=0, width=64, height=4)
    assert out[0, 0, 0].max() < 0.05 and out[0, 0, -1].min() > 0.95


@pytest.mark.parametrize("kind", ["fbm", "perlin", "value", "ridged", "turbulence"])
def test_noise_kinds_fill_the_range(run, kind: str) -> None:
    out = run("generate.noise", kind=kind, width=48, height=32, scale=12)
    assert out.min() == pytest.approx(0, abs=1e-6) and out.max() == pytest.approx(1, abs=1e-6)
    assert np.array_equal(out[..., 0], out[..., 1])


def test_noise_rgb_and_colormap(run) -> None:
    rgb = run("generate.noise", color="rgb", width=16, height=16)
    assert not np.array_equal(rgb[..., 0], rgb[..., 1])
    assert run("generate.noise", color="viridis", width=16, height=16).shape == (1, 16, 16, 3)


def test_voronoi_has_dark_leading(run) -> None:
    out = run("generate.voronoi", width=64, height=64, cells=10, line_color="black", line_width=3)
    assert (out.max(axis=-1) < 0.05).mean() > 0.05


def test_flow_field_draws_strokes_on_the_background(run) -> None:
    out = run("generate.flow_field", width=64, height=48, lines=60, steps=20, background="black")
    assert (out.max(axis=-1) > 0.2).mean() > 0.05


def test_text_renders_and_texts_input_sets_the_batch(run) -> None:
    out = run("generate.text", text="Hi {index}", width=64, height=32, count=2)
    assert out["image"].shape == (2, 32, 64, 3) and out["mask"].max() > 0.9
    assert not np.array_equal(out["image"][0], out["image"][1])
    many = run("generate.text", texts=["a", "b", "c"], width=32, height=16, font_size=12)
    assert many["image"].shape[0] == 3
