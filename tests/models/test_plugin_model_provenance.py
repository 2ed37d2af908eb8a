"""A third-party model node written exactly as docs/plugins.md shows lands in PNG provenance with
its model's sha256 and provider, through a real entry point and the real CLI."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

import artflow as af
from artflow.imaging import load_image, read_png_text
from artflow.models import file_sha256

ROOT = Path(__file__).resolve().parents[2]


def documented_model_plugin() -> str:
    """The first Python block of the Models section of docs/plugins.md, as written there."""
    text = (ROOT / "docs" / "plugins.md").read_text()
    section = text.split("\n## Models\n", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```python\n(.*?)```", section, re.S)
    assert block, "docs/plugins.md's Models section has no Python example"
    return block.group(1)


def invert_model(path: Path) -> Path:
    """A bare NHWC image model: 1 - x, any size."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Sub", ["one", "image"], ["out"])], "invert",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [None, None, None, 3])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, [None, None, None, 3])],
        initializer=[helper.make_tensor("one", TensorProto.FLOAT, [], [1.0])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def test_documented_model_node_appears_in_png_provenance_with_sha256_and_provider(fake_plugin, artflow_cli,
                                                                                  tmp_path: Path):
    site = fake_plugin("artflow-halftone", "artflow_halftone", documented_model_plugin())
    models = site / "models"
    models.mkdir()
    sha = file_sha256(invert_model(models / "dots.onnx"))
    (models / "manifest.json").write_text(json.dumps({"models": [
        {"name": "dots", "kind": "screen", "file": "dots.onnx", "sha256": sha, "description": "1 - x"}]}))
    g = af.Graph(seed=1)  # a Graph can name node types no plugin registered yet
    solid = g.add("generate.solid", "solid", color="#336699", width=24, height=16)
    screen = g.add("halftone.screen", "screen", image=solid)
    g.add("image.save", "save", image=screen, path="out.png")
    g.save(tmp_path / "g.json")
    out = tmp_path / "out"
    env = {"PYTHONPATH": str(site)}
    proc = artflow_cli("run", str(tmp_path / "g.json"), "-o", str(out), "--provider", "cpu", env=env)
    assert proc.returncode == 0, proc.stderr
    record = json.loads(read_png_text(out / "out.png")["artflow"])
    assert record["models"] == {"screen": {"dots": sha}}
    assert record["provider"] == "cpu"
    pixel = load_image(out / "out.png")[0, 0]
    assert np.allclose(pixel, 1 - np.array([0x33, 0x66, 0x99]) / 255, atol=1 / 255)
    listed = {m["name"]: m for m in json.loads(artflow_cli("models", "--json", "--kind", "screen",
                                                             env=env).stdout)}
    assert listed["dots"]["status"] == "ok" and listed["dots"]["plugin"] == "artflow-halftone"
