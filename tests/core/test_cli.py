"""The CLI end to end: script == JSON == PNG re-render, --set, --json, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

import artflow as af
from artflow.cache import Cache
from artflow.engine import Engine
from artflow.imaging import load_image


def sketch() -> af.Graph:
    g = af.Graph(seed=11)
    noise = g.add("generate.noise", "noise", width=96, height=64, kind="fbm", color="rgb")
    grad = g.add("generate.gradient", "grad", width=96, height=64)
    mixed = g.add("composite.blend", "mix", base=grad, top=noise, mode="overlay", opacity=0.7)
    soft = g.add("filter.blur", "soft", image=mixed, radius=1.5)
    g.add("image.save", "save", image=soft, path="art/sketch.png")
    return g


def test_script_json_and_png_rerender_give_the_same_pixels(tmp_path, artflow_cli):
    g = sketch()
    script_out = tmp_path / "script"
    Engine(Cache(tmp_path / "c1")).run(g, output_dir=script_out)
    from_script = load_image(script_out / "art" / "sketch.png")

    graph_file = g.save(tmp_path / "sketch.json")
    proc = artflow_cli("run", str(graph_file), "-o", str(tmp_path / "cli"), "--no-cache")
    assert proc.returncode == 0, proc.stderr
    from_cli = load_image(tmp_path / "cli" / "art" / "sketch.png")
    np.testing.assert_array_equal(from_script, from_cli)

    proc = artflow_cli("run", str(tmp_path / "cli" / "art" / "sketch.png"), "-o", str(tmp_path / "again"),
                       "--no-cache")
    assert proc.returncode == 0, proc.stderr
    np.testing.assert_array_equal(from_script, load_image(tmp_path / "again" / "art" / "sketch.png"))


def test_png_carries_graph_seed_and_versions(tmp_path):
    from artflow.provenance import read_provenance

    Engine(Cache(disk=False)).run(sketch(), output_dir=tmp_path)
    record = read_provenance(tmp_path / "art" / "sketch.png")
    assert record["graph"]["seed"] == 11
    assert record["graph"]["nodes"]["soft"]["params"] == {"radius": 1.5}
    assert record["versions"]["artflow"] == af.__version__
    assert "core" in record["versions"]["plugins"]


def test_run_json_reports_statuses_and_rerun_is_cached(tmp_path, artflow_cli):
    graph_file = sketch().save(tmp_path / "g.json")
    env = {"ARTFLOW_CACHE": str(tmp_path / "cache")}
    first = json.loads(artflow_cli("run", str(graph_file), "-o", str(tmp_path), "--json", env=env).stdout)
    assert {v["status"] for v in first["nodes"].values()} == {"ran"}
    assert first["outputs"]["soft"]["image"] == {"shape": [1, 64, 96, 3]}
    assert first["outputs"]["save"]["path"] == [str((tmp_path / "art" / "sketch.png").resolve())]
    second = json.loads(artflow_cli("run", str(graph_file), "-o", str(tmp_path), "--json", env=env).stdout)
    assert {v["status"] for v in second["nodes"].values()} == {"cached"}
    third = json.loads(artflow_cli("run", str(graph_file), "-o", str(tmp_path), "--json",
                                   "--set", "save.path=art/other.png", env=env).stdout)
    assert [n for n, v in third["nodes"].items() if v["status"] == "ran"] == ["save"]
    assert (tmp_path / "art" / "other.png").is_file()


def test_deleted_output_file_is_written_again(tmp_path, artflow_cli):
    graph_file = sketch().save(tmp_path / "g.json")
    env = {"ARTFLOW_CACHE": str(tmp_path / "cache")}
    artflow_cli("run", str(graph_file), "-o", str(tmp_path), env=env)
    (tmp_path / "art" / "sketch.png").unlink()
    again = json.loads(artflow_cli("run", str(graph_file), "-o", str(tmp_path), "--json", env=env).stdout)
    assert again["nodes"]["save"]["status"] == "ran"
    assert (tmp_path / "art" / "sketch.png").is_file()


def test_errors_are_one_line_with_exit_code_2(tmp_path, artflow_cli):
    bad = tmp_path / "bad.json"
    bad.write_text('{"artflow": 1, "nodes": {"a": {"type": "filter.blurr"}}}')
    proc = artflow_cli("run", str(bad))
    assert proc.returncode == 2
    assert proc.stderr.strip() == ("error: node 'a': unknown node type 'filter.blurr'; did you mean "
                                   "'filter.blur'? `artflow nodes` lists the known types")
    debug = artflow_cli("--debug", "run", str(bad))
    assert debug.returncode == 2 and "Traceback" in debug.stderr


def test_missing_graph_file_and_bad_set(tmp_path, artflow_cli):
    proc = artflow_cli("run", str(tmp_path / "nope.json"))
    assert proc.returncode == 2 and "nope.json" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    graph_file = sketch().save(tmp_path / "g.json")
    proc = artflow_cli("run", str(graph_file), "--set", "ghost.radius=2")
    assert proc.returncode == 2 and "no node 'ghost'" in proc.stderr
    proc = artflow_cli("run", str(graph_file), "--set", "soft.radius=-2")
    assert proc.returncode == 2
    assert "node 'soft' (filter.blur) param 'radius' = -2 is not allowed" in proc.stderr
    proc = artflow_cli("run", str(graph_file), "--set", "radius")
    assert proc.returncode == 2 and "node.param=value" in proc.stderr


def test_failing_node_in_cli_names_node_type_and_cause(tmp_path, artflow_cli):
    g = af.Graph()
    g.add("image.load", "photo", path="missing.png")
    graph_file = g.save(tmp_path / "g.json")
    proc = artflow_cli("run", str(graph_file))
    assert proc.returncode == 2
    line = proc.stderr.strip()
    assert "\n" not in line and "'photo'" in line and "missing.png" in line


def test_save_path_outside_output_folder_is_refused(tmp_path, artflow_cli):
    g = af.Graph()
    g.add("image.save", "save", image=g.add("generate.solid", width=4, height=4), path="../escape.png")
    graph_file = g.save(tmp_path / "g.json")
    proc = artflow_cli("run", str(graph_file), "-o", str(tmp_path / "out"))
    assert proc.returncode == 2 and "leaves the output folder" in proc.stderr
    assert not (tmp_path / "escape.png").exists()


def test_nodes_json_lists_30_types_in_8_categories(artflow_cli):
    data = json.loads(artflow_cli("nodes", "--json").stdout)
    core = [d for d in data if d["plugin"] == "core"]
    assert len(core) >= 30
    assert len({d["category"] for d in core}) >= 8
    for d in core:
        assert d["doc"] and d["outputs"], d["name"]
        for s in d["inputs"] + d["outputs"]:
            assert s["type"] in ("IMAGE", "MASK", "LATENT", "LABELS", "BOXES", "NUMBER", "TEXT")
        for name, p in d["params"].items():
            assert p["type"] and p["doc"], f"{d['name']}.{name}"


def test_nodes_describes_one_node(artflow_cli):
    proc = artflow_cli("nodes", "image.resize")
    assert proc.returncode == 0 and "param width" in proc.stdout
    assert json.loads(artflow_cli("nodes", "--json", "image.resize").stdout)["name"] == "image.resize"


def test_doctor_reports_the_provider_that_works(artflow_cli):
    data = json.loads(artflow_cli("doctor", "--json").stdout)
    assert data["providers"]["available"]
    assert data["plugins"] and data["node_types"] >= 30
    assert Path(data["cache"]["folder"]).name


def test_help_does_not_import_heavy_modules(artflow_cli):
    proc = artflow_cli("--help", env={"PYTHONVERBOSE": "1"})
    assert proc.returncode == 0
    imported = proc.stderr
    for heavy in ("tensorflow", "onnxruntime", "ray", "tf2onnx"):
        assert f"import '{heavy}'" not in imported
