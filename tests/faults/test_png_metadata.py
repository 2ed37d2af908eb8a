"""A picture's metadata is untrusted text: `artflow graph x.png --svg` escapes lone surrogates and
control characters (exit 1 on the old main: UnicodeEncodeError), wrong types in its ``arrays`` or
``sketch_nodes`` are one line and exit 2 (exit 1 before), and a sketch's picture always opens."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from .inproc import run_cli
from .png_graphs import load_and_save, picture, record

ODD = ["lone \udcff surrogate", "bell \x07 nul-free \x1b[31m escape", "del \x7f and \x9b csi", "\ud800"]


@pytest.mark.parametrize("text", ODD)
def test_graph_svg_of_a_picture_with_odd_characters_escapes_them(tmp_path: Path, text: str) -> None:
    png = picture(tmp_path / "x.png", record(load_and_save(f"{text}.png")))
    result = run_cli("graph", str(png), "--svg", str(tmp_path / "g.svg"))
    if text == "\ud800":  # no file can have this name: refused in one line
        assert result.code == 2 and len(result.error_lines) == 1 and "\\ud800" in result.err
        return
    assert result.code == 0, result.err
    svg = (tmp_path / "g.svg").read_bytes().decode("utf-8")  # valid UTF-8, no surrogate
    assert not any(ch in svg for ch in "\x07\x1b\x7f\x9b")
    import xml.dom.minidom

    xml.dom.minidom.parseString(svg)  # well-formed XML
    printed = run_cli("graph", str(png))
    assert printed.code == 0 and "<svg" in printed.out


@pytest.mark.parametrize("extra", [
    {"arrays": [1, 2]}, {"arrays": {"abc": "x"}}, {"arrays": {"0" * 64: 5}}, {"arrays": {"0" * 64: "%%%"}},
    {"sketch_nodes": ["a"]}, {"sketch_nodes": {"my.x": 3}}, {"input_dir": 5}, {"arrays": "text"},
])
@pytest.mark.parametrize("verb", ["run", "graph"])
def test_wrong_types_in_a_pictures_metadata_are_one_line(tmp_path: Path, extra: dict, verb: str) -> None:
    png = picture(tmp_path / "x.png", record(load_and_save("a.png"), **extra))
    args = ["-o", str(tmp_path / "out")] if verb == "run" else ["--svg", str(tmp_path / "g.svg")]
    result = run_cli(verb, str(png), *args)
    assert result.code == 2 and len(result.error_lines) == 1, (result.code, result.err)
    assert not (tmp_path / "out").exists() and not (tmp_path / "g.svg").exists()


def test_a_sketch_picture_with_a_large_array_opens_and_names_the_file_it_needs(tmp_path: Path) -> None:
    import artflow as af
    from artflow.sketch import _STORE, constant, content_sha256, npy_bytes

    arr = np.random.default_rng(3).random((1, 230, 300, 3)).astype(np.float32)  # 828 KB as .npy
    g = af.Graph(seed=1)
    g.add("image.save", image=g.add("color.invert", image=constant(g, arr)), path="big.png")
    g.run(output_dir=tmp_path / "out", progress=False)
    with Image.open(tmp_path / "out" / "big.png") as im:  # the old main wrote an unopenable PNG
        im.load()
        carried = json.loads(im.text["artflow"])["arrays"]
    sha = content_sha256(arr)
    assert carried == {sha: None}
    _STORE.clear()
    result = run_cli("run", str(tmp_path / "out" / "big.png"), "-o", str(tmp_path / "again"))
    assert result.code == 2 and f"{sha}.npy" in result.err
    (tmp_path / "out" / f"{sha}.npy").write_bytes(npy_bytes(arr))  # beside the picture: found there
    assert run_cli("run", str(tmp_path / "out" / "big.png"), "-o", str(tmp_path / "again")).code == 0


def test_an_array_is_read_beside_the_picture_not_in_the_recorded_folder(tmp_path: Path) -> None:
    from artflow.sketch import _STORE, content_sha256, npy_bytes

    mine, theirs = np.zeros((1, 4, 4, 3), np.float32), np.ones((1, 4, 4, 3), np.float32)
    sha = content_sha256(mine)
    (tmp_path / "made").mkdir()
    (tmp_path / "made" / f"{sha}.npy").write_bytes(npy_bytes(theirs))  # wrong bytes where it was made
    (tmp_path / "share").mkdir()
    (tmp_path / "share" / f"{sha}.npy").write_bytes(npy_bytes(mine))
    nodes = {"a": {"type": "const.image", "params": {"sha256": sha}},
             "out": {"type": "image.save", "inputs": {"image": "a"}, "params": {"path": "a.png"}}}
    png = picture(tmp_path / "share" / "x.png", record(nodes, arrays={sha: None},
                                                        input_dir=str(tmp_path / "made")))
    _STORE.clear()
    result = run_cli("run", str(png), "-o", str(tmp_path / "out"), "--allow-path", str(tmp_path / "made"))
    assert result.code == 0, result.err
    with Image.open(tmp_path / "out" / "a.png") as im:
        assert np.asarray(im).max() == 0
