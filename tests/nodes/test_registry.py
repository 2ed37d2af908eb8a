"""Every core node is declared completely and runs on a small batch with outputs of the declared types."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from artflow.types import BOXES, IMAGE, LABELS, MASK, TEXT, Box, Label, check_value
from tests.nodes.conftest import call_node, ramp, specs

REQUIRED_BY_DESIGN = {"image.load", "image.save", "image.resize", "draw.boxes"}
STOCHASTIC = {
    "generate.gradient",
    "generate.noise",
    "generate.shapes",
    "generate.voronoi",
    "generate.flow_field",
    "filter.grain",
}


def test_core_plugin_has_at_least_34_nodes_including_design_names() -> None:
    names = set(specs())
    assert len(names) >= 34
    assert REQUIRED_BY_DESIGN <= names


def test_core_nodes_register_through_the_entry_point() -> None:
    from artflow.plugins import load_plugins

    plugins = load_plugins()
    for name in specs():
        assert name in plugins.nodes, name
        assert plugins.nodes.get(name).plugin == "core"


@pytest.mark.parametrize("name", sorted(specs()))
def test_node_declaration_is_complete(name: str) -> None:
    spec = specs()[name]
    assert spec.doc and spec.category and "." in spec.name
    categories = {"io", "transform", "color", "filter", "composite", "generate", "annotate", "layout"}
    assert spec.category in categories
    for socket in spec.inputs + spec.outputs:
        assert socket.doc, f"{name}: socket '{socket.name}' has no doc"
    for pname, param in spec.params.items():
        assert param.doc, f"{name}: param '{pname}' has no doc"
        if param.kind == "choice":
            assert param.default in param.choices
        if not param.required and param.default is not None:
            param.validate("n", name, pname, param.default)  # every default is itself valid
    json.dumps(spec.describe())


def test_stochastic_nodes_say_so() -> None:
    for name in STOCHASTIC:
        assert specs()[name].deterministic is False, name
    assert specs()["image.resize"].deterministic is True
    assert specs()["image.save"].writes_files and specs()["image.save_animation"].writes_files


SMALL = {"width": 24, "height": 16, "count": 2}
OVERRIDES: dict[str, dict[str, Any]] = {
    "generate.flow_field": {"lines": 30, "steps": 10},
    "generate.voronoi": {"cells": 6},
    "image.resize": {"width": 12},
    "image.save": {"path": "x/{index}.png"},
    "color.quantize": {"colors": 3},
    "filter.median": {"size": 3},
}


def _inputs(spec: Any, tmp: Path) -> dict[str, Any]:
    n = 2
    values = {
        IMAGE: ramp(n),
        MASK: ramp(n)[..., :1],
        TEXT: ["a", "b"],
        LABELS: [[Label("cat", 0.9)], [Label("dog", 0.6)]],
        BOXES: [[Box((1, 1, 10, 8), "cat", 0.9)], []],
    }
    return {s.name: values[s.type] for s in spec.inputs if not s.optional or s.type is not MASK}


NEEDS_FILES = ("image.load", "video.load", "const.image")  # their own tests give them files


@pytest.mark.parametrize("name", sorted(n for n in specs() if n not in NEEDS_FILES))
def test_node_runs_on_a_small_batch_and_outputs_declared_types(name: str, tmp_path: Path) -> None:
    spec = specs()[name]
    kwargs = _inputs(spec, tmp_path)
    kwargs.update({k: v for k, v in SMALL.items() if k in spec.params})
    kwargs.update(OVERRIDES.get(name, {}))
    out = call_node(name, tmp=tmp_path, **kwargs)
    if len(spec.outputs) == 1 and not isinstance(out, dict):
        out = {spec.outputs[0].name: out}
    assert set(out) == {s.name for s in spec.outputs}
    for socket in spec.outputs:
        value = out[socket.name]
        assert check_value(socket.type, value) is None, (name, socket.name, check_value(socket.type, value))
        if socket.type in (IMAGE, MASK):
            assert value.dtype == np.float32
            assert np.isfinite(value).all() and value.min() >= 0 and value.max() <= 1
