"""A model file that does not match its registered sha256 is refused with one clear line."""

from __future__ import annotations

from pathlib import Path

import pytest

from artflow.errors import ModelError
from artflow.models import ModelRegistry, file_sha256
from artflow.nodes import NodeContext


def test_tampered_model_file_is_refused(model_copy: Path, tmp_path: Path):
    registry = ModelRegistry()
    registry.add("mine", "classifier", model_copy, file_sha256(model_copy), plugin="test")
    assert registry.resolve("mine", "classifier").path == model_copy
    data = bytearray(model_copy.read_bytes())
    data[len(data) // 2] ^= 0xFF
    model_copy.write_bytes(bytes(data))
    fresh = ModelRegistry()  # a new process: nothing verified yet
    fresh.add("mine", "classifier", model_copy, registry.get("mine", "classifier").sha256, plugin="test")
    with pytest.raises(ModelError) as err:
        fresh.resolve("mine", "classifier")
    message = str(err.value)
    assert "\n" not in message and "sha256" in message and "mine" in message


def test_tampered_model_is_refused_by_the_classify_node(model_copy: Path, tmp_path: Path):
    import numpy as np
    from artflow_classifier.node import classify_image

    registry = ModelRegistry()
    registry.add("mine", "classifier", model_copy, "0" * 64, plugin="test")
    ctx = NodeContext("c", "classify.image", 0, tmp_path, models=registry)
    with pytest.raises(ModelError, match="sha256"):
        classify_image(ctx, image=np.zeros((1, 8, 8, 1), np.float32), model="mine", top_k=3)
