"""`artflow train detector --quick` writes a parity-checked ONNX that runs through detect.objects;
the shipped `shapes` detector finds held-out shapes (ONNX Runtime only)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import artflow as af

SHIPPED = Path(__file__).resolve().parents[2] / "plugins" / "artflow_detector" / "models" / "shapes.onnx"


def test_quick_training_writes_everything_and_its_model_runs_through_detect_objects(tmp_path: Path):
    pytest.importorskip("tf2onnx")
    from artflow.cli import cli
    from artflow.models.card import read_card

    out = tmp_path / "run"
    # how long it takes is a benchmark figure (benchmarks/train_bench.py, and the test durations
    # pytest lists after every run), not an assertion
    args = ["train", "detector", "--quick", "--workers", "1", "-o", str(out), "--json"]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    for name in ("shapes.keras", "shapes.onnx", "loss_curve.png", "samples.png", "metrics.json"):
        assert (out / name).is_file(), name
    metrics = json.loads((out / "metrics.json").read_text())["metrics"]
    assert {"map50", "map50_95", "per_class"} <= set(metrics)
    card = read_card(out / "shapes.onnx")
    assert card is not None and card.kind == "detector" and card.labels[0] == "circle"
    assert "map50" in card.metrics and card.metrics["parity_max_abs_diff"] <= 1e-4
    assert card.training["command"].startswith("artflow train detector")

    g = af.Graph(seed=1)
    image = g.add("generate.shapes", width=150, height=90)
    found = g.add("detect.objects", image=image, model=str(out / "shapes.onnx"), score_threshold=0.0,
                  max_detections=7)
    run = g.run(output_dir=tmp_path / "render")
    boxes = run[found]
    assert len(boxes) == 1 and len(boxes[0]) <= 7
    for b in boxes[0]:
        assert 0 <= b.box[0] <= b.box[2] <= 150 and 0 <= b.box[1] <= b.box[3] <= 90


def test_the_shipped_detector_finds_heldout_shapes():
    if not SHIPPED.is_file():
        pytest.skip("the shipped shapes detector is not there yet")
    from artflow_detector.detect import detections
    from artflow_detector.evaluation import average_precision
    from artflow_detector.scenes import CLASSES, scene_batch

    from artflow import models as runtime

    images, boxes, classes = scene_batch(100, split="heldout", size=256, seed=3)
    session = runtime.get_session(SHIPPED, "cpu")
    found = detections(session, images.astype(np.float32) / 255, score_threshold=0.05)
    ap = average_precision(found, list(zip(boxes, classes, strict=True)), len(CLASSES), list(CLASSES))
    # the shipped 192² model: 0.956 / 0.822 on these 100 scenes (the 128² one before it: 0.888 / 0.735)
    assert ap["map50"] >= 0.92, ap
    assert ap["map"] >= 0.75, ap


def test_detect_objects_on_the_shipped_model_maps_boxes_into_a_wide_image(tmp_path: Path):
    if not SHIPPED.is_file():
        pytest.skip("the shipped shapes detector is not there yet")
    g = af.Graph(seed=2)
    image = g.add("generate.shapes", width=400, height=200, min_shapes=1, max_shapes=1, inside=True,
                  shapes=["star 0.75 0.5 0.45 10 #ffdd00"])
    found = g.add("detect.objects", image=image, model="shapes", score_threshold=0.3)
    run = g.run(output_dir=tmp_path)
    best = run[found][0][0]
    assert best.label == "star"
    x0, y0, x1, y1 = best.box
    assert abs((x0 + x1) / 2 - 300) < 8 and abs((y0 + y1) / 2 - 100) < 8


def test_the_node_path_and_eval_never_import_tensorflow(tmp_path: Path):
    if not SHIPPED.is_file():
        pytest.skip("the shipped shapes detector is not there yet")
    import subprocess
    import sys

    code = (
        "import sys, artflow as af\n"
        "from click.testing import CliRunner\n"
        "from artflow.cli import cli\n"
        "g = af.Graph(seed=1)\n"
        "src = g.add('generate.shapes', width=96, height=64)\n"
        "found = g.add('detect.objects', image=src, model='shapes')\n"
        "crops = g.add('detect.crop', image=src, boxes=found, size=32)\n"
        f"g.run(output_dir={str(tmp_path)!r})\n"
        "r = CliRunner().invoke(cli, ['eval', 'detector', '--scenes', '4', '--json'])\n"
        "assert r.exit_code == 0, r.output\n"
        "assert '\"map50\"' in r.output\n"
        "assert not [m for m in sys.modules if m.startswith(('tensorflow', 'keras'))]\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]


def test_init_takes_weights_from_another_input_side(tmp_path: Path):
    """--init: the network is convolutional, so a 64² model's weights start a 96² run; another
    width does not fit and says so."""
    pytest.importorskip("keras")
    from types import SimpleNamespace

    from artflow_detector.model import build_network
    from artflow_detector.train import _network

    from artflow.train.trainer import TrainError

    small = build_network(64, 5, "tiny")
    path = tmp_path / "small.keras"
    small.save(path)
    run = SimpleNamespace(settings={})
    net = _network(run, 96, 5, "tiny", str(path))  # type: ignore[arg-type]
    assert net.input_shape[1:3] == (96, 96) and net.output_shape[1:3] == (24, 24)
    for a, b in zip(net.get_weights(), small.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert run.settings["init"] == str(path) and run.settings["init_size"] == 64
    with pytest.raises(TrainError, match="width"):
        _network(SimpleNamespace(settings={}), 96, 5, "full", str(path))  # type: ignore[arg-type]
