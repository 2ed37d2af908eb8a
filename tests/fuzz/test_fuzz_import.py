"""Fuzzing `artflow import tfjs … --check` with malformed model.json files and specs (issue 22):
graph and layers packages with hostile values at any JSON path (huge, negative, non-integer and
string dims, wrong types, missing names, lone surrogates), self-loops, cycles, shards listed many
times, splat constants, paths and links out of the package.

Every case must exit 0 or 2 with no traceback, write nothing, load no TensorFlow (the checks come
first), stay within the memory budget (harness.py) and never open the canary file that sits
outside the package with the shard's exact size (checked with Python's audit hook for ``open``).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ..vision.hostile_tfjs import SHARD, read_canary, watch_opens
from ..vision.tfjs_fixture import write_tiny_tfjs
from ..vision.tfjs_layers_fixture import write_tiny_layers
from .harness import check_case, fresh, profile

MODES = ["fixed", "rotating"]
SCALE = float(os.environ.get("ARTFLOW_FUZZ_SCALE", "1"))
N_IMPORT = int(170 * SCALE)
HOSTILE: list[Any] = [None, True, -1, 0, 1.5, 2**64, -(2**63), 10**30, "", "x", "-7", "1e9", [], {}, [[[]]],
                      ["a"], [2**31 - 1] * 8, [2**64], "\u2028", "\ud800", "a" * 3000, {"name": 1},
                      "../private/secret.bin", "/proc/self/environ", "link.bin", "LINK", "ABS"]
STRUCTURAL = ["self_loop", "cycle", "dup_shard", "splat", "deep", "drop_shard", "short_shard", "layers_loop",
              "unknown_class", "string_topology", "format"]


@pytest.fixture(scope="module")
def bases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The two valid packages (graph, layers) as JSON and shard bytes."""
    root = tmp_path_factory.mktemp("fuzz-import")
    out: dict[str, Any] = {}
    for kind, write in (("graph", write_tiny_tfjs), ("layers", lambda p: write_tiny_layers(p, "ReLU"))):
        model = write(root / kind)
        out[kind] = (json.loads(model.read_text()), (model.parent / SHARD).read_bytes())
    return out


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if len(prefix) > 12:
        return found
    if isinstance(value, dict):
        for k, v in value.items():
            found += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value[:6]):
            found += _paths(v, (*prefix, i))
    return found


def _set(doc: Any, path: tuple[Any, ...], value: Any, drop: bool) -> None:
    target = doc
    for key in path[:-1]:
        target = target[key]
    if drop:
        del target[path[-1]]
    else:
        target[path[-1]] = value


def _structural(kind: str, doc: dict[str, Any], shard: bytes, how: str, n: int, case: Path) -> bytes:
    top = doc["modelTopology"]
    group = doc["weightsManifest"][0]
    if how == "self_loop" and kind == "graph":
        top["node"][-1]["input"] = [top["node"][-1]["name"]]
    elif how == "cycle" and kind == "graph":
        top["node"][-2]["input"] = [top["node"][-1]["name"]]
    elif how == "dup_shard":
        group["paths"] = group["paths"] * (n % 5000 + 2)
    elif how == "splat" and kind == "graph":
        top["node"].append({"name": "splat", "op": "Const", "attr": {"value": {"tensor": {
            "dtype": "DT_FLOAT", "floatVal": [1.0],
            "tensorShape": {"dim": [{"size": str(10 ** (n % 8 + 3))}] * 3}}}}})
    elif how == "deep":
        nested: Any = []
        for _ in range(n % 3000 + 1000):
            nested = [nested]
        group["weights"][0]["shape"] = nested
    elif how == "drop_shard":
        return b""
    elif how == "short_shard":
        return shard[: n % max(1, len(shard))]
    elif how == "layers_loop" and kind == "layers":
        layers = top["model_config"]["config"]["layers"]
        layers[1]["inbound_nodes"] = [[[layers[-1]["name"], 0, 0, {}]]]
    elif how == "unknown_class" and kind == "layers":
        top["model_config"]["config"]["layers"][2]["class_name"] = "Lambda"
    elif how == "string_topology":
        doc["modelTopology"] = "graph"
    elif how == "format":
        doc["format"] = ["graph-model", "layers-model", "x", 3][n % 4]
    return shard


@st.composite
def hostile_package(draw: Any, bases: dict[str, Any]) -> tuple[str, dict[str, Any], str, int, list[Any]]:
    kind = draw(st.sampled_from(["graph", "layers"]))
    doc = json.loads(json.dumps(bases[kind][0]))
    paths = _paths(doc)
    edits = draw(st.lists(st.tuples(st.integers(0, len(paths) - 1), st.sampled_from(HOSTILE), st.booleans()),
                          min_size=0, max_size=3))
    how = draw(st.sampled_from(["none", *STRUCTURAL]))
    return kind, doc, how, draw(st.integers(0, 10**6)), edits


def _write_case(case: Path, kind: str, doc: dict[str, Any], shard: bytes, how: str, n: int,
                edits: list[Any], canary: Path) -> Path:
    pkg = case / "pkg"
    pkg.mkdir()
    (pkg / "link.bin").symlink_to(canary)
    paths = _paths(doc)
    for index, value, drop in edits:
        if index >= len(paths):
            continue
        if isinstance(value, str):
            value = {"LINK": "link.bin", "ABS": str(canary)}.get(value, value)
        try:
            _set(doc, paths[index], value, drop)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier edit removed or replaced the parent
    try:
        shard = _structural(kind, doc, shard, how, n, case)
    except (KeyError, IndexError, TypeError, AttributeError):
        pass  # an edit removed what the structural change needs
    if shard:
        (pkg / SHARD).write_bytes(shard)
    model = pkg / "model.json"
    try:
        model.write_text(json.dumps(doc))
    except (RecursionError, ValueError):
        model.write_text("[" * 100_000)
    return model


SPEC_KEYS = ["name", "kind", "labels", "float16", "package", "description", "input", "decode", "parity",
             "extra", "input.size", "input.range", "input.mean", "input.std", "input.layout", "input.color",
             "input.tensor", "input.dtype", "input.batch", "input.fixed", "input.symbolic", "input.bogus",
             "decode.kind", "decode.outputs", "decode.output", "decode.raw", "decode.range", "parity.atol",
             "parity.size", "parity.photos", "parity.outputs", "parity.real_only", "parity.float16_atol"]


@st.composite
def hostile_spec(draw: Any) -> dict[str, Any]:
    """A JSON spec: a valid name and kind, then hostile values at a few keys (tables included)."""
    spec: dict[str, Any] = {"name": "n", "kind": "k"}
    for key in draw(st.lists(st.sampled_from(SPEC_KEYS), min_size=1, max_size=4)):
        value = draw(st.sampled_from([*HOSTILE, [1, 2], [0, 255], [8, 8], "mask", "identity", "NCHW"]))
        table, _, sub = key.partition(".")
        if sub:
            if not isinstance(spec.get(table), dict):
                spec[table] = {}
            spec[table][sub] = value
        else:
            spec[table] = value
    return spec


@pytest.mark.parametrize("mode", MODES)
def test_fuzz_import_tfjs_packages(bases: dict[str, Any], tmp_path: Path, mode: str) -> None:
    private = tmp_path / "private"
    private.mkdir()
    canary = private / "secret.bin"
    canary.write_bytes(b"\xAA" * len(bases["graph"][1]))
    layers_canary = private / "secret-layers.bin"
    layers_canary.write_bytes(b"\xBB" * len(bases["layers"][1]))

    @profile(mode, N_IMPORT, "import")
    @given(case_input=hostile_package(bases),
           spec=st.one_of(st.sampled_from([None] * 6 + [0, 1, 2, 3]), hostile_spec()))
    def run(case_input: tuple[str, dict[str, Any], str, int, list[Any]], spec: Any) -> None:
        kind, doc, how, n, edits = case_input
        case = fresh(tmp_path / "case")
        target = canary if kind == "graph" else layers_canary
        model = _write_case(case, kind, doc, bases[kind][1], how, n, edits, target)
        args = ["import", "tfjs", str(model), "--check", "-o", str(case / "out" / "x.onnx")]
        specs = ['name = "n"\nkind = "k"\n[input]\nsize = [2, 1e400]',
                 '{"name": "n", "kind": "k", "decode": {"kind": 3}}',
                 'name = "n"\nkind = "k"\n[parity]\natol = -1\n',
                 'name = "../../n"\nkind = "k"']
        if spec is None:
            args += ["--name", "n", "--kind", "k"]
        elif isinstance(spec, dict):
            (case / "g.json").write_text(json.dumps(spec))
            args += ["--spec", str(case / "g.json")]
        else:
            (case / ("s.json" if spec == 1 else "s.toml")).write_text(specs[spec])
            args += ["--spec", str(case / ("s.json" if spec == 1 else "s.toml"))]
        tf_before = "tensorflow" in sys.modules
        with watch_opens() as opened:
            res = check_case("import", case, case / "out", args, [private], source=f"{how} {edits}")
        assert not read_canary(opened, target), f"opened the canary: {how} {edits}\n{res.err}"
        assert tf_before or "tensorflow" not in sys.modules, f"TensorFlow loaded: {how} {edits}"
        assert len(res.error_lines) <= 1, res.err
        assert all(len(ln) < 1000 for ln in res.error_lines), res.err[:2000]  # a line a person reads

    run()
