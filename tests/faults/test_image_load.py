"""image.load: an animated file never silently loses frames; a folder is called a folder."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import artflow as af
from artflow.errors import NodeError

from .inproc import run_cli

COLORS = [(250, 20, 20), (20, 250, 20), (20, 20, 250), (240, 240, 30)]


def _gif(path: Path, n: int = 4, size: int = 12) -> Path:
    frames = [Image.new("RGB", (size, size), COLORS[i % len(COLORS)]) for i in range(n)]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=80, loop=0)
    return path


def _load(path: Path, **params: object) -> tuple[np.ndarray, list[str], list[str]]:
    g = af.Graph()
    g.add("image.load", "load", path=str(path), **params)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = g.run(use_cache=False).outputs("load")
    return out["image"], out["names"], [str(w.message) for w in caught]


def test_animated_gif_first_frame_by_default_with_a_warning(tmp_path: Path) -> None:
    image, names, said = _load(_gif(tmp_path / "anim.gif"))
    assert image.shape == (1, 12, 12, 3) and names == ["anim"]
    np.testing.assert_allclose(image[0, 0, 0], np.array(COLORS[0]) / 255, atol=0.02)
    notes = [s for s in said if "anim.gif" in s]
    assert len(notes) == 1 and "4 frames" in notes[0] and "frames='all'" in notes[0]
    assert "\n" not in notes[0]


def test_animated_gif_all_frames_as_a_batch(tmp_path: Path) -> None:
    image, names, said = _load(_gif(tmp_path / "anim.gif"), frames="all")
    assert image.shape == (4, 12, 12, 3)
    assert names == ["anim_000", "anim_001", "anim_002", "anim_003"]
    for i, color in enumerate(COLORS):
        np.testing.assert_allclose(image[i, 6, 6], np.array(color) / 255, atol=0.02)
    assert not [s for s in said if "anim.gif" in s]


def test_all_frames_of_a_still_image_and_a_glob_mix(tmp_path: Path) -> None:
    Image.new("RGB", (12, 12), (9, 9, 9)).save(tmp_path / "a_still.png")
    _gif(tmp_path / "b_anim.gif", n=3)
    image, names, _ = _load(tmp_path / "*.*", frames="all")
    assert image.shape[0] == 4 and names == ["a_still", "b_anim_000", "b_anim_001", "b_anim_002"]


def test_the_frames_param_is_checked(tmp_path: Path) -> None:
    g = af.Graph()
    g.add("image.load", "load", path=str(_gif(tmp_path / "anim.gif")), frames="some")
    with pytest.raises(af.ParamError, match="frames"):
        g.validate()


def test_too_many_frames_are_refused_before_decoding(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARTFLOW_MAX_PIXELS", str(12 * 12 * 3))
    with pytest.raises(NodeError, match="frames"):
        _load(_gif(tmp_path / "anim.gif", n=4), frames="all")


def test_a_folder_given_to_image_load_is_called_a_folder(tmp_path: Path) -> None:
    folder = tmp_path / "dir.png"
    folder.mkdir()
    graph = tmp_path / "g.json"
    graph.write_text(json.dumps({"artflow": 1, "seed": 0, "nodes": {
        "load": {"type": "image.load", "params": {"path": "dir.png"}}}}))
    res = run_cli("run", str(graph), "-o", str(tmp_path / "out"), "--no-cache")
    assert res.code == 2 and len(res.error_lines) == 1, res.err
    line = res.error_lines[0]
    assert "dir.png" in line and "is a folder" in line and "not found" not in line


def test_a_folder_given_as_the_graph_or_spec_is_called_a_folder(tmp_path: Path) -> None:
    (tmp_path / "g.json").mkdir()
    res = run_cli("run", str(tmp_path / "g.json"))
    assert res.code == 2 and "is a directory" in res.err and "not found" not in res.err  # click's check
    with pytest.raises(af.GraphError, match="is a folder"):
        af.Graph.load(tmp_path / "g.json")
    (tmp_path / "s.toml").mkdir()
    res = run_cli("render", str(tmp_path / "s.toml"), "--dry-run")
    assert res.code == 2 and "is a" in res.err and "not found" not in res.err
