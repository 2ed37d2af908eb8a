"""`artflow train classifier --images DIR --quick` finishes fast and its ONNX runs through the engine."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

pytest.importorskip("tf2onnx")


def _folder(root: Path) -> Path:
    """Three classes of 12 small images each: red discs, green squares, blue bars."""
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(0)
    for name, colour in (("disc", (220, 30, 30)), ("square", (30, 200, 30)), ("bar", (30, 30, 220))):
        (root / name).mkdir(parents=True)
        for i in range(12):
            img = Image.new("RGB", (40, 40), tuple(int(v) for v in rng.integers(0, 60, 3)))
            d = ImageDraw.Draw(img)
            x, y = (int(v) for v in rng.integers(4, 16, 2))
            if name == "disc":
                d.ellipse([x, y, x + 20, y + 20], fill=colour)
            elif name == "square":
                d.rectangle([x, y, x + 18, y + 18], fill=colour)
            else:
                d.rectangle([x, 2, x + 6, 37], fill=colour)
            img.save(root / name / f"{i}.png")
    return root


def test_quick_training_on_a_folder_writes_everything_and_its_onnx_runs_in_a_graph(tmp_path: Path):
    import artflow as af
    from artflow.cli import cli
    from artflow.models.card import read_card

    images = _folder(tmp_path / "images")
    out = tmp_path / "run"
    # how long it takes is a benchmark figure (benchmarks/train_bench.py), not an assertion
    result = CliRunner().invoke(cli, ["train", "classifier", "--images", str(images), "--quick",
                                      "-o", str(out), "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    for name in ("classifier.keras", "classifier.onnx", "loss_curve.png", "samples.png", "metrics.json"):
        assert (out / name).is_file(), name
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["quick"] is True and "accuracy" in metrics["metrics"]
    card = read_card(out / "classifier.onnx")
    assert card is not None and card.labels == ["bar", "disc", "square"]
    assert card.training["command"].startswith("artflow train classifier --out ")
    assert "--quick" in card.training["command"] and "--images" in card.training["command"]
    assert card.metrics["parity_max_abs_diff"] <= 1e-4

    g = af.Graph(seed=1)
    photo = g.add("image.load", path=str(images / "disc" / "0.png"))
    found = g.add("classify.image", image=photo, model=str(out / "classifier.onnx"), top_k=2)
    run = g.run(output_dir=tmp_path / "render")
    labels = run[found]
    assert len(labels) == 1 and len(labels[0]) == 2
    assert {lab.label for lab in labels[0]} <= {"bar", "disc", "square"}
    assert labels[0][0].score >= labels[0][1].score
    assert run.info[found.id]["provider"] in ("cpu", "cuda")


def test_few_shot_transfer_classifier_scores_on_held_out_crops(tmp_path: Path):
    """15 crops per class of five scikit-image textures/photos (left halves) → ≥ 90 % on crops of the
    right halves, through the exported ONNX (backbone + head) with its probs and features outputs."""
    import onnxruntime as ort
    from artflow_classifier.data import FEWSHOT_SOURCES, fewshot_folder, load_folder

    from artflow.cli import cli
    from artflow.models.card import read_card

    train = fewshot_folder(tmp_path / "train", 15, half="train")
    held = fewshot_folder(tmp_path / "held", 10, half="heldout")
    out = tmp_path / "run"
    # relu3_3: half the time of the default relu4_3 (benchmarks/fewshot_bench.py compares them)
    result = CliRunner().invoke(cli, ["train", "classifier", "--images", str(train), "--views", "2",
                                      "--layer", "relu3_3", "-o", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    card = read_card(out / "classifier.onnx")
    assert card.labels == sorted(FEWSHOT_SOURCES)
    assert card.training["settings"]["network"] == "transfer"
    assert card.extra["temperature"] >= 1.0 and 0 < card.extra["unknown_below"] < 1
    size = card.inputs[0].size[0]
    x, y, classes = load_folder(held, size)
    session = ort.InferenceSession(str(out / "classifier.onnx"), providers=["CPUExecutionProvider"])
    probs, feats = session.run(["probs", "features"], {"image": x})
    assert feats.shape[0] == len(x) and feats.shape[1] > 100
    accuracy = float((probs.argmax(-1) == y).mean())
    assert accuracy >= 0.9, accuracy
    # the features were cached: a second run computes none
    again = CliRunner().invoke(cli, ["train", "classifier", "--images", str(train), "--views", "2",
                                     "--layer", "relu3_3", "-o", str(out), "--epochs", "2", "--json"],
                               catch_exceptions=False)
    assert again.exit_code == 0, again.output
    assert json.loads((out / "metrics.json").read_text())["settings"]["feature_cache"] == "hit"


def test_backbone_none_keeps_the_small_cnn_from_scratch(tmp_path: Path):
    from artflow.cli import cli
    from artflow.models.card import read_card

    images = _folder(tmp_path / "images")
    out = tmp_path / "run"
    result = CliRunner().invoke(cli, ["train", "classifier", "--images", str(images), "--quick",
                                      "--backbone", "none", "-o", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    card = read_card(out / "classifier.onnx")
    assert card.training["settings"]["network"] == "tiny" and list(card.outputs) == ["probs"]


def test_shipped_shapes_classifier_answers_unknown_on_a_cat_photo(tmp_path: Path):
    """Out of its domain (drawn shapes), the calibrated classifier does not claim 'star 0.90'."""
    import skimage.data

    import artflow as af
    from artflow.imaging import to_pil
    from artflow.models.card import read_card
    from artflow.plugins import get_plugins

    entry = get_plugins().models.resolve("shapes", "classifier")
    extra = read_card(entry.path).extra
    assert extra["temperature"] >= 1.0 and 0.5 < extra["unknown_below"] < 1.0 and extra["domain"]
    to_pil(skimage.data.chelsea()).save(tmp_path / "cat.png")
    g = af.Graph(seed=0)
    src = g.add("image.load", path=str(tmp_path / "cat.png"))
    calibrated = g.add("classify.image", image=src, model="shapes", top_k=2)
    raw = g.add("classify.image", image=src, model="shapes", top_k=2, unknown=False)
    run = g.run(output_dir=tmp_path / "out")
    assert run[calibrated][0][0].label == "unknown"
    assert run[raw][0][0].label != "unknown" and run[raw][0][0].score < extra["unknown_below"]


def test_resume_continues_the_from_scratch_classifier_and_records_the_chain(tmp_path: Path):
    from artflow.cli import cli
    from artflow.models.card import read_card

    images = _folder(tmp_path / "images")
    out = tmp_path / "run"
    base = ["train", "classifier", "--images", str(images), "--quick", "--backbone", "none", "-o", str(out)]
    first = CliRunner().invoke(cli, [*base, "--epochs", "2"], catch_exceptions=False)
    assert first.exit_code == 0, first.output
    again = CliRunner().invoke(cli, [*base, "--epochs", "4", "--resume"], catch_exceptions=False)
    assert again.exit_code == 0, again.output
    chain = read_card(out / "classifier.onnx").training["settings"]["chain"]
    assert [(c["from_epoch"], c["to_epoch"]) for c in chain] == [(0, 2), (2, 4)]
    assert len(json.loads((out / "metrics.json").read_text())["history"]["loss"]) == 4
