"""A PNG is data, not a program: the graph a picture carries reads only beside the picture (and in
folders the person allows), refused in one line naming the node and the path, before anything
runs. Each case was a leak on the old main (the private image was copied into the output)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .inproc import chdir, files_under, run_cli
from .png_graphs import canary, load_and_save, picture, record


@pytest.fixture()
def place(tmp_path: Path) -> Path:
    """tmp/private/secret.png (never to be read), tmp/share/ (where the picture lands), tmp/out/."""
    canary(tmp_path / "private" / "secret.png")
    canary(tmp_path / "private" / "deep" / "more.png")
    (tmp_path / "share" / "sub").mkdir(parents=True)
    return tmp_path


def _refused(place: Path, rec: dict, *extra: str, word: str = "") -> str:
    png = picture(place / "share" / "x.png", rec)
    with chdir(place):
        result = run_cli("run", str(png), "-o", str(place / "out"), *extra)
    assert result.code == 2, (result.code, result.err)
    assert len(result.error_lines) == 1 and "Traceback" not in result.err
    assert not (place / "out").exists() or files_under(place / "out") == set()
    assert word in result.err
    return result.err


CASES = {
    "input_dir elsewhere": lambda p: record(load_and_save("secret.png"), input_dir=str(p / "private")),
    "absolute path": lambda p: record(load_and_save(str(p / "private" / "secret.png"))),
    "dot-dot": lambda p: record(load_and_save("../private/secret.png")),
    "tilde": lambda p: record(load_and_save("~/../../" + str(p / "private/secret.png").lstrip("/"))),
    "glob escaping": lambda p: record(load_and_save("../private/*.png")),
    "glob then dot-dot": lambda p: record(load_and_save("*/../../private/secret.png")),
    "recursive glob above": lambda p: record(load_and_save(str(p / "**" / "*.png"))),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_pictures_graph_cannot_read_outside_its_folder(place: Path, case: str) -> None:
    err = _refused(place, CASES[case](place))
    assert "node 'photo'" in err and "--allow-path" in err


def test_a_symlink_beside_the_picture_pointing_out_is_refused(place: Path) -> None:
    os.symlink(place / "private" / "secret.png", place / "share" / "cat.png")
    assert "node 'photo'" in _refused(place, record(load_and_save("cat.png")))
    os.symlink(place / "private", place / "share" / "photos")
    _refused(place, record(load_and_save("photos/*.png")))
    _refused(place, record(load_and_save("*.png")), word="cat.png")  # a match that points out


def test_a_frame_folder_with_frames_linked_out_is_refused(place: Path) -> None:
    (place / "share" / "frames").mkdir()
    canary(place / "share" / "frames" / "f1.png", 10)
    os.symlink(place / "private" / "secret.png", place / "share" / "frames" / "f2.png")
    nodes = {"clip": {"type": "video.load", "params": {"path": "frames"}},
             "out": {"type": "image.save", "inputs": {"image": "clip"}, "params": {"path": "f.png"}}}
    _refused(place, record(nodes), word="node 'clip'")


def test_a_model_file_outside_the_picture_folder_is_refused(place: Path) -> None:
    nodes = {"photo": {"type": "image.load", "params": {"path": "a.png"}},
             "guess": {"type": "classify.image", "inputs": {"image": "photo"},
                       "params": {"model": str(place / "private" / "model.onnx")}}}
    canary(place / "share" / "a.png")
    (place / "private" / "model.onnx").write_bytes(b"not really")
    _refused(place, record(nodes), word="node 'guess'")


def test_allow_path_and_the_setting_let_the_person_choose(place: Path, monkeypatch) -> None:
    rec = record(load_and_save("secret.png"), input_dir=str(place / "private"))
    png = picture(place / "share" / "x.png", rec)
    with chdir(place):
        allowed = run_cli("run", str(png), "-o", str(place / "out"), "--allow-path", str(place / "private"))
        assert allowed.code == 0, allowed.err
        assert (place / "out" / "leak.png").is_file()
        monkeypatch.setenv("ARTFLOW_ALLOW_PATHS", str(place / "private"))
        assert run_cli("run", str(png), "-o", str(place / "again")).code == 0


def test_set_cannot_point_a_pictures_graph_outside(place: Path) -> None:
    canary(place / "share" / "mine.png", 30)
    png = picture(place / "share" / "x.png", record(load_and_save("mine.png")))
    with chdir(place):
        assert run_cli("run", str(png), "-o", str(place / "ok")).code == 0
        result = run_cli("run", str(png), "-o", str(place / "out"), "--set",
                         "photo.path=../private/secret.png")
    assert result.code == 2 and "node 'photo'" in result.err and not (place / "out").exists()


def test_a_pictures_own_folder_still_renders(place: Path) -> None:
    canary(place / "share" / "photos" / "a.png", 40)
    canary(place / "share" / "photos" / "sub" / "b.png", 50)
    png = picture(place / "share" / "x.png", record(load_and_save("photos/**/*.png", fit="first"),
                                                     input_dir="/nowhere/that/exists"))
    with chdir(place):
        result = run_cli("run", str(png), "-o", str(place / "out"))
    assert result.code == 0, result.err
    assert files_under(place / "out") == {"leak_0000.png", "leak_0001.png"}
