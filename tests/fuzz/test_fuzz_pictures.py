"""Fuzzing the surfaces a picture from elsewhere reaches: `artflow run x.png` with random
provenance chunks (paths, globs, input_dir, arrays, sketch_nodes, surrogates) and video, frame
folder and .npy inputs, in this process with a fixed and a rotating seed.

Besides the harness's promises (exit 0 or 2, no traceback, nothing written outside -o, memory
bounded), every case is watched for reads: a Python audit hook records each file opened, each
folder listed and each subprocess argument (ffmpeg) while the case runs, symlinks resolved, and
not one may lie in ``private/`` (unless the case passed ``--allow-path private``); no output
picture may hold the private pictures' colour.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image, PngImagePlugin

from ..faults.inproc import run_cli
from .harness import check_case, fresh, profile
from .strategies import odd_text, one_in

MODES = ["fixed", "rotating"]
SCALE = float(os.environ.get("ARTFLOW_FUZZ_SCALE", "1"))
N_PICTURES = int(250 * SCALE)
N_MEDIA = int(60 * SCALE)
CANARY = (201, 13, 77)


class ReadWatch:
    """An audit hook (installed once per process) that notes reads under one folder while on."""

    def __init__(self) -> None:
        self.root = ""
        self.on = False
        self.hits: list[str] = []
        self._inside = False
        sys.addaudithook(self._hook)

    def _hook(self, event: str, args: tuple[Any, ...]) -> None:
        if not self.on or self._inside:
            return
        if event in ("open", "os.listdir", "os.scandir"):
            names = args[:1]
        elif event == "subprocess.Popen":
            names = list(args[1] or []) if isinstance(args[1], (list, tuple)) else [args[1]]
        else:
            return
        self._inside = True
        try:
            for name in names:
                if isinstance(name, (str, bytes)) and name:
                    real = os.path.realpath(os.fsdecode(name))
                    if real == self.root or real.startswith(self.root + os.sep):
                        self.hits.append(f"{event} {name!r}")
        except (ValueError, OSError):
            pass
        finally:
            self._inside = False


WATCH: ReadWatch | None = None  # installed by the first test that needs it (hooks cannot be removed)


def _npy(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=True)
    return buf.getvalue()


def _ffmpeg(*args: str) -> None:
    import imageio_ffmpeg

    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", *args], check=True)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """private/ (never to be read: canary pictures, frames, a clip, arrays, a model file) and
    share/ (where the picture lies: photos, frames, a clip, arrays, and links pointing out)."""
    global WATCH
    if WATCH is None:
        WATCH = ReadWatch()
    root = tmp_path_factory.mktemp("pictures")
    private, share = root / "private", root / "share"
    for d in (private / "deep", private / "frames", share / "sub", share / "frames"):
        d.mkdir(parents=True)
    for p in (private / "secret.png", private / "deep" / "more.png", private / "frames" / "f1.png",
              private / "frames" / "f2.png"):
        Image.new("RGB", (8, 8), CANARY).save(p)
    Image.new("RGB", (8, 8), (20, 120, 220)).save(share / "a.png")
    Image.new("RGB", (6, 10), (90, 90, 20)).save(share / "sub" / "b.png")
    for i in range(4):
        Image.new("RGB", (8, 8), (10 * i, 60, 90)).save(share / "frames" / f"f{i}.png")
    _ffmpeg("-f", "lavfi", "-i", "testsrc=size=16x16:rate=24", "-t", "0.5", "-pix_fmt", "yuv420p",
            str(share / "clip.mp4"))
    _ffmpeg("-f", "lavfi", "-i", "color=c=0xC90D4D:size=16x16:rate=24", "-t", "0.5", "-pix_fmt", "yuv420p",
            str(private / "clip.mp4"))
    (share / "text.mp4").write_text("not a video")
    (private / "model.onnx").write_bytes(b"\x08\x07private model bytes")
    secret_npy = _npy(np.full((1, 4, 4, 3), CANARY, np.uint8))
    (private / f"{hashlib.sha256(secret_npy).hexdigest()}.npy").write_bytes(secret_npy)
    for arr in (np.full((1, 4, 4, 3), 0.5, np.float32), np.full((1, 4, 4, 3), np.nan, np.float32),
                np.array([[[{"x": 1}]]], dtype=object)):
        data = _npy(arr)
        (share / f"{hashlib.sha256(data).hexdigest()}.npy").write_bytes(data)
    os.symlink(private / "secret.png", share / "link_out.png")
    os.symlink(private, share / "linkdir")
    os.symlink(share, share / "sub" / "loop")
    os.symlink(private / "frames" / "f1.png", share / "frames" / "f9.png")
    (root / "case").mkdir()
    media = root / "media"  # what a JSON graph reads: the same inputs, no link out, one loop
    shutil.copytree(share, media, symlinks=True)
    for link in ("link_out.png", "linkdir", "frames/f9.png"):
        (media / link).unlink()
    (media / "sub" / "loop").unlink()
    os.symlink(media, media / "sub" / "loop")
    return root


def _arrays(root: Path) -> dict[str, bytes]:
    """Every .npy the world holds, by sha256 (the private one included)."""
    out = {}
    for p in list((root / "share").glob("*.npy")) + list((root / "private").glob("*.npy")):
        out[p.stem] = p.read_bytes()
    return out


def _paths(root: Path) -> list[str]:
    private = root / "private"
    return ["a.png", "sub/b.png", "*.png", "**/*.png", "sub/**", "frames", "clip.mp4", "text.mp4",
            "link_out.png", "linkdir/*.png", "linkdir/secret.png", "sub/loop/**/*.png",
            "../private/secret.png", str(private / "secret.png"), str(private / "**" / "*.png"),
            "~/../../" + str(private)[1:] + "/*.png",
            "*/../../private/secret.png", "frames/../../private/frames", str(private / "frames"),
            str(private / "clip.mp4"), "../private/clip.mp4", "sub/loop/../../private/secret.png",
            "linkdir", "[a-z]*/../*.png", "\udcff.png", "a\x00b.png"]


@st.composite
def picture_record(draw: st.DrawFn, root: Path) -> tuple[Any, bool]:
    """A provenance record (or broken text) and whether the case may read private/."""
    paths = _paths(root)
    path = draw(st.one_of(st.sampled_from(paths), odd_text()))
    loader = draw(st.sampled_from(["image.load", "image.load", "video.load", "const.image"]))
    arrays = _arrays(root)
    if loader == "const.image":
        params: dict[str, Any] = {"sha256": draw(st.one_of(st.sampled_from(sorted(arrays)), odd_text()))}
    elif loader == "video.load":
        params = {"path": path, "stride": draw(st.sampled_from([1, 2, 0, "x"])),
                  "stop": draw(st.sampled_from([0, 3, 10**12]))}
    else:
        params = {"path": path, "fit": draw(st.sampled_from(["each", "first", "error", 3]))}
    save = ("image.save_animation", "o.mp4") if loader == "video.load" and draw(st.booleans()) else \
        ("image.save", draw(st.sampled_from(["o.png", "{name}.png", "../o.png"])))
    nodes: dict[str, Any] = {
        "src": {"type": loader, "params": params},
        "out": {"type": save[0], "inputs": {"image": "src"}, "params": {"path": save[1]}}}
    if draw(one_in(5)):
        model = draw(st.sampled_from(["shapes", str(root / "private" / "model.onnx"), "../private/model.onnx",
                                      "linkdir/../private/model.onnx", "nope.onnx", "\udcff/x.onnx"]))
        nodes["guess"] = {"type": "classify.image", "inputs": {"image": "src"}, "params": {"model": model}}
    record: dict[str, Any] = {"graph": {"artflow": 1, "seed": draw(st.integers(0, 3)), "nodes": nodes}}
    where = draw(st.sampled_from(["share", "private", "missing", "odd", "wrong type", "share"]))
    record["input_dir"] = {"share": str(root / "share"), "private": str(root / "private"),
                           "odd": draw(odd_text()), "wrong type": draw(st.sampled_from([5, [], {}, None]))
                           }.get(where, None)
    if where == "missing":
        del record["input_dir"]
    if draw(one_in(3)):
        shas = sorted(arrays)
        record["arrays"] = draw(st.one_of(
            st.dictionaries(st.one_of(st.sampled_from(shas), odd_text()),
                            st.one_of(st.none(), st.sampled_from([base64.b64encode(v).decode()
                                                                  for v in arrays.values()]), odd_text()),
                            max_size=3),
            st.sampled_from([[], "x", 5, None])))
    if draw(one_in(5)):
        record["sketch_nodes"] = draw(st.one_of(st.dictionaries(odd_text(), odd_text(), max_size=2),
                                                st.sampled_from([[], "x", 5])))
    allow = draw(one_in(12))
    if draw(one_in(15)):
        return draw(st.sampled_from(["{", "[]", '{"graph": 5}', '"\\udcff"', json.dumps(record)[:40]])), allow
    return record, allow


def _write_picture(path: Path, record: Any) -> None:
    info = PngImagePlugin.PngInfo()
    text = record if isinstance(record, str) else json.dumps(record)
    info.add_itxt("artflow", text, zip=True)
    Image.new("RGB", (2, 2)).save(path, pnginfo=info)


def _no_canary(out: Path) -> None:
    for p in out.rglob("*.png") if out.exists() else []:
        with Image.open(p) as im:
            pixels = np.asarray(im.convert("RGB")).reshape(-1, 3)
        assert not (pixels == CANARY).all(axis=1).any(), f"{p.name} holds a private picture's pixels"


def _listing(folder: Path) -> list[tuple[str, int, int]]:
    return sorted((str(p), p.lstat().st_size, p.lstat().st_mtime_ns) for p in folder.rglob("*"))


def _watched(kind: str, root: Path, args: list[str], source: str, allow: bool) -> None:
    out = fresh(root / "case" / "out")
    private = _listing(root / "private")
    assert WATCH is not None
    WATCH.root, WATCH.hits, WATCH.on = str((root / "private").resolve()), [], True
    try:
        check_case(kind, root / "case", out, args, [root / "share"], source)
    finally:
        WATCH.on = False
    assert _listing(root / "private") == private, f"wrote into private/: artflow {' '.join(args)}"
    if not allow:
        assert not WATCH.hits, f"read private/: {WATCH.hits[:4]}\nartflow {' '.join(args)}\n{source[:2000]}"
        _no_canary(out)


@pytest.mark.parametrize("mode", MODES)
def test_fuzz_pictures_from_elsewhere(world: Path, mode: str) -> None:
    @profile(mode, N_PICTURES, "picture")
    @given(drawn=picture_record(world), verb=st.sampled_from(["run", "run", "run", "graph"]))
    def case(drawn: tuple[Any, bool], verb: str) -> None:
        record, allow = drawn
        png = world / "share" / "x.png"
        _write_picture(png, record)
        out = world / "case" / "out"
        args = ["run", str(png), "-o", str(out), "--no-cache"] if verb == "run" else \
            ["graph", str(png), "--svg", str(out / "g.svg")]
        if allow:
            args += ["--allow-path", str(world / "private")]
        try:
            _watched(f"picture {verb}", world, args, record if isinstance(record, str) else
                     json.dumps(record), allow)
        finally:
            png.unlink()

    case()


@st.composite
def media_graph(draw: st.DrawFn, root: Path) -> dict[str, Any]:
    """A JSON graph (code the person chose) reading video, frame folders or .npy arrays."""
    share = root / "media"
    kind = draw(st.sampled_from(["video.load", "video.load", "const.image", "image.load"]))
    if kind == "const.image":
        shas = sorted(p.stem for p in share.glob("*.npy"))
        params: dict[str, Any] = {"sha256": draw(st.sampled_from(shas))}
    elif kind == "video.load":
        sources = ["clip.mp4", "frames", "text.mp4", "sub", "a.png", "none.mp4"]
        params = {"path": draw(st.sampled_from(sources)), "start": draw(st.sampled_from([0, 1, 7, 10**9])),
                  "stop": draw(st.sampled_from([0, 2, 5])), "stride": draw(st.sampled_from([1, 2, 3]))}
    else:
        params = {"path": draw(st.sampled_from(["**/*.png", "sub/loop/**/*.png", "frames/*.png", "*.npy"])),
                  "fit": draw(st.sampled_from(["each", "first"]))}
    writer = draw(st.sampled_from([("image.save", "{name}.png"), ("image.save_animation", "o.mp4"),
                                   ("image.save_animation", "o.gif")]))
    return {"artflow": 1, "seed": 1, "nodes": {
        "src": {"type": kind, "params": params},
        "fx": {"type": "color.invert", "inputs": {"image": "src"}},
        "out": {"type": writer[0], "inputs": {"image": "fx"} if writer[0] != "image.save" else
                {"image": "fx", "names": "src.names"} if kind != "const.image" else {"image": "fx"},
                "params": {"path": writer[1]}}}}


@pytest.mark.parametrize("mode", MODES)
def test_fuzz_video_frames_and_arrays(world: Path, mode: str) -> None:
    @profile(mode, N_MEDIA, "media")
    @given(graph=media_graph(world), pixels=st.sampled_from([None, None, None, "100"]))
    def case(graph: dict[str, Any], pixels: str | None) -> None:
        path = world / "media" / "g.json"
        path.write_text(json.dumps(graph))
        old = os.environ.get("ARTFLOW_MAX_PIXELS")
        if pixels:
            os.environ["ARTFLOW_MAX_PIXELS"] = pixels
        try:
            _watched("media run", world, ["run", str(path), "-o", str(world / "case" / "out"), "--no-cache"],
                     json.dumps(graph), allow=False)
        finally:
            path.unlink()
            if pixels:
                if old is None:
                    os.environ.pop("ARTFLOW_MAX_PIXELS", None)
                else:
                    os.environ["ARTFLOW_MAX_PIXELS"] = old

    case()


def test_the_read_watch_sees_a_read_of_the_private_folder(world: Path) -> None:
    """The watch is not assumed: a graph you chose (JSON) may read private/, and the hook sees it,
    through a symlink and through ffmpeg too."""
    assert WATCH is not None
    graph = {"artflow": 1, "nodes": {
        "a": {"type": "image.load", "params": {"path": str(world / "share" / "link_out.png")}},
        "v": {"type": "video.load", "params": {"path": str(world / "private" / "clip.mp4"), "stop": 1}},
        "s": {"type": "image.save", "inputs": {"image": "a"}, "params": {"path": "a.png"}},
        "t": {"type": "image.save_animation", "inputs": {"image": "v"}, "params": {"path": "v.mp4"}}}}
    path = world / "case" / "g.json"
    path.write_text(json.dumps(graph))
    WATCH.root, WATCH.hits, WATCH.on = str((world / "private").resolve()), [], True
    try:
        result = run_cli("run", str(path), "-o", str(fresh(world / "case" / "out")), "--no-cache")
    finally:
        WATCH.on = False
        path.unlink()
    assert result.code == 0, result.err
    assert any(h.startswith("open") and "link_out" in h for h in WATCH.hits), WATCH.hits
    assert any(h.startswith("subprocess.Popen") for h in WATCH.hits), WATCH.hits
    with pytest.raises(AssertionError, match="private"):
        _no_canary(world / "case" / "out")
