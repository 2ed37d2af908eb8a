"""The engine's model layer: models resolved and opened once per run, their sha256 and the
provider that ran them recorded in the lineage and the PNG provenance without the node doing
anything."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import artflow as af
from artflow import models as model_layer
from artflow.errors import ModelError
from artflow.graph import Graph
from artflow.models import file_sha256

onnx = pytest.importorskip("onnx")


def scale_model(path: Path, factor: float = 0.5) -> Path:
    """An NHWC image model that multiplies by ``factor`` (any size)."""
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Mul", ["image", "k"], ["out"])], "scale",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [None, None, None, 3])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, [None, None, None, 3])],
        initializer=[helper.make_tensor("k", TensorProto.FLOAT, [], [factor])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


@af.node("test.scale_model", category="test", inputs={"image": af.IMAGE}, outputs={"image": af.IMAGE},
         params={"model": af.Model("scaler", doc="a scaler model")})
def scale(ctx: af.NodeContext, image: np.ndarray, model: str) -> np.ndarray:
    """Run the scaler model, written as docs/plugins.md shows."""
    return ctx.session("model").run({"image": image})["out"]


@af.node("test.provenance", category="test", inputs={"image": af.IMAGE}, outputs={"text": af.TEXT},
         params={"tag": af.Str("x", doc="tag")})
def provenance(ctx: af.NodeContext, image: np.ndarray, tag: str) -> list[str]:
    """Return the provenance text a save node would write."""
    return [ctx.provenance()["artflow"]]


@pytest.fixture
def scaler(plugins, tmp_path: Path) -> Path:
    path = scale_model(tmp_path / "half.onnx")
    plugins.nodes.add(scale, "tests")
    plugins.nodes.add(provenance, "tests")
    plugins.models.add("half", "scaler", path, file_sha256(path), plugin="tests")
    return path


def test_model_sha256_and_provider_are_recorded_without_the_node_reporting_them(engine, scaler):
    g = Graph()
    c = g.add("test.const", "c", value=0.8)
    m = g.add("test.scale_model", "m", image=c, model="half")
    p = g.add("test.provenance", "p", image=m)
    result = engine.run(g)
    np.testing.assert_allclose(result[m], 0.4, atol=1e-6)
    record = result.lineage["m"]
    assert record.models["model"].sha256 == file_sha256(scaler)
    assert record.provider == "cpu"
    carried = json.loads(result[p][0])
    assert carried["models"] == {"m": {"half": file_sha256(scaler)}} and carried["provider"] == "cpu"


def test_provenance_names_models_of_cached_nodes_the_run_never_visited(engine, scaler):
    g = Graph()
    c = g.add("test.const", "c")
    m = g.add("test.scale_model", "m", image=c, model="half")
    a = g.add("test.add", "a", image=m)
    p = g.add("test.provenance", "p", image=a)
    engine.run(g, outputs=["p"])
    p.set(tag="y")
    again = engine.run(g, outputs=["p"])
    assert again.ran == ["p"] and again.status["m"] == "cached"
    record = json.loads(again[p][0])
    assert record["models"] == {"m": {"half": file_sha256(scaler)}} and record["provider"] == "cpu"


def test_a_model_used_by_several_nodes_is_resolved_and_opened_once_per_run(engine, plugins, scaler,
                                                                           monkeypatch):
    resolved: list[str] = []
    opened: list[str] = []
    real_resolve = plugins.models.resolve
    real_open = model_layer.get_session

    def counting_resolve(value, kind, *args, **kwargs):
        resolved.append(value)
        return real_resolve(value, kind, *args, **kwargs)

    def counting_open(entry, *args, **kwargs):
        opened.append(entry.name)
        return real_open(entry, *args, **kwargs)

    monkeypatch.setattr(plugins.models, "resolve", counting_resolve)
    monkeypatch.setattr(model_layer, "get_session", counting_open)
    g = Graph()
    c = g.add("test.const", "c")
    for i in range(3):
        g.add("test.scale_model", f"m{i}", image=c, model="half")
    result = engine.run(g, use_cache=False)
    assert sorted(result.ran) == ["c", "m0", "m1", "m2"]
    assert resolved == ["half"] and opened == ["half"]


def test_an_unknown_model_names_the_node_and_the_param(engine, scaler):
    g = Graph()
    c = g.add("test.const", "c")
    g.add("test.scale_model", "m", image=c, model="nope")
    expected = r"node 'm' \(test.scale_model\) param 'model': unknown scaler model 'nope'"
    with pytest.raises(ModelError, match=expected):
        engine.run(g)


def test_a_relative_model_path_resolves_against_the_graph_folder(engine, scaler, tmp_path: Path):
    graph_file = tmp_path / "g.json"
    g = Graph(source=graph_file)
    c = g.add("test.const", "c", value=1.0)
    m = g.add("test.scale_model", "m", image=c, model="half.onnx")
    result = engine.run(g)
    np.testing.assert_allclose(result[m], 0.5, atol=1e-6)
    assert result.lineage["m"].models["model"].sha256 == file_sha256(scaler)
