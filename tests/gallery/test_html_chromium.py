"""index.html in a real browser: headless Chromium from file://, the DOM after scripts ran, and a
screenshot that shows the grid with captions. CI installs Debian's `chromium`."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from artflow.gallery.renderer import render

from .conftest import write_spec

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed "
                                "(apt-get install chromium fonts-dejavu-core)")

SPEC = """
title = "<script>alert(1)</script> shapes"
description = "classifier-style labels & detections under each image"
name = "{palette}-{seed}"
save = ["shapes"]
[matrix]
"shapes.palette" = ["vivid", "pastel"]
seed = {from = 1, to = 3}
[captions]
template = "{palette} #{seed} <img src=x onerror=alert(2)>"
from = ["shapes"]
"""

GRAPH = """
[graph]
artflow = 1
[graph.nodes.shapes]
type = "generate.shapes"
params = {width = 160, height = 160, min_shapes = 2, max_shapes = 4}
"""


#: let the page's scripts, part loads and animation frames run before the DOM is dumped
DUMP = ("--virtual-time-budget=10000", "--dump-dom")


def _chromium(url: str, user_data: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--hide-scrollbars", f"--user-data-dir={user_data}", "--window-size=1280,900", *extra, url]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def gallery(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("chromium")
    summary = render(write_spec(folder, SPEC, GRAPH), folder / "out", workers=1)
    assert summary.ok == 6
    return folder / "out"


def test_the_page_shows_the_grid_and_captions_after_its_scripts_ran(gallery: Path, tmp_path: Path) -> None:
    proc = _chromium((gallery / "index.html").as_uri(), tmp_path / "profile", *DUMP)
    dom = proc.stdout
    assert "<main" in dom, proc.stderr[-2000:]
    assert 'data-ready="1"' in dom  # the page's script ran to the end, every part read
    assert "6 items, page 1 of 1" in dom  # ... and counted the items
    grid = dom.split('<main class="grid" id="grid">', 1)[1].split("</main>", 1)[0]
    assert len(re.findall(r'<figure class="card"', grid)) == 6
    assert "vivid-2.png" in dom and "pastel #3" in dom
    assert re.search(r"shapes: (circle|square|triangle|star|hexagon) ", dom)  # labels
    assert re.search(r"shapes: \d+ detections?: ", dom)  # boxes
    # what the spec wrote is text, not markup
    assert "&lt;script&gt;alert(1)&lt;/script&gt; shapes" in dom
    assert "&lt;img src=x onerror=alert(2)&gt;" in dom
    assert '<img src="x"' not in dom
    # the page's two scripts and the one part file it loaded, nothing else
    assert len(re.findall(r"<script", dom)) == 3 and 'src="index/part-00000.js"' in dom


def test_a_filter_in_the_link_hides_the_other_cards(gallery: Path, tmp_path: Path) -> None:
    url = (gallery / "index.html").as_uri() + "#shapes.palette=pastel"
    dom = _chromium(url, tmp_path / "profile", *DUMP).stdout
    assert "3 of 6 items, page 1 of 1" in dom
    grid = dom.split('<main class="grid" id="grid">', 1)[1].split("</main>", 1)[0]
    shown = re.findall(r'<figure class="card" data-item="(\d+)"', grid)
    assert sorted(shown) == ["3", "4", "5"]  # the pastel ones; the vivid ones are not drawn


def test_the_screenshot_shows_the_grid(gallery: Path, tmp_path: Path) -> None:
    shot = tmp_path / "shot.png"
    proc = _chromium((gallery / "index.html").as_uri(), tmp_path / "profile", f"--screenshot={shot}")
    assert shot.is_file(), proc.stderr[-2000:]
    keep = Path(gallery.parent / "screenshot.png")
    shutil.copy(shot, keep)  # kept next to the gallery for a person to look at
    with Image.open(shot) as im:
        assert im.size == (1280, 900)
        pixels = np.asarray(im.convert("RGB"), dtype=np.int16)
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 500  # images and text, not a blank page
    background = pixels[5, 640]
    row = pixels[250]  # through the first row of thumbnails
    assert (np.abs(row - background).sum(axis=1) > 60).mean() > 0.5
