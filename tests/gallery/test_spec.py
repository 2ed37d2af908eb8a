"""Spec checking: every problem reported, one clear line each; the matrix expands as written."""

from __future__ import annotations

from pathlib import Path

import pytest

from artflow.gallery.jobs import expand_jobs, safe_name
from artflow.gallery.spec import SpecError, load_spec

from .conftest import write_png, write_spec

BAD = """
title = "bad"
save = ["look", "nowhere"]
name = "{colourmap}-{seed}"

[matrix]
"ghost.width" = [1, 2]
"art.colour" = ["a"]
"art.lines" = [10, -5]
"load.path" = {glob = "missing/*.png"}
seed = {from = 5, to = 1}

[captions]
template = "{seed"
"""

GRAPH_WITH_LOAD = """
[graph]
artflow = 1
[graph.nodes.load]
type = "image.load"
params = {path = "x.png"}
[graph.nodes.art]
type = "generate.flow_field"
[graph.nodes.look]
type = "color.colormap"
inputs = {image = "art"}
"""


def test_every_spec_problem_is_reported_on_its_own_line(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, BAD, GRAPH_WITH_LOAD)
    with pytest.raises(SpecError) as info:
        load_spec(spec)
    problems = info.value.problems
    text = "\n".join(problems)
    assert all("\n" not in p for p in problems)
    assert "no node 'ghost'" in text
    assert "has no such param 'colour'" in text
    assert "param 'lines' = -5 is not allowed" in text
    assert "glob 'missing/*.png' matches no files" in text
    assert "range from 5 to 1" in text
    assert "'save': no node 'nowhere'" in text
    assert "unknown field '{colourmap}'" in text
    assert "'captions.template' '{seed' is malformed" in text
    assert len(problems) == 8


def test_cli_prints_each_problem_and_exits_2(tmp_path: Path, artflow_cli) -> None:
    spec = write_spec(tmp_path, BAD, GRAPH_WITH_LOAD)
    proc = artflow_cli("render", str(spec), "-o", str(tmp_path / "out"))
    assert proc.returncode == 2
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 8 and all(ln.startswith("error: ") for ln in lines)
    assert not (tmp_path / "out").exists()


def test_unknown_keys_and_missing_graph_are_named(tmp_path: Path) -> None:
    spec = tmp_path / "s.toml"
    spec.write_text('titel = "x"\ngraph = "nope.json"\n')
    with pytest.raises(SpecError) as info:
        load_spec(spec)
    text = "\n".join(info.value.problems)
    assert "unknown key 'titel'" in text
    assert "graph file 'nope.json' not found" in text


def test_matrix_expands_in_order_with_stable_keys_and_safe_names(tmp_path: Path) -> None:
    write_png(tmp_path / "in" / "a b.png", (200, 0, 0))
    write_png(tmp_path / "in" / "c[1].png", (0, 200, 0))
    body = """
    name = "{path}-{colormap}-{seed:03d}"
    save = ["look"]
    [matrix]
    "load.path" = {glob = "in/*.png"}
    "look.colormap" = ["magma", "ice"]
    seed = [7, 8]
    [captions]
    template = "{colormap} #{index}"
    """
    graph = """
    [graph]
    artflow = 1
    [graph.nodes.load]
    type = "image.load"
    [graph.nodes.look]
    type = "color.colormap"
    inputs = {image = "load"}
    """
    spec = load_spec(write_spec(tmp_path, body, graph))
    jobs = expand_jobs(spec)
    assert len(jobs) == 8
    assert [j.name for j in jobs[:3]] == ["a_b-magma-007", "a_b-magma-008", "a_b-ice-007"]
    assert jobs[4].name == "c_1_magma-007"
    assert jobs[4].graph["nodes"]["load"]["params"]["path"] == "in/c[[]1].png"  # glob-escaped
    assert jobs[4].params == {"load.path": "in/c[1].png", "look.colormap": "magma", "seed": "7"}
    assert jobs[2].caption == "ice #2"
    again = expand_jobs(load_spec(tmp_path / "spec.toml"))
    assert [j.key for j in again] == [j.key for j in jobs]
    assert len({j.key for j in jobs}) == 8


def test_safe_name_keeps_names_inside_one_folder() -> None:
    assert safe_name("../../x") == "x"
    assert safe_name("/etc/passwd") == "etc_passwd"
    assert safe_name("..") == "item"
    assert safe_name("<script>alert(1)</script>") == "script_alert_1_script"


def test_a_glob_matching_a_name_that_is_not_utf8_is_one_line_before_anything_is_written(
        tmp_path: Path, artflow_cli) -> None:
    import os

    write_png(tmp_path / "in" / "good.png", (0, 200, 0))
    write_png(Path(os.fsdecode(os.fsencode(tmp_path / "in") + b"/bad\xff\x1b.png")), (200, 0, 0))
    body = """
    name = "{path}"
    save = ["look"]
    [matrix]
    "load.path" = {glob = "in/*.png"}
    """
    graph = """
    [graph]
    artflow = 1
    [graph.nodes.load]
    type = "image.load"
    [graph.nodes.look]
    type = "color.colormap"
    inputs = {image = "load"}
    """
    proc = artflow_cli("render", str(write_spec(tmp_path, body, graph)), "-o", str(tmp_path / "out"))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "not valid UTF-8" in proc.stderr and "bad\\udcff\\x1b.png" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()
