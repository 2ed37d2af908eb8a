"""A model file that does not match its registered sha256 is refused with one clear line."""

from __future__ import annotations

from pathlib import Path

import pytest

from artflow.errors import ModelError
from artflow.models import ModelRegistry, file_sha256


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


def test_tampered_model_is_refused_before_the_classify_node_runs(model_copy: Path, fake_plugin):
    import artflow as af
    from artflow.cache import Cache
    from artflow.engine import Engine

    fake_plugin("artflow-tampered", "artflow_tampered", f"""
        import artflow as af

        @af.hookimpl
        def register_models(register):
            register(name="mine", kind="classifier", path={str(model_copy)!r}, sha256="0" * 64)
    """)
    g = af.Graph(seed=0)
    g.add("classify.image", image=g.add("generate.solid", width=8, height=8), model="mine")
    with pytest.raises(ModelError) as err:
        Engine(Cache(disk=False)).run(g, use_cache=False)
    message = str(err.value)
    assert "\n" not in message and "param 'model'" in message
    assert "does not match its registered sha256" in message
