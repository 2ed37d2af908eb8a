"""Wired by artflow.cli lazily (LAZY_COMMANDS: "plugin" → ``plugin``).

`artflow plugin new NAME [--model] [-o DIR]`: write a working plugin package, ``artflow-NAME``,
that installs (``artflow install -e DIR``), registers through the ``artflow`` entry point and
passes its own tests, with a README and a CI workflow. ``--model`` adds a model node and makes its
tiny ONNX model with the package's own trainer, artflow's exporter and artflow.shipping (needs
the ``train`` extra). The folder appears complete or not at all.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path
from string import Template

import click

from ..errors import ArtflowError
from . import plugin_templates as t

NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def plugin_names(name: str) -> dict[str, str]:
    """The names a plugin called ``name`` uses: its node prefix, package, distribution, model kind."""
    name = name.strip().lower().replace("-", "_")
    if name.startswith("artflow_"):
        name = name[len("artflow_"):]
    if not NAME.match(name):
        raise ArtflowError(f"plugin name '{name}' is not a lower-case word (letters, digits, _ or -, "
                           "starting with a letter); try e.g. `artflow plugin new halftone`")
    return {"name": name, "pkg": f"artflow_{name}", "dist": f"artflow-{name.replace('_', '-')}",
            "kind": f"{name}_tone", "artflow": _artflow_version()}


def _artflow_version() -> str:
    try:
        return metadata.version("artflow")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "0.1"


def plugin_files(names: dict[str, str], model: bool) -> dict[str, str]:
    """Every file of the package (relative path → text), the models not included."""
    pkg = names["pkg"]
    files = {
        "pyproject.toml": t.PYPROJECT,
        "README.md": t.README,
        ".gitignore": t.GITIGNORE,
        ".github/workflows/test.yml": t.WORKFLOW,
        f"{pkg}/__init__.py": t.INIT_MODEL if model else t.INIT,
        f"{pkg}/nodes.py": t.NODES_MODEL if model else t.NODES,
        "tests/test_plugin.py": t.TESTS_MODEL if model else t.TESTS,
    }
    if model:
        files[f"{pkg}/train.py"] = t.TRAIN
        files[f"{pkg}/ship.py"] = t.SHIP
    fill = dict(names, model_row=t.README_MODEL_ROW if model else "",
                model_section=t.README_MODEL_SECTION if model else "")
    fill = {k: Template(v).substitute(names) for k, v in fill.items()}
    return {path: Template(text).substitute(fill) for path, text in files.items()}


def write_plugin(name: str, out: Path, *, model: bool = False) -> Path:
    """Write the package into ``out`` (which must not exist or be empty), atomically."""
    names = plugin_names(name)
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ArtflowError(f"'{out}' already exists and is not empty; choose another folder with -o")
    if model:
        from ..train.trainer import require_train_extra

        require_train_extra()
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        for rel, text in plugin_files(names, model).items():
            path = staging / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        if model:
            _make_model(staging, names["pkg"])
        if out.exists():
            out.rmdir()
        os.replace(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out


def _make_model(root: Path, pkg: str) -> None:
    """Run the new package's own `ship.py --train` (its trainer, artflow's exporter, shipping)."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]),
               TF_CPP_MIN_LOG_LEVEL="2")
    proc = subprocess.run([sys.executable, "-m", f"{pkg}.ship", "--train"], cwd=root, env=env,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
        raise ArtflowError(f"training the scaffold's model failed: {lines[-1] if lines else proc.returncode}")
    click.echo(proc.stdout.strip().splitlines()[-1], err=True)


@click.group("plugin", context_settings={"help_option_names": ["-h", "--help"]})
def plugin() -> None:
    """Make artflow plugins: `artflow plugin new NAME` writes a package that works."""


@plugin.command("new")
@click.argument("name")
@click.option("--model", is_flag=True,
              help="Add a model node and ship its tiny ONNX model, trained and exported by the "
                   "package's own code (needs the train extra; about half a minute).")
@click.option("-o", "--out", type=click.Path(file_okay=False, path_type=Path),
              help="Folder to write (default: ./artflow-NAME).")
def new(name: str, model: bool, out: Path | None) -> None:
    """Write a plugin package `artflow-NAME`: a node, its tests, a README and a CI workflow.

    Then: `artflow install -e artflow-NAME` (editable), `cd artflow-NAME && pytest`.
    """
    names = plugin_names(name)
    folder = write_plugin(name, out or Path(names["dist"]), model=model)
    nodes = f"{names['name']}.posterize" + (f", {names['name']}.tone (model 'sepia')" if model else "")
    click.echo(f"wrote plugin {names['dist']} in {folder}: {nodes}")
    click.echo(f"next: artflow install -e {folder} && (cd {folder} && python -m pytest -q)")
