"""Clean exits: every user mistake or environment fault is exit 2 with ONE line; exit 1 only for a
bug in artflow (an uncaught exception). Each case here once ended otherwise."""

from __future__ import annotations

import errno
import json
from pathlib import Path

import click
import pytest

import artflow as af
from artflow import cli as cli_module
from artflow.errors import ArtflowError

from .inproc import run_cli

SOLID = {"artflow": 1, "seed": 0, "nodes": {"a": {"type": "generate.solid",
                                                    "params": {"width": 8, "height": 8}}}}


def _deep(depth: int) -> str:
    return ('{"artflow": 1, "seed": 0, "nodes": {"a": {"type": "generate.solid", "params": {"color": '
            + "[" * depth + "]" * depth + "}}}}")


def _one_error_line(res, *needles: str) -> str:
    assert res.code == 2, (res.code, res.err)
    assert len(res.error_lines) == 1, res.err
    line = res.error_lines[0]
    assert line.startswith("error: ") and "Traceback" not in res.err
    for needle in needles:
        assert needle in line, line
    return line


@pytest.mark.parametrize("depth", [990, 600, 40])
def test_deeply_nested_graph_is_a_graph_error(tmp_path: Path, depth: int) -> None:
    # 990 levels broke json.loads (RecursionError, exit 1); 600 passed it but broke deepcopy
    graph = tmp_path / "deep.json"
    graph.write_text(_deep(depth))
    res = run_cli("run", str(graph), "-o", str(tmp_path / "out"), "--no-cache")
    _one_error_line(res, "deep.json", "nested more than")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("depth", [990, 100])
def test_deeply_nested_set_value_is_a_user_error(tmp_path: Path, depth: int) -> None:
    # found by tests/fuzz: --set a.width=[[[...]]] raised RecursionError (exit 1) from a shell too
    graph = tmp_path / "g.json"
    graph.write_text(json.dumps(SOLID))
    value = "[" * depth + "]" * depth
    res = run_cli("run", str(graph), "-o", str(tmp_path / "out"), "--set", f"a.width={value}")
    _one_error_line(res, "--set", "nested")


def test_deep_inline_graph_and_deep_matrix_values_in_a_spec(tmp_path: Path) -> None:
    (tmp_path / "g.json").write_text(json.dumps(SOLID))
    spec = tmp_path / "deep.toml"
    spec.write_text('graph = "g.json"\n[matrix]\n"a.width" = ' + "[" * 300 + "8" + "]" * 300 + "\n")
    res = run_cli("render", str(spec), "--dry-run", "-o", str(tmp_path / "out"))
    assert res.code == 2 and "Traceback" not in res.err, res.err
    assert all(ln.startswith("error: ") for ln in res.error_lines)
    toml_deep = tmp_path / "deeper.toml"
    toml_deep.write_text('graph = "g.json"\n[matrix]\n"a.width" = ' + "[" * 990 + "]" * 990 + "\n")
    res = run_cli("render", str(toml_deep), "--dry-run", "-o", str(tmp_path / "out"))
    _one_error_line(res, "nested too deeply")


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
@pytest.mark.parametrize("where", ["to", "from", "step", "list"])
def test_nan_and_inf_in_a_matrix_are_spec_errors_even_in_a_dry_run(tmp_path: Path, value: str,
                                                                   where: str) -> None:
    (tmp_path / "g.json").write_text(json.dumps(SOLID))
    axis = {"to": f"{{from = 1, to = {value}}}", "from": f"{{from = {value}, to = 4}}",
            "step": f"{{from = 1.0, to = 4.0, step = {value}}}", "list": f"[2, {value}]"}[where]
    spec = tmp_path / "s.toml"
    spec.write_text(f'graph = "g.json"\n[matrix]\n"a.width" = {axis}\n')
    res = run_cli("render", str(spec), "--dry-run", "-o", str(tmp_path / "out"))
    line = _one_error_line(res, "s.toml", "matrix 'a.width'")
    assert "finite" in line or "empty" in line


@pytest.mark.parametrize("background", ["solid", "random", "transparent", "gradient", "noise", "voronoi"])
@pytest.mark.parametrize("size", [(1, 1), (1, 7), (3, 2)])
def test_shapes_on_tiny_canvases(background: str, size: tuple[int, int]) -> None:
    # a circle under one supersampled pixel across made PIL raise "x1 must be greater than x0"
    g = af.Graph(seed=3)
    g.add("generate.shapes", "s", width=size[0], height=size[1], count=4, background=background,
          min_size=0.005, max_size=2.0, inside=False)
    result = g.run(use_cache=False)
    image = result.outputs("s")["image"]
    assert image.shape[:3] == (4, size[1], size[0])


def test_shapes_on_a_1x1_canvas_from_the_cli(tmp_path: Path) -> None:
    graph = tmp_path / "g.json"
    # seed 4: default sizes draw a circle a tenth of a pixel across (was "x1 must be >= x0", exit 2
    # with a leaked ValueError)
    graph.write_text(json.dumps({"artflow": 1, "seed": 4, "nodes": {
        "s": {"type": "generate.shapes", "params": {"width": 1, "height": 1}},
        "save": {"type": "image.save", "inputs": {"image": "s"}, "params": {"path": "one.png"}}}}))
    res = run_cli("run", str(graph), "-o", str(tmp_path / "out"), "--no-cache")
    assert res.code == 0, res.err
    assert (tmp_path / "out" / "one.png").is_file()


@pytest.mark.parametrize("sep", ["\u2028", "\u2029", "\x85", "\n", "\r", "\x0b", "\x1c"])
def test_a_message_with_a_line_separator_prints_as_one_line(tmp_path: Path, sep: str) -> None:
    (tmp_path / "g.json").write_text(json.dumps(SOLID))
    spec = tmp_path / "s.toml"
    text = json.dumps(f"caption{sep}second {{seed:{sep}d}}")  # a format spec that cannot fill
    spec.write_text(f'graph = "g.json"\n[matrix]\nseed = [1, 2]\n[captions]\ntemplate = {text}\n')
    res = run_cli("render", str(spec), "--dry-run", "-o", str(tmp_path / "out"))
    line = _one_error_line(res, "captions.template")
    assert sep not in line


def test_one_line_escapes_every_line_break() -> None:
    text = "a\nb\rc\u2028d\u2029e\x85f\x0bg\x0ch\x1ci\x1dj\x1ek\tl é 漢 ok"
    out = cli_module.one_line(text)
    assert out.splitlines() == [out] and out.isprintable()
    assert out.endswith("l é 漢 ok") and "\\u2028" in out
    assert cli_module.one_line("plain text") == "plain text"


def _with_command(monkeypatch: pytest.MonkeyPatch, exc: BaseException) -> None:
    @click.command("explode")
    def explode() -> None:
        raise exc

    monkeypatch.setitem(cli_module.cli.commands, "explode", explode)


@pytest.mark.parametrize("exc, code, needle", [
    (ArtflowError("you asked for\u2028something odd"), 2, "you asked for\\u2028something odd"),
    (OSError(errno.ENOSPC, "No space left on device", "/data/out/x.png"), 2, "no space left on the disk"),
    (OSError(errno.EDQUOT, "Disk quota exceeded", "/data/out/x.png"), 2, "'/data/out'"),
    (PermissionError(errno.EACCES, "Permission denied", "/data/out"), 2, "Permission denied ('/data/out')"),
    (MemoryError(), 2, "out of memory"),
    (ValueError("an artflow bug"), 1, "this is a bug in artflow"),
    (RecursionError("maximum recursion depth exceeded"), 1, "this is a bug in artflow"),
    (KeyError("k"), 1, "KeyError"),
])
def test_exit_codes_user_and_environment_faults_2_bugs_1(monkeypatch: pytest.MonkeyPatch,
                                                          exc: BaseException, code: int, needle: str) -> None:
    _with_command(monkeypatch, exc)
    res = run_cli("explode")
    assert res.code == code, res.err
    assert len(res.error_lines) == 1 and needle in res.error_lines[0], res.err
    assert "Traceback" not in res.err
    assert cli_module.USER_EXIT == 2 and cli_module.BUG_EXIT == 1


def test_debug_shows_the_traceback_of_a_bug(monkeypatch: pytest.MonkeyPatch) -> None:
    _with_command(monkeypatch, ValueError("an artflow bug"))
    res = run_cli("--debug", "explode")
    assert res.code == 1 and "Traceback" in res.err


def test_a_failed_gallery_item_is_exit_2_not_1(tmp_path: Path) -> None:
    spec = tmp_path / "s.toml"
    spec.write_text('[matrix]\n"load.path" = ["missing.png"]\n[graph]\nartflow = 1\n'
                    '[graph.nodes.load]\ntype = "image.load"\n')
    res = run_cli("render", str(spec), "-o", str(tmp_path / "out"), "--workers", "0")
    assert res.code == 2, res.err
    assert any("missing.png" in ln for ln in res.error_lines) and "Traceback" not in res.err


BUGGY_PLUGIN = """
import numpy as np
import artflow as af

@af.node("buggy.divide", category="test", outputs={"image": af.IMAGE},
         params={"mode": af.Choice(["fine", "bug", "user"], "fine", doc="how to end")})
def divide(ctx, mode):
    \"\"\"Ends fine, with a bug (ZeroDivisionError) or with a user's mistake (an ArtflowError).\"\"\"
    if mode == "bug":
        return 1 / 0
    if mode == "user":
        raise af.ArtflowError("node 'x': give a smaller value")
    return np.zeros((1, 4, 4, 3), np.float32)

@af.hookimpl
def register_nodes(register):
    register(divide)
"""


@pytest.mark.parametrize("mode, code", [("fine", 0), ("user", 2), ("bug", 1)])
def test_a_node_that_fails_with_an_unexpected_exception_is_a_bug_exit_1(fake_plugin, tmp_path: Path,
                                                                        mode: str, code: int) -> None:
    fake_plugin("af-buggy", "af_buggy", BUGGY_PLUGIN)
    graph = tmp_path / "g.json"
    graph.write_text(json.dumps({"artflow": 1, "nodes": {"d": {"type": "buggy.divide",
                                                                "params": {"mode": mode}}}}))
    res = run_cli("run", str(graph), "-o", str(tmp_path / "out"), "--no-cache")
    assert res.code == code, res.err
    if code:
        assert len(res.error_lines) == 1 and "'d' (buggy.divide)" in res.error_lines[0]
        assert ("this is a bug" in res.error_lines[0]) == (code == 1)
    spec = tmp_path / "s.toml"
    spec.write_text(f'[matrix]\nseed = [1, 2]\n[graph]\nartflow = 1\n[graph.nodes.d]\ntype = "buggy.divide"\n'
                    f'params = {{mode = "{mode}"}}\n')
    res = run_cli("render", str(spec), "-o", str(tmp_path / "gallery"), "--workers", "0")
    assert res.code == code, res.err
