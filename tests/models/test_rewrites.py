"""The export-time graph rewrites compute exactly what the layers they replace compute, in
TensorFlow and after conversion to ONNX (where the faster form matters)."""

from __future__ import annotations

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from artflow.train import rewrites  # noqa: E402

ATOL = 1e-4


def _rng() -> np.random.Generator:
    return np.random.default_rng(7)


@pytest.mark.parametrize(("h", "w", "k", "block"), [(520, 520, 9, 4), (30, 26, 9, 4), (17, 19, 5, 2),
                                                      (16, 16, 3, 4), (21, 33, 9, 3)])
def test_space_to_depth_conv_equals_valid_conv(h: int, w: int, k: int, block: int) -> None:
    rng = _rng()
    x = rng.normal(size=(1, h, w, 4)).astype(np.float32)
    kernel = rng.normal(size=(k, k, 4, 3)).astype(np.float32)
    bias = rng.normal(size=3).astype(np.float32)
    want = tf.nn.conv2d(x, kernel, 1, "VALID") + bias
    got = rewrites.space_to_depth_conv_tf(tf.constant(x), kernel, bias, block=block)
    assert got.shape == want.shape
    assert np.abs(np.asarray(got) - np.asarray(want)).max() < ATOL


def test_subpixel_conv_equals_upsample_then_conv() -> None:
    rng = _rng()
    x = rng.normal(size=(2, 8, 6, 5)).astype(np.float32)
    kernel = rng.normal(size=(3, 3, 5, 4)).astype(np.float32)
    up = tf.image.resize(x, [16, 12], method="nearest")
    want = tf.nn.space_to_depth(tf.nn.conv2d(up, kernel, 1, "SAME"), 2)
    got = rewrites.upsample_conv_blocks_tf(tf.constant(x), kernel)
    assert np.abs(np.asarray(got) - np.asarray(want)).max() < ATOL


@pytest.mark.parametrize(("k", "block"), [(3, 2), (5, 2), (3, 4), (9, 4)])
def test_same_conv_in_block_space(k: int, block: int) -> None:
    rng = _rng()
    x = rng.normal(size=(2, 16, 24, 4)).astype(np.float32)
    kernel = rng.normal(size=(k, k, 4, 3)).astype(np.float32)
    bias = rng.normal(size=3).astype(np.float32)
    want = tf.nn.space_to_depth(tf.nn.conv2d(x, kernel, 1, "SAME") + bias, block)
    got = rewrites.same_conv_blocks_tf(tf.nn.space_to_depth(x, block), kernel, bias, block)
    assert got.shape == want.shape
    assert np.abs(np.asarray(got) - np.asarray(want)).max() < ATOL


def test_nearest_upsample_exports_as_asymmetric_resize_with_same_pixels() -> None:
    onnx = pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    tf2onnx = pytest.importorskip("tf2onnx")
    sig = [tf.TensorSpec([None, 5, 7, 3], tf.float32, name="x")]

    @tf.function(input_signature=sig)
    def fn(x: tf.Tensor) -> dict[str, tf.Tensor]:
        return {"y": rewrites.nearest_upsample_tf(x, 2)}

    proto, _ = tf2onnx.convert.from_function(fn, input_signature=sig, opset=17)
    resizes = [n for n in proto.graph.node if n.op_type == "Resize"]
    assert len(resizes) == 1
    attrs = {a.name: onnx.helper.get_attribute_value(a) for a in resizes[0].attribute}
    assert attrs["coordinate_transformation_mode"] == b"asymmetric"
    x = _rng().normal(size=(2, 5, 7, 3)).astype(np.float32)
    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    got = session.run(None, {"x": x})[0]
    want = np.repeat(np.repeat(x, 2, axis=1), 2, axis=2)
    assert np.array_equal(got, want)


def test_kernel_shapes_are_checked() -> None:
    with pytest.raises(ValueError, match="3x3"):
        rewrites.subpixel_kernel(np.zeros((5, 5, 1, 1), np.float32))
    with pytest.raises(ValueError, match="square"):
        rewrites.space_to_depth_kernel(np.zeros((3, 5, 1, 1), np.float32), 2)


def test_a_mid_network_output_no_longer_transposes_there_and_back() -> None:
    ort = pytest.importorskip("onnxruntime")
    tf2onnx = pytest.importorskip("tf2onnx")
    rng = _rng()
    k1, k2 = (rng.normal(size=(3, 3, c, 8)).astype(np.float32) for c in (3, 8))
    sig = [tf.TensorSpec([None, 12, 10, 3], tf.float32, name="x")]

    @tf.function(input_signature=sig)
    def fn(x: tf.Tensor) -> dict[str, tf.Tensor]:
        mid = tf.nn.relu(tf.nn.conv2d(x, k1, 1, "SAME"))
        return {"mid": mid, "out": tf.nn.conv2d(tf.nn.max_pool2d(mid, 2, 2, "VALID"), k2, 1, "SAME")}

    proto, _ = tf2onnx.convert.from_function(fn, input_signature=sig, opset=17)
    before = sum(n.op_type == "Transpose" for n in proto.graph.node)
    x = rng.normal(size=(2, 12, 10, 3)).astype(np.float32)
    def run() -> list:
        session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
        return session.run(None, {"x": x})

    want = run()
    assert rewrites.cancel_inverse_transposes(proto.graph) == 1
    assert sum(n.op_type == "Transpose" for n in proto.graph.node) == before - 1
    got = run()
    for a, b in zip(got, want, strict=True):
        assert np.array_equal(a, b)
