"""`artflow import`: TF.js graph models and Keras factories → checked ONNX with a card; bad input
gives one line naming the file or op, and nothing is left in the output folder."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("tf2onnx")

from artflow.train.importer import ImportSpec, ModelImportError, import_model  # noqa: E402
from artflow.train.tfjs import TfjsError, read_tfjs  # noqa: E402

from .tfjs_fixture import write_tiny_tfjs  # noqa: E402

SPEC = {"name": "tiny", "kind": "matte", "input": {"tensor": "image", "range": [0, 255]},
        "decode": {"kind": "mask", "outputs": ["out"], "output": "out"}, "parity": {"atol": 1e-4},
        "float16": True, "package": "hand-made", "licence": "MIT"}


def test_tfjs_import_fixes_fused_ops_defaults_and_float16(tmp_path: Path) -> None:
    model = write_tiny_tfjs(tmp_path / "tfjs")
    out = tmp_path / "models" / "tiny.onnx"
    out.parent.mkdir()
    result = import_model("tfjs", str(model), ImportSpec(**SPEC), out, timing=False)
    assert sorted(p.name for p in out.parent.iterdir()) == ["tiny.onnx"]
    card = result.card
    assert card.kind == "matte" and card.inputs[0].range == [0.0, 1.0]
    assert card.metrics["parity_max_abs_diff"] <= 1e-4
    assert card.extra["source"]["files_sha256"].keys() == {"model.json", "group1-shard1of1.bin"}
    assert card.extra["source"]["licence"] == "MIT"
    assert "float16" in card.extra["weights"]

    import onnxruntime as ort
    import tensorflow as tf

    graph = read_tfjs(model)
    assert not [n for n in graph.graph_def.node if n.op.startswith(("_Fused", "Fused"))]
    x = np.random.default_rng(1).uniform(0, 1, (1, 16, 16, 3)).astype(np.float32)
    got = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"]).run(["mask"], {"image": x})[0]
    # the same network written with TensorFlow ops: conv+bias+relu, depthwise+bias+relu6, sigmoid
    raw = json.loads(model.read_text())
    half = np.frombuffer((model.parent / "group1-shard1of1.bin").read_bytes(), np.float16)
    shapes = [w["shape"] for w in raw["weightsManifest"][0]["weights"]]
    parts, start = [], 0
    for shape in shapes:
        n = int(np.prod(shape))
        parts.append(half[start:start + n].astype(np.float32).reshape(shape))
        start += n
    y = tf.nn.relu(tf.nn.conv2d(x * 255.0, parts[0], 1, "SAME") + parts[1])
    y = tf.nn.relu6(tf.nn.depthwise_conv2d(y, parts[2], [1, 2, 2, 1], "SAME") + parts[3])
    np.testing.assert_allclose(got, tf.sigmoid(y).numpy()[..., :1], atol=1e-4)  # the mask: channel 0


def test_missing_shard_names_the_file(tmp_path: Path) -> None:
    model = write_tiny_tfjs(tmp_path / "tfjs")
    (model.parent / "group1-shard1of1.bin").unlink()
    out_dir = tmp_path / "models"
    out_dir.mkdir()
    with pytest.raises(TfjsError, match=r"weight shard 'group1-shard1of1.bin' is missing .*copy every file"):
        import_model("tfjs", str(model), ImportSpec(**SPEC), out_dir / "tiny.onnx", timing=False)
    assert list(out_dir.iterdir()) == []


def test_shard_of_wrong_size_names_the_file(tmp_path: Path) -> None:
    model = write_tiny_tfjs(tmp_path / "tfjs")
    shard = model.parent / "group1-shard1of1.bin"
    shard.write_bytes(shard.read_bytes()[:-10])
    out_dir = tmp_path / "models"
    out_dir.mkdir()
    with pytest.raises(TfjsError) as info:
        import_model("tfjs", str(model), ImportSpec(**SPEC), out_dir / "tiny.onnx", timing=False)
    message = str(info.value)
    assert "group1-shard1of1.bin" in message and "wrong size" in message and "\n" not in message
    assert list(out_dir.iterdir()) == []


def test_unknown_op_names_op_and_node(tmp_path: Path) -> None:
    model = write_tiny_tfjs(tmp_path / "tfjs")
    raw = json.loads(model.read_text())
    raw["modelTopology"]["node"][-1]["op"] = "ArtflowNoSuchOp"
    model.write_text(json.dumps(raw))
    with pytest.raises(TfjsError, match=r"op 'ArtflowNoSuchOp' \(node 'out'\) cannot be converted"):
        read_tfjs(model)


def test_fused_op_it_cannot_split_is_named(tmp_path: Path) -> None:
    model = write_tiny_tfjs(tmp_path / "tfjs")
    raw = json.loads(model.read_text())
    raw["modelTopology"]["node"][-3]["attr"]["fused_ops"]["list"]["s"] = ["RnVzZWRCYXRjaE5vcm0="]
    model.write_text(json.dumps(raw))
    with pytest.raises(TfjsError, match=r"_FusedConv2D with fused_ops \['FusedBatchNorm'\] \(node 'conv'\)"):
        read_tfjs(model)


def test_keras_factory_that_downloads_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pkg = tmp_path / "site"
    pkg.mkdir()
    (pkg / "artflow_test_downloader.py").write_text(textwrap.dedent("""
        import keras

        def build():
            keras.utils.get_file("artflow_never_there.h5", "https://example.invalid/weights.h5")
            return keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(2, 3)])
    """))
    monkeypatch.syspath_prepend(str(pkg))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras-home"))
    out_dir = tmp_path / "models"
    out_dir.mkdir()
    spec = ImportSpec(name="dl", kind="edges")
    with pytest.raises(ModelImportError, match=r"artflow_test_downloader:build needs a download "
                                           r"\(artflow_never_there.h5\): artflow imports offline only"):
        import_model("keras", "artflow_test_downloader:build", spec, out_dir / "dl.onnx", timing=False)
    assert list(out_dir.iterdir()) == []


def test_cli_reports_one_line_and_exit_2(tmp_path: Path, artflow_cli) -> None:
    model = write_tiny_tfjs(tmp_path / "tfjs")
    (model.parent / "group1-shard1of1.bin").unlink()
    proc = artflow_cli("import", "tfjs", str(model), "--name", "tiny", "--kind", "matte",
                       "-o", str(tmp_path / "tiny.onnx"))
    assert proc.returncode == 2
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("error")]
    assert len(lines) == 1 and "group1-shard1of1.bin" in lines[0], proc.stderr[-500:]
    assert not (tmp_path / "tiny.onnx").exists()


def test_keras_factory_import_records_its_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pkg = tmp_path / "site"
    pkg.mkdir()
    (pkg / "artflow_test_edges.py").write_text(textwrap.dedent("""
        import keras

        def build():
            keras.utils.set_random_seed(0)
            return keras.Sequential([keras.Input((None, None, 3)),
                                     keras.layers.Conv2D(1, 3, padding="same", activation="sigmoid")])
    """))
    monkeypatch.syspath_prepend(str(pkg))
    spec = ImportSpec(name="tiny-edges", kind="edges", input={"color": "bgr", "mean": [104.0, 117.0, 123.0]},
                      extra={"outputs": {"edges": "edge probability"}}, licence="MIT", authors="tests")
    result = import_model("keras", "artflow_test_edges:build", spec, tmp_path / "e.onnx", timing=False)
    card = result.card
    assert list(card.outputs) == ["edges"] and card.inputs[0].size is None
    assert card.extra["adapter"]["color"] == "bgr" and card.metrics["parity_max_abs_diff"] <= 1e-4
    assert card.extra["source"]["module"] == "artflow_test_edges"
    assert card.training["command"] == "artflow import keras artflow_test_edges:build"


def test_cli_imports_with_options_instead_of_a_spec(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from artflow.commands.import_ import import_

    model = write_tiny_tfjs(tmp_path / "tfjs")
    out = tmp_path / "models" / "tiny.onnx"
    out.parent.mkdir()
    result = CliRunner().invoke(import_, ["tfjs", str(model), "--name", "tiny", "--kind", "matte",
                                          "--input-tensor", "image", "--range", "0,255", "--decode", "mask",
                                          "--float16", "-o", str(out), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["name"] == "tiny" and summary["parity_max_abs_diff"] <= 1e-4
    from artflow.models.card import read_card

    card = read_card(out)
    assert card.extra["decode"] == {"kind": "mask"} and card.extra["adapter"]["range"] == [0.0, 255.0]
