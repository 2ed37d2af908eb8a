"""The exporter writes a checked ONNX file with its card, and refuses when ONNX and TF disagree.

Uses TensorFlow (one import per test process, a few seconds); the models are tiny.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("tf2onnx")

from artflow.models.card import InputSpec, ModelCard, read_card  # noqa: E402
from artflow.train.exporter import ParityError, export_function, export_keras  # noqa: E402


def _tiny_model():
    import keras

    keras.utils.set_random_seed(0)
    return keras.Sequential([
        keras.Input((8, 8, 1)),
        keras.layers.RandomTranslation(0.2, 0.2),          # training-only: must not be exported
        keras.layers.Conv2D(4, 3, activation="relu"),
        keras.layers.Flatten(),
        keras.layers.Dropout(0.5),                         # training-only behaviour
        keras.layers.Dense(3, activation="softmax"),
    ])


def _card() -> ModelCard:
    return ModelCard(kind="classifier", name="tiny", labels=["a", "b", "c"],
                     inputs=[InputSpec("image", "NHWC", [8, 8], 1, [0.0, 1.0], color="gray")],
                     outputs={"probs": "class probabilities"})


def test_export_passes_parity_on_real_and_random_inputs_and_writes_the_card(tmp_path: Path):
    from artflow import models as runtime

    model = _tiny_model()
    real = np.random.default_rng(1).random((20, 8, 8, 1), dtype=np.float32)
    result = export_keras(model, tmp_path / "tiny.onnx", _card(), real_inputs=real)
    assert result.parity_max_abs_diff <= 1e-4
    assert result.input_names == ["image"] and result.output_names == ["probs"]
    card = read_card(result.path)
    assert card is not None and card.labels == ["a", "b", "c"]
    assert card.metrics["parity_max_abs_diff"] == result.parity_max_abs_diff
    assert {"tensorflow", "keras", "tf2onnx", "onnx", "onnxruntime", "artflow"} <= set(card.versions)
    session = runtime.get_session(result.path, "cpu")
    expected = model(real, training=False).numpy()
    np.testing.assert_allclose(session.run(real)["probs"], expected, atol=1e-5)
    assert session.run(real[:1])["probs"].shape == (1, 3)  # dynamic batch


def test_export_fails_and_writes_nothing_when_onnx_and_tensorflow_disagree(tmp_path: Path):
    import tensorflow as tf

    model = _tiny_model()
    signature = [tf.TensorSpec([None, 8, 8, 1], tf.float32, name="image")]

    def exported(x):
        return {"probs": model(x, training=False)}

    def mismatched(x):
        return {"probs": model(x, training=False) + 1e-3}

    out = tmp_path / "bad.onnx"
    with pytest.raises(ParityError) as err:
        export_function(exported, signature, out, _card(), reference=mismatched)
    assert "differ" in str(err.value) and "\n" not in str(err.value)
    assert not out.exists() and not list(tmp_path.iterdir())
