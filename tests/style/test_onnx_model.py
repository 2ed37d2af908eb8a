"""`onnx.model` reproduces each tiny model's own ONNX Runtime output in every adapter variant."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from .conftest import run_node, save_png

MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]


def conv_model(path: Path, layout: str, fixed: tuple[int, int] | None, seed: int = 0) -> Path:
    """A 3×3 conv image→image model (3 channels), NCHW or NHWC, dynamic or fixed (w, h)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    w = numpy_helper.from_array(rng.normal(0, 0.4, (3, 3, 3, 3)).astype(np.float32), "w")
    b = numpy_helper.from_array(rng.normal(0, 0.1, (3,)).astype(np.float32), "b")
    h_, w_ = (fixed[1], fixed[0]) if fixed else ("h", "w")
    shape = ["n", 3, h_, w_] if layout == "NCHW" else ["n", h_, w_, 3]
    nodes = []
    src = "x"
    if layout == "NHWC":
        nodes.append(helper.make_node("Transpose", ["x"], ["xt"], perm=[0, 3, 1, 2]))
        src = "xt"
    out = "yc" if layout == "NHWC" else "y"
    nodes.append(helper.make_node("Conv", [src, "w", "b"], [out], pads=[1, 1, 1, 1]))
    if layout == "NHWC":
        nodes.append(helper.make_node("Transpose", ["yc"], ["y"], perm=[0, 2, 3, 1]))
    graph = helper.make_graph(nodes, "conv", [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, shape)], [w, b])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return path


def classifier_model(path: Path, classes: int = 4) -> Path:
    """NCHW image → global average pool → linear → class logits."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(1)
    w = numpy_helper.from_array(rng.normal(0, 2, (3, classes)).astype(np.float32), "w")
    nodes = [helper.make_node("GlobalAveragePool", ["x"], ["p"]),
             helper.make_node("Flatten", ["p"], ["f"]),
             helper.make_node("MatMul", ["f", "w"], ["logits"])]
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 3, "h", "w"])
    y = helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["n", classes])
    graph = helper.make_graph(nodes, "cls", [x], [y], [w])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, path)
    return path


def ort_run(path: Path, x: np.ndarray) -> np.ndarray:
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x})[0]


def manual_feed(image: np.ndarray, layout: str, channels: str, norm: str) -> np.ndarray:
    """The model input built by hand from the loaded image (independent of the adapter code)."""
    x = image[None].astype(np.float32)
    if channels == "BGR":
        x = x[..., ::-1]
    x = (x - np.float32(MEAN)) / np.float32(STD) if norm == "meanstd" else x * 2.0 - 1.0
    if layout == "NCHW":
        x = x.transpose(0, 3, 1, 2)
    return np.ascontiguousarray(x, dtype=np.float32)


def adapter(layout: str, channels: str, norm: str, fixed: tuple[int, int] | None) -> dict[str, object]:
    params: dict[str, object] = {"layout": layout, "channels": channels,
                                 "size": list(fixed) if fixed else None}
    if norm == "meanstd":
        params.update(mean=MEAN, std=STD)
    else:
        params["range"] = [-1.0, 1.0]
    return params


VARIANTS = list(itertools.product(["NCHW", "NHWC"], ["RGB", "BGR"], ["range", "meanstd"], [None, (40, 32)]))


@pytest.mark.parametrize(("layout", "channels", "norm", "fixed"), VARIANTS,
                         ids=["-".join(map(str, v)) for v in VARIANTS])
def test_onnx_model_reproduces_ort_output_in_every_adapter_variant(tmp_path: Path, layout: str, channels: str,
                                                                   norm: str, fixed: tuple[int, int] | None):
    model = conv_model(tmp_path / "m.onnx", layout, fixed)
    rng = np.random.default_rng(5)
    w, h = fixed or (36, 28)
    image = save_png(tmp_path / "in.png", rng.uniform(0, 1, (h, w, 3)).astype(np.float32))
    out = run_node("onnx.model", tmp_path / "in.png", path=str(model), output="tensor",
                   **adapter(layout, channels, norm, fixed))
    expected = ort_run(model, manual_feed(image, layout, channels, norm))
    assert np.max(np.abs(out["tensor"] - expected.reshape(1, -1))) <= 1e-5

    img_out = run_node("onnx.model", tmp_path / "in.png", path=str(model), output="image",
                       **adapter(layout, channels, norm, fixed))["image"]
    y = expected.transpose(0, 2, 3, 1) if layout == "NCHW" else expected
    y = y * np.float32(STD) + np.float32(MEAN) if norm == "meanstd" else (y + 1.0) / 2.0
    if channels == "BGR":
        y = y[..., ::-1]
    assert img_out.shape == (1, h, w, 3)
    assert img_out.min() >= 0.0 and img_out.max() <= 1.0
    assert np.max(np.abs(img_out - np.clip(y, 0, 1))) <= 1e-5
    assert (y < 0).any() or (y > 1).any()  # the model really produced out-of-range values to clip


def test_fixed_size_model_resizes_in_and_restores_the_original_size_out(tmp_path: Path):
    model = conv_model(tmp_path / "m.onnx", "NHWC", (32, 24))
    save_png(tmp_path / "big.png", np.random.default_rng(2).uniform(0, 1, (50, 70, 3)).astype(np.float32))
    out = run_node("onnx.model", tmp_path / "big.png", path=str(model), layout="NHWC", size=[32, 24])
    assert out["image"].shape == (1, 50, 70, 3)
    assert out["tensor"].shape == (1, 24 * 32 * 3)


def test_labels_output_names_classes_best_first_with_softmax_scores(tmp_path: Path):
    model = classifier_model(tmp_path / "c.onnx")
    pixels = np.random.default_rng(3).uniform(0, 1, (20, 20, 3)).astype(np.float32)
    image = save_png(tmp_path / "in.png", pixels)
    names = ["cat", "dog", "fox", "owl"]
    out = run_node("onnx.model", tmp_path / "in.png", path=str(model), output="labels", labels=names, top_k=4)
    logits = ort_run(model, image[None].transpose(0, 3, 1, 2).copy())[0]
    probs = np.exp(logits - logits.max())
    probs /= probs.sum()
    got = out["labels"][0]
    assert [lab.label for lab in got] == [names[i] for i in np.argsort(-probs)]
    assert np.allclose([lab.score for lab in got], np.sort(probs)[::-1], atol=1e-6)
    assert np.max(np.abs(out["tensor"][0] - logits)) <= 1e-5


def test_wrong_label_count_is_a_one_line_error(tmp_path: Path):
    import artflow as af
    from artflow.cache import Cache
    from artflow.engine import Engine
    from artflow.errors import NodeError

    model = classifier_model(tmp_path / "c.onnx")
    save_png(tmp_path / "in.png", np.zeros((16, 16, 3), np.float32))
    g = af.Graph(seed=0)
    g.add("onnx.model", image=g.add("image.load", path=str(tmp_path / "in.png")), path=str(model),
          output="labels", labels=["a", "b"])
    with pytest.raises(NodeError) as info:
        Engine(Cache(disk=False)).run(g, use_cache=False)
    message = str(info.value)
    assert "2 labels given" in message and "\n" not in message


def mnist_model(path: Path) -> Path:
    """An ONNX model zoo-style MNIST classifier: float input 'Input3' [1, 1, 28, 28] → 10 logits."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(7)
    w = numpy_helper.from_array(rng.normal(0, 0.2, (784, 10)).astype(np.float32), "w")
    nodes = [helper.make_node("Flatten", ["Input3"], ["f"]),
             helper.make_node("MatMul", ["f", "w"], ["Plus214_Output_0"])]
    x = helper.make_tensor_value_info("Input3", TensorProto.FLOAT, [1, 1, 28, 28])
    y = helper.make_tensor_value_info("Plus214_Output_0", TensorProto.FLOAT, [1, 10])
    model = helper.make_model(helper.make_graph(nodes, "mnist", [x], [y], [w]),
                              opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return path


def int_model(path: Path) -> Path:
    """A model whose image input is int64 [n, 3, h, w] (cast to float inside)."""
    import onnx
    from onnx import TensorProto, helper

    nodes = [helper.make_node("Cast", ["x"], ["y"], to=TensorProto.FLOAT)]
    x = helper.make_tensor_value_info("x", TensorProto.INT64, ["n", 3, "h", "w"])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 3, "h", "w"])
    model = helper.make_model(helper.make_graph(nodes, "ints", [x], [y]),
                              opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, path)
    return path


def node_error(tmp_path: Path, model: Path, **params: object) -> str:
    """The one-line error of image.load → onnx.model with these params."""
    import artflow as af
    from artflow.cache import Cache
    from artflow.engine import Engine
    from artflow.errors import NodeError

    if not (tmp_path / "err.png").is_file():
        save_png(tmp_path / "err.png", np.zeros((16, 16, 3), np.float32))
    g = af.Graph(seed=0)
    g.add("onnx.model", image=g.add("image.load", path=str(tmp_path / "err.png")), path=str(model), **params)
    with pytest.raises(NodeError) as info:
        Engine(Cache(disk=False)).run(g, use_cache=False)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_mnist_model_runs_with_layout_channels_and_size_from_its_declared_input(tmp_path: Path):
    from PIL import Image

    model = mnist_model(tmp_path / "mnist.onnx")
    pixels = np.random.default_rng(4).uniform(0, 1, (56, 42, 3)).astype(np.float32)
    image = save_png(tmp_path / "in.png", pixels)
    out = run_node("onnx.model", tmp_path / "in.png", path=str(model), output="labels", top_k=3)
    gray = image @ np.asarray([0.299, 0.587, 0.114], np.float32)
    small = np.asarray(Image.fromarray(gray).resize((28, 28), Image.Resampling.BOX), np.float32)
    logits = ort_run(model, small.reshape(1, 1, 28, 28))[0]
    assert np.max(np.abs(out["tensor"][0] - logits)) <= 1e-5
    assert [lab.label for lab in out["labels"][0]] == [str(i) for i in np.argsort(-logits)[:3]]


@pytest.mark.parametrize(("params", "named"), [
    ({"channels": "RGB"}, "param channels=RGB conflicts with the model's input 'Input3' [1, 1, 28, 28]"),
    ({"layout": "NHWC"}, "param layout=NHWC conflicts with the model's input 'Input3' [1, 1, 28, 28] (NCHW)"),
    ({"size": [32, 32]}, "param size=[32, 32] ([w, h]) conflicts with the model's input 'Input3'"),
    ({"dtype": "int64"}, "param dtype=int64 conflicts with the model's input 'Input3' [1, 1, 28, 28], "
                         "which takes float32"),
], ids=["channels", "layout", "size", "dtype"])
def test_a_param_that_contradicts_the_model_names_both(tmp_path: Path, params: dict, named: str):
    message = node_error(tmp_path, mnist_model(tmp_path / "mnist.onnx"), **params)
    assert named in message


def test_non_float_input_is_refused_unless_its_dtype_is_declared(tmp_path: Path):
    model = int_model(tmp_path / "ints.onnx")
    message = node_error(tmp_path, model, output="tensor")
    assert "the model's input 'x' [?, 3, ?, ?] takes int64" in message and "declare dtype: int64" in message
    pixels = np.random.default_rng(6).uniform(0, 1, (8, 10, 3)).astype(np.float32)
    image = save_png(tmp_path / "in.png", pixels)
    out = run_node("onnx.model", tmp_path / "in.png", path=str(model), output="tensor", dtype="int64",
                   range=[0.0, 255.0])
    want = np.rint(image * 255).transpose(2, 0, 1).reshape(1, -1)
    assert np.array_equal(out["tensor"], want)


def test_relative_model_path_resolves_against_the_graph_folder_and_is_in_provenance(tmp_path: Path,
                                                                                    artflow_cli):
    import json

    import artflow as af
    from artflow.imaging import read_png_text
    from artflow.models import file_sha256

    folder = tmp_path / "project"
    folder.mkdir()
    model = mnist_model(folder / "mnist.onnx")
    save_png(folder / "in.png", np.random.default_rng(8).uniform(0, 1, (30, 30, 3)).astype(np.float32))
    g = af.Graph(seed=2)
    m = g.add("onnx.model", "m", image=g.add("image.load", "load", path="in.png"), path="mnist.onnx",
              output="tensor")
    g.add("image.save", "save", image=m, path="out.png")
    g.save(folder / "g.json")
    assert json.loads((folder / "g.json").read_text())["nodes"]["m"]["params"]["path"] == "mnist.onnx"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    proc = artflow_cli("run", str(folder / "g.json"), "-o", str(tmp_path / "out"), "--provider", "cpu",
                       cwd=elsewhere)
    assert proc.returncode == 0, proc.stderr
    record = json.loads(read_png_text(tmp_path / "out" / "out.png")["artflow"])
    assert record["models"] == {"m": {"mnist.onnx": file_sha256(model)}} and record["provider"] == "cpu"
