"""A full disk during `artflow run` and `artflow render`: exit 2 with one line naming the folder,
no partial file under a final name, and once space is freed the same command finishes the job
with files byte-identical to an undisturbed run. The disk is a 2 MB tmpfs (needs root, as CI has)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from ..gallery.conftest import tree_digest, write_spec
from .inproc import files_under, run_cli


class SmallDisk:
    """A tmpfs of a few MB mounted on a folder; ``grow`` frees space (remount, bigger)."""

    def __init__(self, path: Path):
        self.path = path

    def grow(self, size: str = "64m") -> None:
        subprocess.run(["mount", "-o", f"remount,size={size}", str(self.path)], check=True,
                       capture_output=True)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[SmallDisk]:
    if not sys.platform.startswith("linux") or shutil.which("mount") is None:
        pytest.skip("needs Linux mount(8) to make a small tmpfs")
    path = tmp_path / "disk"
    path.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(path)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (root in CI can): {proc.stderr.strip()}")
    try:
        yield SmallDisk(path)
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def _no_partial_files(root: Path) -> None:
    """Every file under a final name is whole (decodes to the end); no temp files are left."""
    for rel in sorted(files_under(root)):
        path = root / rel
        assert not path.name.endswith(".part") and ".tmp" not in path.name, rel
        if path.suffix in (".png", ".jpg"):
            with Image.open(path) as img:
                img.load()
        elif path.suffix == ".json":
            json.loads(path.read_text())


def _digests(root: Path) -> dict[str, bytes]:
    return {rel: (root / rel).read_bytes() for rel in sorted(files_under(root))}


def test_run_on_a_full_disk_exits_2_then_finishes_identically(small_disk: SmallDisk, tmp_path: Path) -> None:
    graph = tmp_path / "g.json"
    graph.write_text(json.dumps({"artflow": 1, "seed": 5, "nodes": {
        "n": {"type": "generate.noise", "params": {"width": 384, "height": 384, "count": 24,
                                                    "kind": "value", "color": "rgb", "scale": 2.0}},
        "s": {"type": "image.save", "inputs": {"image": "n"}, "params": {"path": "pics/p-{index}.png"}}}}))
    out = small_disk.path / "out"
    res = run_cli("run", str(graph), "-o", str(out))
    assert res.code == 2, res.err
    assert len(res.error_lines) == 1, res.err
    line = res.error_lines[0]
    assert "no space left" in line and str(out / "pics") in line and "needed for" in line
    assert "run the same command again" in line and "Traceback" not in res.err
    written = files_under(out)
    assert 0 < len(written) < 24
    _no_partial_files(out)

    small_disk.grow()
    res = run_cli("run", str(graph), "-o", str(out))
    assert res.code == 0, res.err
    resumed = _digests(out)
    assert len(resumed) == 24
    shutil.rmtree(out)
    res = run_cli("run", str(graph), "-o", str(out), "--no-cache")
    assert res.code == 0, res.err
    assert _digests(out) == resumed


FULL_SPEC = """
title = "disk"
name = "s{seed}"
[matrix]
seed = {from = 1, to = 40}
"""
NOISE_GRAPH = """
[graph]
artflow = 1
[graph.nodes.art]
type = "generate.noise"
params = {width = 320, height = 320, kind = "value", color = "rgb", scale = 2.0}
"""


@pytest.mark.parametrize("workers", ["0", "2"])
def test_render_on_a_full_disk_exits_2_then_resumes_identically(small_disk: SmallDisk, tmp_path: Path,
                                                                 workers: str, artflow_cli) -> None:
    spec = write_spec(tmp_path / "spec", FULL_SPEC, NOISE_GRAPH)
    ref = tmp_path / "ref"
    res = run_cli("render", str(spec), "-o", str(ref), "--workers", "0")
    assert res.code == 0, res.err
    out = small_disk.path / "gallery"
    if workers == "0":
        res = run_cli("render", str(spec), "-o", str(out), "--workers", "0")
        code, err = res.code, res.err
    else:  # the real command with a process pool: the pool is stopped, not left running
        proc = artflow_cli("render", str(spec), "-o", str(out), "--workers", workers)
        code, err = proc.returncode, proc.stderr
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code == 2, err
    assert len(lines) == 1 and lines[0].startswith("error: no space left"), err
    assert str(out) in lines[0] and "resumes" in lines[0]
    _no_partial_files(out)
    done_before = len(list((out / "images").glob("*.png"))) if (out / "images").is_dir() else 0
    assert done_before < 40

    small_disk.grow()
    res = run_cli("render", str(spec), "-o", str(out), "--workers", "0")
    assert res.code == 0, res.err
    summary = res.out.strip().splitlines()[-1]
    assert summary.startswith("40 items:") and "0 failed" in summary
    digest = tree_digest(out)
    assert digest == tree_digest(ref)
    assert sum(1 for k in digest if k.startswith("images/")) == 40
