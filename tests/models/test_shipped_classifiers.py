"""The shipped classifiers meet their accuracy on held-out data, re-measured from the ONNX files.

No TensorFlow: only scikit-learn's digits, the procedural shape generator and ONNX Runtime.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
from click.testing import CliRunner

from artflow import models as runtime


def test_digits_accuracy_on_the_held_out_stratified_split(digits_onnx: Path):
    from artflow_classifier.data import digits_split

    _, x_test, _, y_test = digits_split()
    probs = runtime.get_session(digits_onnx).run({"image": x_test})["probs"]
    assert len(y_test) == 360
    assert float((probs.argmax(-1) == y_test).mean()) >= 0.985


def test_digits_through_the_node_preprocessing_keeps_its_accuracy(digits_onnx: Path, tmp_path: Path):
    from artflow_classifier.data import digits_split
    from artflow_classifier.node import classify_image

    from artflow.models import get_session
    from artflow.nodes import NodeContext
    from artflow.plugins import get_plugins

    _, x_test, _, y_test = digits_split()
    entry = get_plugins().models.resolve("digits", "classifier")
    ctx = NodeContext("c", "classify.image", 0, tmp_path, sessions={"model": get_session(entry, "cpu")},
                      entries={"model": entry})  # what the engine hands a node
    labels = classify_image(ctx, image=x_test, model="digits", top_k=1, unknown=False)
    pred = np.array([int(item[0].label) for item in labels])
    assert float((pred == y_test).mean()) >= 0.985
    # dark ink on a light background, at a bigger size, reads the same
    upscaled = 1.0 - np.repeat(np.repeat(x_test[:60], 4, axis=1), 4, axis=2)
    rgb = np.repeat(upscaled, 3, axis=-1)
    again = classify_image(ctx, image=rgb, model="digits", top_k=1, unknown=False)
    pred2 = np.array([int(item[0].label) for item in again])
    assert float((pred2 == y_test[:60]).mean()) >= 0.95


def test_shapes_accuracy_on_held_out_procedural_images(shapes_onnx: Path):
    from artflow_classifier.data import SHAPE_CLASSES, shapes_dataset

    card = runtime.get_session(shapes_onnx).card
    assert card is not None and tuple(card.labels) == SHAPE_CLASSES
    size = card.input().size[0]
    x, y = shapes_dataset(300, split="heldout", seed=1, size=size)
    probs = runtime.get_session(shapes_onnx).run_batched({"image": x})["probs"]
    assert float((probs.argmax(-1) == y).mean()) >= 0.99


def test_models_json_lists_each_shipped_model_with_its_metrics(digits_onnx: Path):
    from artflow.commands.models import models

    result = CliRunner().invoke(models, ["--json"], catch_exceptions=False)
    rows = {r["name"]: r for r in json.loads(result.output) if r["kind"] == "classifier"}
    assert "digits" in rows
    row = rows["digits"]
    assert {"name", "kind", "path", "sha256", "metrics"} <= set(row)
    assert Path(row["path"]).is_file() and len(row["sha256"]) == 64
    assert row["metrics"]["accuracy"] >= 0.985


def test_classify_graph_runs_without_importing_tensorflow(tmp_path: Path):
    graph = {"artflow": 1, "seed": 3, "nodes": {
        "shapes": {"type": "generate.shapes", "params": {"width": 64, "height": 64, "count": 2,
                                                         "min_shapes": 1, "max_shapes": 1,
                                                         "min_size": 0.5, "max_size": 0.9}},
        "found": {"type": "classify.image", "inputs": {"image": "shapes.image"},
                  "params": {"model": "digits", "top_k": 2}}}}
    path = tmp_path / "g.json"
    path.write_text(json.dumps(graph))
    code = ("import sys, json; import artflow as af;"
            f"r = af.Graph.load({str(path)!r}).run(output_dir={str(tmp_path)!r});"
            "print(json.dumps({'tf': 'tensorflow' in sys.modules, 'providers': r.providers(),"
            "'n': len(r['found'])}))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out == {"tf": False, "providers": [out["providers"][0]], "n": 2}
    assert proc.stderr.strip() == "" or "onnxruntime" not in proc.stderr


def test_digits_domain_check_calls_photos_unknown_and_keeps_real_digits(tmp_path: Path):
    """A confident softmax on a photo (rocket: raw '4' at 0.93) is still answered 'unknown': the
    photo lies far from the digits' principal subspace; held-out digits mostly do not."""
    import skimage.data
    from artflow_classifier.data import digits_split
    from artflow_classifier.node import classify_image

    from artflow.models import get_session
    from artflow.nodes import NodeContext
    from artflow.plugins import get_plugins

    entry = get_plugins().models.resolve("digits", "classifier")
    check = entry.card.extra["domain_check"]
    assert len(check["components"]) == 12 and len(check["quantiles"]) == 101
    ctx = NodeContext("c", "classify.image", 0, tmp_path, sessions={"model": get_session(entry, "cpu")},
                      entries={"model": entry})
    photos = [skimage.data.rocket(), skimage.data.coffee(), skimage.data.astronaut(), skimage.data.chelsea()]
    batch = np.stack([np.asarray(p[:256, :256], np.float32) / 255.0 for p in photos])
    answers = classify_image(ctx, image=batch, model="digits", top_k=1)
    assert [a[0].label for a in answers] == ["unknown"] * 4
    raw = classify_image(ctx, image=batch[:1], model="digits", top_k=1, unknown=False)
    assert raw[0][0].label != "unknown"
    _, x_test, _, y_test = digits_split()
    labels = classify_image(ctx, image=x_test, model="digits", top_k=1)
    flagged = np.array([item[0].label == "unknown" for item in labels])
    assert flagged.mean() <= 0.05
    kept = [(int(item[0].label), y) for item, y in zip(labels, y_test, strict=True)
            if item[0].label != "unknown"]
    assert np.mean([p == y for p, y in kept]) >= 0.99
