"""Fuzzing `artflow run` (graph loader, validator, engine) and `artflow render` (spec loader,
dry runs and real renders of tiny specs) in this process, with a fixed and a rotating seed.

Every case must exit 0 or 2 with no traceback, write nothing outside its -o folder, and stay
within the memory budget (see harness.py). The counts are sized for about two minutes on two
cores; the session prints how many cases ran.
"""

from __future__ import annotations

import importlib.util
import json
import os
import struct
import zlib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image, PngImagePlugin

from .harness import check_case, fresh, profile
from .strategies import TINY_GRAPH, graph_text, one_in, set_option, spec_source

MODES = ["fixed", "rotating"]
#: examples per profile (x2 profiles); ARTFLOW_FUZZ_SCALE multiplies them for a longer hunt
SCALE = float(os.environ.get("ARTFLOW_FUZZ_SCALE", "1"))
N_RUN = int(520 * SCALE)
N_SPEC = int(440 * SCALE)
N_RENDER = int(60 * SCALE)


def _huge_sizes_allowed() -> bool:
    """In-range huge sizes (8192x8192, count 1024) only once plans are checked against the memory
    budget before anything is allocated."""
    return importlib.util.find_spec("artflow.budget") is not None and \
        os.environ.get("ARTFLOW_FUZZ_HUGE", "auto") != "0"


def _bomb_png(path: Path, side: int = 100_000) -> None:
    """A valid 1x1 PNG whose header claims side x side pixels."""
    import io

    buf = io.BytesIO()
    Image.new("RGB", (1, 1)).save(buf, "PNG")
    data = bytearray(buf.getvalue())
    ihdr = data.index(b"IHDR")
    data[ihdr + 4:ihdr + 12] = struct.pack(">II", side, side)
    crc = zlib.crc32(bytes(data[ihdr:ihdr + 17])) & 0xFFFFFFFF
    data[ihdr + 17:ihdr + 21] = struct.pack(">I", crc)
    path.write_bytes(bytes(data))


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """base/inputs: images the graphs read (valid, animated, corrupt, a folder, a bomb)."""
    root = tmp_path_factory.mktemp("fuzz")
    inputs = root / "inputs"
    (inputs / "sub").mkdir(parents=True)
    Image.new("RGB", (8, 8), (200, 30, 30)).save(inputs / "a.png")
    Image.new("RGBA", (8, 8), (30, 200, 30, 128)).save(inputs / "b.png")
    Image.new("RGB", (8, 8), (30, 30, 200)).save(inputs / "sub" / "d.png")
    Image.new("RGB", (12, 10), (90, 90, 90)).save(inputs / "c.jpg")
    frames = [Image.new("RGB", (8, 8), c) for c in [(255, 0, 0), (0, 255, 0), (0, 0, 255)]]
    frames[0].save(inputs / "anim.gif", save_all=True, append_images=frames[1:], duration=50)
    (inputs / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(64))
    (inputs / "text.png").write_text("not an image")
    (inputs / "dir.png").mkdir()
    _bomb_png(inputs / "bomb.png")
    return root


def _case(base: Path) -> tuple[Path, Path]:
    work = fresh(base / "case")
    (work / "g.json").write_text(json.dumps(TINY_GRAPH))
    return work, work / "out"


@pytest.mark.parametrize("mode", MODES)
def test_fuzz_run_graphs(base: Path, mode: str) -> None:
    huge = _huge_sizes_allowed()

    @profile(mode, N_RUN, "run")
    @given(text=graph_text(huge=huge), no_cache=st.booleans(), as_png=one_in(6),
           with_sets=one_in(8), sets=st.lists(set_option(), min_size=1, max_size=2))
    def case(text: str, no_cache: bool, as_png: bool, with_sets: bool, sets: list[str]) -> None:
        work, out = _case(base)
        if as_png:  # the graph a picture carries (`artflow run picture.png`)
            graph = work / "picture.png"
            info = PngImagePlugin.PngInfo()
            record = text if text.startswith("{") and '"graph"' in text else f'{{"graph": {text}}}'
            info.add_itxt("artflow", record, zip=True)
            Image.new("RGB", (2, 2)).save(graph, pnginfo=info)
        else:
            graph = work / "fuzz.json"
            graph.write_text(text)
        args = ["run", str(graph), "-o", str(out)] + (["--no-cache"] if no_cache else [])
        for item in sets if with_sets else []:
            args += ["--set", item]
        check_case("run", work, out, args, [base], text)

    case()


@pytest.mark.parametrize("mode", MODES)
def test_fuzz_render_specs_dry_run(base: Path, mode: str) -> None:
    huge = _huge_sizes_allowed()

    @profile(mode, N_SPEC, "render --dry-run")
    @given(text=spec_source(huge=huge))
    def case(text: str) -> None:
        work, out = _case(base)
        spec = work / "spec.toml"
        spec.write_text(text, encoding="utf-8", errors="surrogateescape")
        res = check_case("render --dry-run", work, out, ["render", str(spec), "-o", str(out), "--dry-run"],
                         [base], text)
        assert not out.exists() or not any(out.iterdir()), "a dry run wrote files"
        if res.code == 0:
            assert "dry run, nothing written" in res.out

    case()


@pytest.mark.parametrize("mode", MODES)
def test_fuzz_render_tiny_specs(base: Path, mode: str) -> None:
    @profile(mode, N_RENDER, "render")
    @given(text=spec_source(renderable=True))
    def case(text: str) -> None:
        work, out = _case(base)
        spec = work / "spec.toml"
        spec.write_text(text, encoding="utf-8", errors="surrogateescape")
        res = check_case("render", work, out, ["render", str(spec), "-o", str(out), "--workers", "0"],
                         [base], text)
        if res.code == 0:
            lines = (out / "manifest.jsonl").read_text().splitlines()[1:]  # a header, then records
            for item in map(json.loads, lines):
                assert item["status"] == "ok"
                for rel in item["files"]:
                    target = (out / rel).resolve()
                    assert out.resolve() in target.parents and target.is_file()

    case()
