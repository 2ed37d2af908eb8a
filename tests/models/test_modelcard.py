"""Model cards survive a round trip through ONNX metadata_props and are read with ONNX Runtime."""

from __future__ import annotations

from pathlib import Path

import pytest

from artflow.errors import ModelError
from artflow.models.card import PREFIX, InputSpec, ModelCard, read_card, write_card


def _card() -> ModelCard:
    return ModelCard(
        kind="classifier", name="toy", description="a toy",
        inputs=[InputSpec("image", "NHWC", [8, 8], 1, [0.0, 1.0], color="gray"),
                InputSpec("z", "NC", None, 16, [-1.0, 1.0], color=""),
                InputSpec("any", "NCHW", None, None, [0.0, 255.0], mean=[0.5], std=[0.2])],
        outputs={"probs": "class probabilities"}, labels=["a", "b"], latent_size=16,
        training={"command": "artflow train toy", "data": "none", "seed": 3, "settings": {"epochs": 2}},
        metrics={"accuracy": 0.5}, versions={"onnx": "1"}, extra={"foreground": "light"},
    )


def test_card_round_trips_through_metadata_strings():
    card = _card()
    meta = card.to_metadata()
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in meta.items())
    assert all(k.startswith(PREFIX) for k in meta)
    assert ModelCard.from_metadata(meta) == card


def test_metadata_without_a_card_gives_none():
    assert ModelCard.from_metadata({"producer": "x"}) is None


def test_card_written_into_an_onnx_file_is_read_back_by_onnx_runtime(tmp_path: Path, digits_onnx: Path):
    onnx = pytest.importorskip("onnx")
    proto = onnx.load(str(digits_onnx))
    proto.metadata_props.add(key="other", value="kept")
    write_card(proto, _card())
    out = tmp_path / "toy.onnx"
    onnx.save(proto, str(out))
    assert read_card(out) == _card()
    assert {p.key: p.value for p in proto.metadata_props}["other"] == "kept"


def test_shipped_model_card_records_training_and_versions(digits_onnx: Path):
    card = read_card(digits_onnx)
    assert card is not None and card.kind == "classifier" and card.name == "digits"
    assert card.training["command"].startswith("artflow train classifier")
    assert card.training["seed"] == 0 and card.training["data"]
    assert card.metrics["accuracy"] >= 0.985
    assert card.metrics["parity_max_abs_diff"] <= 1e-4
    assert {"tensorflow", "keras", "tf2onnx", "onnx", "onnxruntime", "artflow"} <= set(card.versions)


def test_reading_a_file_that_is_not_onnx_is_a_one_line_model_error(tmp_path: Path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not a model")
    with pytest.raises(ModelError) as err:
        read_card(bad)
    assert "\n" not in str(err.value)
