"""`artflow import` reads only the package it was given and refuses every malformed field in one
line (exit 2) before TensorFlow loads or anything large is allocated; nothing is written; a killed
import's temp file is removed by the next import. One test per finding of the hardening probe
(issue 22): each exited 0 or 1 before."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ..faults.inproc import run_cli
from .hostile_tfjs import SHARD, edit, package, read_canary, watch_opens

WEIGHTS = ("modelTopology", "weightsManifest")


def _import(model: Path, out: Path, *extra: str) -> tuple[int, list[str]]:
    res = run_cli("import", "tfjs", str(model), "--name", "tiny", "--kind", "matte", "--decode", "mask",
                  "-o", str(out / "tiny.onnx"), *extra)
    return res.code, res.error_lines


def _refused(tmp_path: Path, change: Any, expect: str, *, canary_check: bool = True) -> None:
    model, canary = package(tmp_path)
    edit(model, change)
    out = tmp_path / "out"
    tf_before = "tensorflow" in sys.modules
    with watch_opens() as opened:
        code, lines = _import(model, out)
    assert code == 2 and len(lines) == 1 and expect in lines[0], lines
    assert "Traceback" not in lines[0]
    assert not out.exists() or not any(out.iterdir()), "wrote on failure"
    if canary_check:
        assert not read_canary(opened, canary), "read a file outside the package"
    if not tf_before:
        assert "tensorflow" not in sys.modules, "TensorFlow loaded before the package was checked"


def _manifest(d: dict[str, Any]) -> dict[str, Any]:
    return d["weightsManifest"][0]


def _nodes(d: dict[str, Any]) -> list[dict[str, Any]]:
    return d["modelTopology"]["node"]


def test_shard_path_with_dotdot_is_refused(tmp_path: Path) -> None:
    _refused(tmp_path, lambda d: _manifest(d).update(paths=["../private/secret.bin"]),
             "leaves the model's folder")


def test_absolute_shard_path_is_refused(tmp_path: Path) -> None:
    secret = str(tmp_path / "private" / "secret.bin")
    _refused(tmp_path, lambda d: _manifest(d).update(paths=[secret]), "leaves the model's folder")


def test_symlinked_shard_out_of_the_package_is_refused(tmp_path: Path) -> None:
    def link(d: dict[str, Any]) -> None:
        (tmp_path / "pkg" / "link.bin").symlink_to(tmp_path / "private" / "secret.bin")
        _manifest(d)["paths"] = ["link.bin"]

    _refused(tmp_path, link, "outside the model's folder")


def test_proc_file_as_shard_is_refused(tmp_path: Path) -> None:
    _refused(tmp_path, lambda d: _manifest(d).update(paths=["/proc/self/environ"]),
             "leaves the model's folder")


def test_shard_name_the_system_cannot_open_is_one_short_line(tmp_path: Path) -> None:
    _refused(tmp_path, lambda d: _manifest(d).update(paths=["a" * 3000]),
             "cannot be opened (File name too long)")


def test_self_loop_is_refused(tmp_path: Path) -> None:
    _refused(tmp_path, lambda d: _nodes(d)[-1].update(input=["out"]), "form a cycle")


def test_cycle_is_refused(tmp_path: Path) -> None:
    def cycle(d: dict[str, Any]) -> None:
        by = {n["name"]: n for n in _nodes(d)}
        by["conv"]["input"] = ["out", "conv_w", "conv_b"]

    _refused(tmp_path, cycle, "form a cycle")


@pytest.mark.parametrize("dim", [2**64, -3, 1.5, "abc", None, True, [4]])
def test_bad_shape_dims_are_refused(tmp_path: Path, dim: Any) -> None:
    _refused(tmp_path, lambda d: _manifest(d)["weights"][0].update(shape=[3, dim, 3, 4]), "not a size from 0")


def test_shape_that_is_not_a_list_is_refused(tmp_path: Path) -> None:
    _refused(tmp_path, lambda d: _manifest(d)["weights"][0].update(shape="3,3,3,4"), "is not a list")


@pytest.mark.parametrize(("shape", "expect"), [([4, 2**62 + 27], "not a size from 0"),
                                                 ([2**31 - 1] * 8, "wrong size")])
def test_dims_whose_product_overflows_are_refused(tmp_path: Path, shape: list[int], expect: str) -> None:
    """4 × (2**62 + 27) wraps to 108 in int64, the first weight's true count: the old size check
    passed it and the reshape failed (exit 1); products are exact Python ints now."""
    _refused(tmp_path, lambda d: _manifest(d)["weights"][0].update(shape=shape), expect)


def test_topology_that_is_a_string_is_refused(tmp_path: Path) -> None:
    _refused(tmp_path, lambda d: d.update(modelTopology="graph"), "no modelTopology object")


def test_node_list_that_is_not_a_graph_is_refused(tmp_path: Path) -> None:
    _refused(tmp_path, lambda d: d["modelTopology"].update(node={"a": 1}), "not a list of nodes")


def test_weight_without_name_is_refused(tmp_path: Path) -> None:
    _refused(tmp_path, lambda d: _manifest(d)["weights"][0].pop("name"), "has no name")


def test_signature_without_name_is_refused(tmp_path: Path) -> None:
    _refused(tmp_path, lambda d: d["signature"]["inputs"]["image"].pop("name"), "has no tensor name")


def test_wrong_dtype_is_refused(tmp_path: Path) -> None:
    _refused(tmp_path, lambda d: _manifest(d)["weights"][0].update(dtype="string"), "has dtype 'string'")


def test_shard_listed_many_times_is_refused_before_reading(tmp_path: Path) -> None:
    _refused(tmp_path, lambda d: _manifest(d).update(paths=[SHARD] * 5000), "listed more than once")


def test_splat_constant_of_37_gb_is_refused_by_the_budget(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("ARTFLOW_MAX_MEMORY_MB", "512")

    def splat(d: dict[str, Any]) -> None:
        _nodes(d).insert(1, {"name": "huge", "op": "Const", "attr": {
            "dtype": {"type": "DT_FLOAT"}, "value": {"tensor": {
                "dtype": "DT_FLOAT", "tensorShape": {"dim": [{"size": "96000"}, {"size": "96000"}]},
                "floatVal": [0.5]}}}})

    _refused(tmp_path, splat, "over the memory budget")


def test_broken_spec_fields_are_refused(tmp_path: Path) -> None:
    model, _ = package(tmp_path)
    spec = tmp_path / "spec.toml"
    for text, expect in [('name = "../x"\nkind = "k"', "spec: name"),
                         ('name = "a"\nkind = "k"\n[input]\nsize = [0, 1e30]', "input.size"),
                         ('name = "a"\nkind = "k"\n[input]\nrange = "0,255"', "input.range"),
                         ('name = "a"\nkind = "k"\ninput = "x"', "spec: input"),
                         ('name = "a"\nkind = "k"\nlabels = "no_such_set"', "no loaded plugin declares")]:
        spec.write_text(text)
        res = run_cli("import", "tfjs", str(model), "--spec", str(spec), "-o", str(tmp_path / "o" / "a.onnx"))
        assert res.code == 2 and len(res.error_lines) == 1 and expect in res.error_lines[0], res.err


@pytest.mark.parametrize("target", [":", ".rel:X", "a:", "os:path/../x", "/abs:X"])
def test_keras_target_that_is_not_a_factory_is_refused(tmp_path: Path, target: str) -> None:
    res = run_cli("import", "keras", target, "--name", "k", "--kind", "edges", "-o", str(tmp_path / "k.onnx"))
    assert res.code == 2 and len(res.error_lines) == 1 and "PACKAGE:FACTORY" in res.error_lines[0], res.err


def test_stale_temp_files_of_dead_imports_are_removed(tmp_path: Path) -> None:
    """What a SIGKILLed import leaves (its temp file and the .part of an atomic write, named with
    its pid, or the pid-less name of older versions) is removed by the next import into the
    folder; a live import's temp file is kept."""
    out = tmp_path / "out"
    out.mkdir()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = [out / ".tiny.onnx.importing", out / f".tiny.onnx.{dead.pid}.importing",
             out / f"..tiny.onnx.{dead.pid}.importing.abc123.part"]
    alive = out / f".tiny.onnx.{os.getppid()}.importing"
    for p in [*stale, alive]:
        p.write_bytes(b"half")
    model, _ = package(tmp_path)
    edit(model, lambda d: _manifest(d).update(paths=["../x.bin"]))  # fails fast: the cleaning comes first
    code, _ = _import(model, out)
    assert code == 2
    assert sorted(p.name for p in out.iterdir()) == [alive.name]


@pytest.mark.slow
def test_graph_tensorflow_cannot_load_is_one_line(tmp_path: Path) -> None:
    """Well-formed fields that do not fit together (a rank-3 image into a 2-D convolution) reach
    TensorFlow; its refusal is one line, exit 2 (found by a sweep past --check: exit 1 before)."""
    pytest.importorskip("tf2onnx")
    model, _ = package(tmp_path)
    edit(model, lambda d: _nodes(d)[0]["attr"]["shape"]["shape"]["dim"].pop())
    out = tmp_path / "out"
    code, lines = _import(model, out)
    assert code == 2 and len(lines) == 1 and "TensorFlow cannot load the graph" in lines[0], lines
    assert not out.exists() or not any(out.iterdir())


@pytest.mark.parametrize(("layer", "key", "value", "expect"), [
    (1, "filters", 10**9, "sizes are whole numbers up to"),
    (1, "filters", 2048, "has filters '2048' but its weight is [3, 3, 3, 4]"),
    (1, "kernel_size", [9, 9], "has kernel_size '[9, 9]' but its weight is"),
    (3, "kernel_size", 1.5, "sizes are whole numbers"),
])
def test_layer_sizes_beyond_their_weights_are_refused_before_building(tmp_path: Path, layer: int, key: str,
                                                                       value: Any, expect: str) -> None:
    """A layers model's Conv2D declaring a width or kernel its weights do not have would make Keras
    allocate it while building (10**9 filters: terabytes) before any weight is compared."""
    from .tfjs_layers_fixture import write_tiny_layers

    model = write_tiny_layers(tmp_path / "pkg", "ReLU")
    edit(model, lambda d: d["modelTopology"]["model_config"]["config"]["layers"][layer]["config"].update(
        {key: value}))
    res = run_cli("import", "tfjs", str(model), "--name", "t", "--kind", "upscaler", "--decode", "image",
                  "-o", str(tmp_path / "out" / "t.onnx"))
    assert res.code == 2 and len(res.error_lines) == 1 and expect in res.error_lines[0], res.err
    assert not (tmp_path / "out").exists()
