"""A glob of images of mixed sizes runs the graph once per image, each at its own size (artflow.items)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

import artflow as af
from artflow.cache import Cache
from artflow.cli import cli
from artflow.engine import Engine
from artflow.imaging import read_png_text
from tests.fuzz.test_fuzz_cli import _bomb_png  # a 1x1 PNG whose header claims 100,000² pixels

SIZES = {"a": (40, 30), "b": (20, 50), "c": (40, 30)}


def _photos(folder: Path) -> dict[str, np.ndarray]:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    out = {}
    for name, (w, h) in SIZES.items():
        pixels = (rng.random((h, w, 3)) * 255).astype(np.uint8)
        Image.fromarray(pixels).save(folder / f"{name}.png")
        out[name] = pixels
    return out


def _graph(folder: Path) -> tuple[af.Graph, dict[str, af.graph.NodeRef]]:
    g = af.Graph()
    load = g.add("image.load", "load", path="in/*.png")
    inv = g.add("color.invert", "inv", image=load["image"])
    save = g.add("image.save", "save", image=inv, path="out.png")
    named = g.add("image.save", "named", image=inv, names=load["names"], path="{name}_inv.png")
    g.input_dir = folder
    return g, {"load": load, "inv": inv, "save": save, "named": named}


@pytest.fixture()
def engine(tmp_path: Path) -> Engine:
    return Engine(Cache(tmp_path / "cache"))


def test_each_image_runs_at_its_own_size_and_files_are_named_as_one_batch(tmp_path: Path, engine) -> None:
    pixels = _photos(tmp_path / "in")
    g, n = _graph(tmp_path)
    result = engine.run(g, output_dir=tmp_path / "out")
    assert len(result.items) == 3
    assert [Path(p).name for p in result[n["save"]]] == ["out_0000.png", "out_0001.png", "out_0002.png"]
    assert [Path(p).name for p in result[n["named"]]] == ["a_inv.png", "b_inv.png", "c_inv.png"]
    for name, path in zip("abc", result[n["named"]], strict=True):
        with Image.open(path) as im:
            assert im.size == SIZES[name]  # each at its own size, never resized
            assert np.array_equal(np.asarray(im.convert("RGB")), 255 - pixels[name])
    assert result.items[1][n["inv"]].shape == (1, 50, 20, 3)
    with pytest.raises(af.ArtflowError, match=r"differs in size between the 3 items.*result.items\[i\]"):
        result[n["inv"]]
    assert result.status["save"] == "ran" and result.seconds["inv"] > 0


def test_an_item_png_re_renders_that_image_alone(tmp_path: Path, engine) -> None:
    _photos(tmp_path / "in")
    g, n = _graph(tmp_path)
    result = engine.run(g, output_dir=tmp_path / "out")
    record = json.loads(read_png_text(Path(result[n["save"]][1]))["artflow"])
    assert record["graph"]["nodes"]["load"]["params"]["path"] == "in/b.png"


def test_editing_one_image_re_runs_only_its_item(tmp_path: Path, engine) -> None:
    _photos(tmp_path / "in")
    g, _ = _graph(tmp_path)
    engine.run(g, output_dir=tmp_path / "out")
    again = engine.run(g, output_dir=tmp_path / "out")
    assert all(r.ran == [] for r in again.items)
    target = tmp_path / "in" / "b.png"
    Image.fromarray(np.zeros((50, 20, 3), np.uint8)).save(target)
    st = target.stat()
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns + 10_000_000))
    third = engine.run(g, output_dir=tmp_path / "out")
    assert [len(r.ran) for r in third.items] == [0, 4, 0]


def test_same_sizes_stay_one_batch_and_fit_first_still_forces_one(tmp_path: Path, engine) -> None:
    _photos(tmp_path / "in")
    g, n = _graph(tmp_path)
    g.set("load", fit="first")
    result = engine.run(g, output_dir=tmp_path / "out")
    assert result.items == [] and result[n["inv"]].shape == (3, 30, 40, 3)
    os.remove(tmp_path / "in" / "b.png")
    g.set("load", fit="each")
    result = engine.run(g, output_dir=tmp_path / "out2")
    assert result.items == [] and result[n["inv"]].shape == (2, 30, 40, 3)


def test_an_animation_of_mixed_sizes_says_how_to_fix_it(tmp_path: Path, engine) -> None:
    _photos(tmp_path / "in")
    g, n = _graph(tmp_path)
    g.add("image.save_animation", "anim", image=n["inv"], path="anim.gif")
    with pytest.raises(af.NodeError, match="anim.*mixed sizes.*fit='first' on 'load'"):
        engine.run(g, output_dir=tmp_path / "out")


def test_a_failing_item_does_not_stop_the_others(tmp_path: Path, engine) -> None:
    _photos(tmp_path / "in")
    (tmp_path / "in" / "b.png").write_bytes(b"not a png")
    g, n = _graph(tmp_path)
    with pytest.raises(af.NodeError, match=r"item 1 \('b'\)"):
        engine.run(g, output_dir=tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == \
        ["a_inv.png", "c_inv.png", "out_0000.png", "out_0002.png"]


def test_two_sources_of_mixed_sizes_are_one_clear_error(tmp_path: Path, engine) -> None:
    _photos(tmp_path / "in")
    g, n = _graph(tmp_path)
    other = g.add("image.load", "other", path="in/*.png")
    g.add("image.save", "save_other", image=other["image"], path="o.png")
    with pytest.raises(af.ArtflowError, match="'load', 'other'.*fit='first'"):
        engine.run(g, output_dir=tmp_path / "out")


def test_cli_run_lists_every_item_file(tmp_path: Path) -> None:
    _photos(tmp_path / "in")
    g, _ = _graph(tmp_path)
    g.save(tmp_path / "g.json")
    res = CliRunner().invoke(cli, ["run", str(tmp_path / "g.json"), "-o", str(tmp_path / "out"), "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["items"] == 3 and data["nodes"]["inv"]["status"] == "ran"
    assert [Path(p).name for p in data["outputs"]["named"]["path"]] == ["a_inv.png", "b_inv.png", "c_inv.png"]
    res = CliRunner().invoke(cli, ["run", str(tmp_path / "g.json"), "-o", str(tmp_path / "out")])
    assert res.exit_code == 0 and "once per image for 3 images of mixed sizes" in res.output
    assert res.output.count("named: ") == 3


def test_a_decompression_bomb_among_mixed_sizes_fails_alone_with_one_line(tmp_path: Path, engine) -> None:
    _photos(tmp_path / "in")
    _bomb_png(tmp_path / "in" / "b.png")
    g, n = _graph(tmp_path)
    with pytest.raises(af.NodeError, match=r"item 1 \('b'\).*too large to decode safely"):
        engine.run(g, output_dir=tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == \
        ["a_inv.png", "c_inv.png", "out_0000.png", "out_0002.png"]
