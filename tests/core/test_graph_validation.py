"""Every bad-input case of graphs and params gets a one-line error naming the culprit."""

from __future__ import annotations

import json

import pytest

import artflow as af
from artflow.errors import GraphError, ParamError
from artflow.graph import Graph


def one_line(exc: pytest.ExceptionInfo[BaseException]) -> str:
    text = str(exc.value)
    assert "\n" not in text
    return text


def test_unknown_node_type_suggests_the_close_name(plugins):
    g = Graph()
    g.add("test.cnst", "a")
    with pytest.raises(GraphError) as exc:
        g.validate(plugins.nodes)
    msg = one_line(exc)
    assert "node 'a'" in msg and "unknown node type 'test.cnst'" in msg and "test.const" in msg


def test_missing_input_names_node_and_socket(plugins):
    g = Graph()
    g.add("test.add", "b")
    with pytest.raises(GraphError) as exc:
        g.validate(plugins.nodes)
    assert "node 'b' (test.add) is missing its input 'image' (IMAGE)" in one_line(exc)


def test_type_mismatch_names_both_nodes_and_sockets(plugins):
    g = Graph()
    c = g.add("test.const", "c")
    lab = g.add("test.labels", "lab", image=c)
    g.add("test.add", "b", image=lab)
    with pytest.raises(GraphError) as exc:
        g.validate(plugins.nodes)
    msg = one_line(exc)
    assert "type mismatch" in msg and "'lab.labels'" in msg and "LABELS" in msg
    assert "'b.image'" in msg and "IMAGE" in msg


def test_cycle_lists_the_nodes_on_it(plugins):
    data = {"artflow": 1, "seed": 0, "nodes": {
        "x": {"type": "test.add", "inputs": {"image": "z"}},
        "y": {"type": "test.add", "inputs": {"image": "x"}},
        "z": {"type": "test.add", "inputs": {"image": "y"}},
    }}
    with pytest.raises(GraphError) as exc:
        Graph.from_dict(data).validate(plugins.nodes)
    msg = one_line(exc)
    assert msg.startswith("cycle: ") and all(n in msg for n in "xyz")


def test_input_from_missing_node(plugins):
    data = {"artflow": 1, "seed": 0, "nodes": {"b": {"type": "test.add", "inputs": {"image": "ghost"}}}}
    with pytest.raises(GraphError) as exc:
        Graph.from_dict(data).validate(plugins.nodes)
    assert "node 'b' input 'image' refers to missing node 'ghost'" in one_line(exc)


def test_unknown_output_name(plugins):
    data = {"artflow": 1, "seed": 0, "nodes": {
        "c": {"type": "test.const"},
        "b": {"type": "test.add", "inputs": {"image": "c.mask"}}}}
    with pytest.raises(GraphError) as exc:
        Graph.from_dict(data).validate(plugins.nodes)
    assert "'c.mask'" in one_line(exc) and "outputs: image" in one_line(exc)


def test_unknown_input_name(plugins):
    g = Graph()
    c = g.add("test.const", "c")
    g.add("test.add", "b", image=c, imag=c)
    with pytest.raises(GraphError) as exc:
        g.validate(plugins.nodes)
    assert "has no input 'imag'" in one_line(exc)


@pytest.mark.parametrize("params, expected", [
    ({"value": 2.0}, "node 'c' (test.const) param 'value' = 2.0 is not allowed: use a number in [0, 1]"),
    ({"value": "bright"}, "param 'value' = 'bright' is not allowed: use a number in [0, 1]"),
    ({"size": 2.5}, "param 'size' = 2.5 is not allowed: use an integer in [1, 4096]"),
    ({"size": True}, "param 'size' = True is not allowed"),
    ({"valu": 0.3}, "node 'c' (test.const) has no param 'valu' (did you mean 'value'?)"),
])
def test_bad_param_names_node_param_value_and_allowed(plugins, params, expected):
    g = Graph()
    g.add("test.const", "c", **params)
    with pytest.raises(ParamError) as exc:
        g.validate(plugins.nodes)
    assert expected in one_line(exc)


def test_bad_choice_and_colour(plugins):
    g = Graph()
    g.add("test.mode", "m", mode="c")
    with pytest.raises(ParamError) as exc:
        g.validate(plugins.nodes)
    assert "param 'mode' = 'c' is not allowed: use one of 'a', 'b'" in one_line(exc)
    g = Graph()
    g.add("test.mode", "m", tint="#12345")
    with pytest.raises(ParamError) as exc:
        g.validate(plugins.nodes)
    assert "param 'tint' = '#12345'" in one_line(exc) and "colour" in one_line(exc)


def test_input_given_as_param_is_explained(plugins):
    g = Graph()
    g.add("test.add", "b", image="not a node")
    with pytest.raises(ParamError) as exc:
        g.validate(plugins.nodes)
    assert "'image' is an input, not a param" in one_line(exc)


@pytest.mark.parametrize("text, expected", [
    ("{not json", "not valid JSON (line 1"),
    ('{"artflow": 2, "nodes": {}}', "unsupported graph format 2"),
    ('{"artflow": 1, "nodes": {}}', "'nodes' must be a non-empty object"),
    ('{"artflow": 1, "seed": "x", "nodes": {"a": {"type": "t"}}}', "'seed' must be an integer"),
    ('{"artflow": 1, "nodes": {"a.b": {"type": "t"}}}', "invalid node id 'a.b'"),
    ('{"artflow": 1, "nodes": {"a": {"kind": "t"}}}', "node 'a': needs a \\\"type\\\" string"),
    ('{"artflow": 1, "nodes": {"a": {"type": "t", "input": {}}}}', "node 'a': unknown key(s) ['input']"),
    ('{"artflow": 1, "nodes": {"a": {"type": "t", "inputs": {"image": 3}}}}',
     "node 'a' input 'image': an input must be"),
    ('[1, 2]', "a graph must be a JSON object"),
])
def test_malformed_graph_json(text, expected):
    with pytest.raises(GraphError) as exc:
        Graph.from_json(text, source="g.json")
    assert expected.replace('\\"', '"') in one_line(exc)


def test_json_round_trip_is_lossless():
    data = {"artflow": 1, "seed": 42, "meta": {"title": "t"}, "nodes": {
        "photo": {"type": "image.load", "params": {"path": "cat.jpg"}},
        "styled": {"type": "style.transfer", "inputs": {"image": "photo.image"},
                   "params": {"style": "mosaic", "strength": 0.8, "tint": [1, 2, 3]}},
        "out": {"type": "image.save", "inputs": {"image": "styled"}, "params": {"path": "out/cat.png"}}}}
    g = Graph.from_dict(json.loads(json.dumps(data)))
    assert g.to_dict() == data
    assert Graph.from_json(g.to_json()).to_dict() == data


def test_python_api_builds_the_json_structure():
    g = Graph(seed=3)
    c = g.add("test.const", "c", value=0.2)
    g.add("test.add", "b", image=c, amount=0.1)
    g.add("test.labels", "lab", image=g.node("b")["image"])
    assert g.to_dict()["nodes"]["b"] == {"type": "test.add", "inputs": {"image": "c"},
                                         "params": {"amount": 0.1}}
    assert g.to_dict()["nodes"]["lab"]["inputs"] == {"image": "b.image"}


def test_add_refuses_duplicate_ids_and_foreign_refs():
    g, other = Graph(), Graph()
    g.add("test.const", "c")
    with pytest.raises(GraphError, match="already used"):
        g.add("test.const", "c")
    ref = other.add("test.const", "c")
    with pytest.raises(GraphError, match="another graph"):
        g.add("test.add", "b", image=ref)


def test_seed_must_be_an_integer():
    with pytest.raises(GraphError, match="seed must be an integer"):
        af.Graph(seed="7")  # type: ignore[arg-type]
