"""`**` globs do not follow symlinked folders: a folder with a symlink loop lists each photo once
(the old main listed every photo ~41 times) and two loops do not spin (the old main ran at 100%
CPU with growing memory and no output)."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import numpy as np
from PIL import Image

from .inproc import chdir, files_under, run_cli


def _photos(root: Path, loops: int) -> Path:
    (root / "photos" / "a" / "b").mkdir(parents=True)
    for i, sub in enumerate(["", "a", "a/b"]):
        Image.fromarray(np.full((6, 6, 3), 40 * i, np.uint8)).save(root / "photos" / sub / f"p{i}.png")
    os.symlink(root / "photos", root / "photos" / "a" / "up")
    if loops > 1:
        os.symlink(root / "photos" / "a", root / "photos" / "a" / "b" / "again")
    return root / "photos"


def _alarm(seconds: int) -> None:
    def fail(*_: object) -> None:
        raise TimeoutError(f"a ** glob over symlink loops ran past {seconds} s")

    signal.signal(signal.SIGALRM, fail)
    signal.alarm(seconds)


def test_a_glob_over_a_symlink_loop_lists_each_photo_once(tmp_path: Path) -> None:
    photos = _photos(tmp_path, loops=1)
    (tmp_path / "g.json").write_text(json.dumps({"artflow": 1, "nodes": {
        "photo": {"type": "image.load", "params": {"path": "photos/**/*.png", "fit": "first"}},
        "out": {"type": "image.save", "inputs": {"image": "photo", "names": "photo.names"},
                "params": {"path": "{name}.png"}}}}))
    with chdir(tmp_path):
        result = run_cli("run", "g.json", "-o", "out")
    assert result.code == 0, result.err
    assert files_under(tmp_path / "out") == {"p0.png", "p1.png", "p2.png"}
    from artflow.paths import glob_files

    assert [p.name for p in glob_files(photos / "**")] == ["p2.png", "p1.png", "p0.png"]


def test_two_symlink_loops_do_not_spin(tmp_path: Path) -> None:
    _photos(tmp_path, loops=2)
    (tmp_path / "g.json").write_text(json.dumps({"artflow": 1, "nodes": {
        "photo": {"type": "image.load", "params": {"path": "photos/**/*.png", "fit": "first"}},
        "out": {"type": "image.save", "inputs": {"image": "photo"}, "params": {"path": "all.png"}}}}))
    _alarm(20)
    try:
        with chdir(tmp_path):
            result = run_cli("run", "g.json", "-o", "out")
    finally:
        signal.alarm(0)
    assert result.code == 0, result.err
    assert len(files_under(tmp_path / "out")) == 3


def test_a_symlinked_folder_the_pattern_names_is_still_read(tmp_path: Path) -> None:
    _photos(tmp_path, loops=1)
    os.symlink(tmp_path / "photos" / "a", tmp_path / "linked")  # a graph you chose may use links
    (tmp_path / "g.json").write_text(json.dumps({"artflow": 1, "nodes": {
        "photo": {"type": "image.load", "params": {"path": "linked/*.png"}},
        "out": {"type": "image.save", "inputs": {"image": "photo"}, "params": {"path": "one.png"}}}}))
    with chdir(tmp_path):
        result = run_cli("run", "g.json", "-o", "out")
    assert result.code == 0, result.err
    assert files_under(tmp_path / "out") == {"one.png"}
