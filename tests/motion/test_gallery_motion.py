"""Galleries of motion: a spec whose graph has frames (and a matrix axis of schedules) gives each
item a poster frame and an animated WebP thumbnail that plays on hover in headless Chromium."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from artflow.animation import frames_of
from artflow.gallery.renderer import render
from artflow.graph_files import load_graph
from tests.creative.chromium import CHROMIUM, Browser

FRAMES = 8
SPEC = """
title = "pulses"
name = "{grey.color}"
save = ["grey"]
[matrix]
"grey.color" = [{keyframes = {"0" = "black", "4" = "white"}, loop = "pingpong"},
                {keyframes = {"0" = "#000080", "4" = "orange"}, loop = "pingpong", ease = "in_out_sine"}]
[thumbnails]
size = 96
format = "jpeg"
[graph]
artflow = 1
seed = 1
frames = 8
fps = 4
[graph.nodes.grey]
type = "generate.solid"
params = {width = 160, height = 120}
"""


@pytest.fixture(scope="module")
def gallery(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("motion-gallery")
    (folder / "pulses.toml").write_text(SPEC)
    summary = render(folder / "pulses.toml", folder / "out", workers=1)
    assert summary.ok == 2
    return folder / "out"


def test_an_animated_item_gets_a_poster_frame_and_an_animated_thumbnail(gallery: Path,
                                                                       tmp_path: Path) -> None:
    records = [json.loads(line) for line in (gallery / "manifest.jsonl").read_text().splitlines()
               if line.strip().startswith("{") and '"images"' in line]
    images = [img for r in records for img in r["images"]]
    assert len(images) == 2 and all(img["anim"].endswith(".anim.webp") for img in images)
    first = images[0]
    frames = frames_of(gallery / first["anim"])
    assert len(frames) == FRAMES and max(frames[0].shape[:2]) == 96
    means = [f.mean() for f in frames]
    assert max(means) - min(means) > 100  # it pulses
    poster = load_graph(gallery / first["file"])  # the poster is frame 0 and re-renders as such
    assert poster.frame == 0 and poster.frames == FRAMES
    poster.run(output_dir=tmp_path)
    again = np.asarray(Image.open(next((tmp_path / "images").glob("*.png"))))
    assert np.array_equal(again, np.asarray(Image.open(gallery / first["file"])))


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
def test_animated_thumbnails_play_on_hover_in_chromium(gallery: Path, tmp_path: Path) -> None:
    browser = Browser((gallery / "index.html").as_uri(), tmp_path / "profile", width=900, height=700)
    try:
        browser.wait_for("document.querySelectorAll('.thumb img[data-anim]').length === 2")
        box = browser.eval("(() => { const r = document.querySelector('.thumb img[data-anim]')"
                           ".getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; })()")
        still = browser.eval("document.querySelector('.thumb img[data-anim]').src")
        x, y = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        browser.call("Input.dispatchMouseEvent", session=True, type="mouseMoved", x=x, y=y)
        browser.wait_for("document.querySelector('.thumb img[data-anim]').src.endsWith('.anim.webp') && "
                         "document.querySelector('.thumb img[data-anim]').complete")
        crop = tuple(int(round(v)) for v in box)
        greys = []
        for k in range(6):  # the hovered thumbnail changes by itself: the WebP plays
            shot = browser.screenshot(tmp_path / f"hover-{k}.png")
            with Image.open(shot) as im:
                greys.append(float(np.asarray(im.convert("L").crop(crop)).mean()))
            time.sleep(0.3)
        assert max(greys) - min(greys) > 60, greys
        browser.call("Input.dispatchMouseEvent", session=True, type="mouseMoved", x=5, y=5)
        browser.wait_for(f"document.querySelector('.thumb img[data-anim]').src === {json.dumps(still)}")
    finally:
        browser.close()


def test_a_spec_sets_frames_and_fps_for_every_item(tmp_path: Path) -> None:
    from artflow.gallery import load_spec
    from artflow.gallery.spec import SpecError

    body = SPEC.replace("frames = 8\nfps = 4\n", "")
    (tmp_path / "ok.toml").write_text("frames = 6\nfps = 12\n" + body)
    spec = load_spec(tmp_path / "ok.toml")
    assert (spec.graph.frames, spec.graph.fps) == (6, 12.0)
    (tmp_path / "bad.toml").write_text("frames = -2\n" + body)
    with pytest.raises(SpecError, match=r"graph 'frames' must be a whole number >= 1, got -2"):
        load_spec(tmp_path / "bad.toml")
