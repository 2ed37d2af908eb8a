"""`artflow plugin new`: the package it writes installs into a fresh environment, registers
through the `artflow` entry point, passes its own tests, and its nodes (the model one included)
run in a graph and in a gallery spec. Also the install messages and the refusals."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest
from PIL import Image

from artflow.commands.plugin_new import plugin_files, plugin_names

#: the `artflow` command inside another interpreter (a fresh venv has no console script)
CLI = "import sys; from artflow.cli import main; sys.argv[0] = 'artflow'; main()"


def fresh_venv(folder: Path) -> Path:
    """A new venv that sees this environment's packages (artflow, numpy, onnxruntime, pytest…)
    through a .pth file, so only the plugin itself gets installed into it; its python."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True)
    python = folder / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    parent = sysconfig.get_paths()["purelib"]
    Path(purelib, "parent_env.pth").write_text(f"import site; site.addsitedir({parent!r})\n")
    return python


@pytest.mark.slow
def test_a_scaffolded_model_plugin_installs_passes_its_tests_and_runs_in_a_graph_and_a_gallery(
        artflow_cli, tmp_path):
    plugin = tmp_path / "artflow-tinted"
    made = artflow_cli("plugin", "new", "tinted", "--model", "-o", str(plugin), timeout=400)
    assert made.returncode == 0, made.stderr
    assert "wrote plugin artflow-tinted" in made.stdout
    assert (plugin / ".github/workflows/test.yml").is_file() and (plugin / "README.md").is_file()
    manifest = json.loads((plugin / "artflow_tinted/models/manifest.json").read_text())["models"]
    assert [(m["name"], m["kind"]) for m in manifest] == [("sepia", "tinted_tone")]

    python = fresh_venv(tmp_path / "venv")
    # pip uses what this environment has: no downloads, no isolated build environment
    env = dict(os.environ, PIP_NO_BUILD_ISOLATION="0", PIP_NO_DEPS="1", ARTFLOW_CACHE=str(tmp_path / "cache"))

    def artflow(*args: str, cwd: Path = tmp_path) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(python), "-c", CLI, *args], cwd=cwd, env=env, capture_output=True,
                              text=True, timeout=300)

    first = artflow("install", "-e", str(plugin))
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("installed plugin artflow-tinted 0.1.0 (editable: edits to ")
    contributes = "nodes tinted.posterize, tinted.tone; models tinted_tone:sepia; trainers tinted_tone"
    assert contributes in first.stdout
    again = artflow("install", "-e", str(plugin))
    assert again.returncode == 0 and again.stdout.startswith("reinstalled plugin artflow-tinted 0.1.0")

    own = subprocess.run([str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=plugin, env=env,
                         capture_output=True, text=True, timeout=300)
    assert own.returncode == 0 and "4 passed" in own.stdout, own.stdout + own.stderr

    graph = tmp_path / "tone.json"
    graph.write_text(json.dumps({"artflow": 1, "seed": 3, "nodes": {
        "grad": {"type": "generate.gradient", "params": {"width": 48, "height": 32,
                                                        "colors": ["#ff2000", "#2040ff"]}},
        "tone": {"type": "tinted.tone", "inputs": {"image": "grad"}, "params": {"strength": 0.8}},
        "save": {"type": "image.save", "inputs": {"image": "tone"}, "params": {"path": "toned.png"}}}}))
    ran = artflow("run", str(graph), "-o", str(tmp_path / "out"), "--json")
    assert ran.returncode == 0, ran.stderr
    with Image.open(tmp_path / "out" / "toned.png") as png:  # provenance names the shipped model
        assert manifest[0]["sha256"] in " ".join(str(v) for v in png.text.values())

    spec = tmp_path / "tones.toml"
    spec.write_text(textwrap.dedent("""
        title = "tones"
        name = "tone-{strength}"
        save = ["tone"]
        [matrix]
        "tone.strength" = [0.25, 1.0]
        [graph]
        artflow = 1
        seed = 1
        [graph.nodes.grad]
        type = "generate.gradient"
        params = {width = 40, height = 40, colors = ["#20ff80", "#ff2000"]}
        [graph.nodes.post]
        type = "tinted.posterize"
        inputs = {image = "grad"}
        [graph.nodes.tone]
        type = "tinted.tone"
        inputs = {image = "post"}
        """))
    rendered = artflow("render", str(spec), "-o", str(tmp_path / "gallery"))
    assert rendered.returncode == 0, rendered.stderr
    assert (tmp_path / "gallery" / "index.html").is_file()
    assert len(list((tmp_path / "gallery").rglob("tone-*.png"))) == 2

    # editable: an edit to the package shows without reinstalling
    nodes_py = plugin / "artflow_tinted" / "nodes.py"
    nodes_py.write_text(nodes_py.read_text().replace("a few evenly spaced levels", "a handful of levels"))
    described = artflow("nodes", "tinted.posterize")
    assert "a handful of levels" in described.stdout, described.stdout + described.stderr
    # and it was installed into the fresh venv only
    assert "tinted.posterize" not in artflow_cli("nodes").stdout


def test_every_scaffold_file_is_filled_in_and_the_python_compiles():
    for model in (False, True):
        files = plugin_files(plugin_names("my-glow"), model)
        assert "artflow_my_glow/ship.py" in files if model else "artflow_my_glow/ship.py" not in files
        for rel, text in files.items():
            assert "$" not in text.replace("${{", ""), rel
            if rel.endswith(".py"):
                compile(text, rel, "exec")
        assert 'my_glow = "artflow_my_glow"' in files["pyproject.toml"]
        assert len(files["artflow_my_glow/__init__.py"].splitlines()) <= 30


def test_plugin_new_refuses_a_bad_name_or_a_folder_in_use_and_writes_nothing(artflow_cli, tmp_path):
    bad = artflow_cli("plugin", "new", "9lives", "-o", str(tmp_path / "x"))
    assert bad.returncode == 2 and not (tmp_path / "x").exists()
    assert bad.stderr.strip().startswith("error: plugin name '9lives' is not a lower-case word")
    used = tmp_path / "used"
    used.mkdir()
    (used / "keep.txt").write_text("mine")
    refused = artflow_cli("plugin", "new", "glow", "-o", str(used))
    assert refused.returncode == 2 and "already exists and is not empty" in refused.stderr
    assert [p.name for p in used.iterdir()] == ["keep.txt"]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_plain_plugin_is_written_without_models(artflow_cli, tmp_path):
    made = artflow_cli("plugin", "new", "glow", "-o", str(tmp_path / "glow"))
    assert made.returncode == 0, made.stderr
    files = sorted(p.relative_to(tmp_path / "glow").as_posix() for p in (tmp_path / "glow").rglob("*")
                   if p.is_file())
    assert files == [".github/workflows/test.yml", ".gitignore", "README.md", "artflow_glow/__init__.py",
                     "artflow_glow/nodes.py", "pyproject.toml", "tests/test_plugin.py"]
