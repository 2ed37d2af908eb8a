"""The index page of a 100,000-item gallery in headless Chromium from file://: the first page
of cards paints within 2 s, a search finds an item in the last part, filters (a drop-down and a
number range) work across pages, and a deep link survives a reload. Records are synthetic and
share six pictures; the page is written from them the way a render writes it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from artflow.gallery.html import write_index
from artflow.gallery.manifest import FORMAT, MANIFEST

from .cdp import Chromium
from .test_html_chromium import CHROMIUM

pytestmark = [pytest.mark.slow, pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed "
                                                   "(apt-get install chromium)")]

PALETTES = ["vivid", "pastel", "ink", "neon"]
CELLS = list(range(8, 33))  # 25 values
SEEDS = list(range(1, 1001))
TOTAL = len(PALETTES) * len(CELLS) * len(SEEDS)
RARE = 99_990  # the one item whose caption says "zebra" (in the last part)


def _pictures(out: Path) -> None:
    (out / "images").mkdir(parents=True)
    (out / "thumbs").mkdir()
    yy, xx = np.mgrid[0:128, 0:128] / 127.0
    for k in range(6):
        hue = np.stack([xx, yy, (xx + yy + k / 6) % 1.0], axis=-1) * [1.0, 0.6 + 0.08 * k, 0.9]
        img = Image.fromarray((np.clip(hue, 0, 1) * 255).astype(np.uint8))
        img.save(out / f"images/s{k}.png")
        img.save(out / f"thumbs/s{k}.jpg", quality=85)


def _gallery(out: Path) -> None:
    _pictures(out)
    header = {"artflow_gallery": FORMAT, "title": "A hundred thousand gradients",
              "description": "synthetic records, six shared pictures", "spec": "big.toml",
              "axes": [{"key": "art.palette", "values": PALETTES, "numeric": False},
                       {"key": "art.cells", "values": [str(c) for c in CELLS], "numeric": True},
                       {"key": "seed", "values": [str(s) for s in SEEDS], "numeric": True}],
              "save": ["art"], "thumb_format": "jpeg"}
    with open(out / MANIFEST, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(header) + "\n")
        i = 0
        for palette in PALETTES:
            for cells in CELLS:
                for seed in SEEDS:
                    k = i % 6
                    caption = f"{palette} cells {cells} seed {seed}" + (" zebra" if i == RARE else "")
                    fh.write(json.dumps({
                        "index": i, "key": f"{i:064x}", "name": f"{palette}-{cells}-{seed}",
                        "params": {"art.palette": palette, "art.cells": str(cells), "seed": str(seed)},
                        "seed": seed, "caption": caption, "status": "ok", "error": None,
                        "images": [{"file": f"images/s{k}.png", "thumb": f"thumbs/s{k}.jpg", "node": "art",
                                    "output": "image", "width": 128, "height": 128}],
                        "files": [f"images/s{k}.png", f"thumbs/s{k}.jpg"], "models": {}, "provider": None,
                        "seconds": 0.01}, separators=(",", ":")) + "\n")
                    i += 1
    write_index(out, compacted=True)  # one record per item, in order: as a render leaves it


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("big") / "gallery"
    _gallery(out)
    browser = Chromium(CHROMIUM, out.parent / "profile")
    try:
        yield out, browser
    finally:
        browser.close()


CARDS = "document.querySelectorAll('#grid figure.card').length"
COUNT = "document.getElementById('count').textContent"


def test_an_index_of_100000_items_paints_its_first_page_within_2_s(page) -> None:
    out, browser = page
    assert len(list((out / "index").glob("part-*.js"))) == 100
    assert (out / "index.html").stat().st_size < 60_000  # the page itself stays small
    browser.navigate((out / "index.html").as_uri())
    first_paint = browser.wait_for("+document.body.getAttribute('data-first-paint-ms')", timeout=30)
    assert first_paint <= 2000, f"first page of cards painted after {first_paint} ms"
    assert browser.js(CARDS) == 60
    assert browser.js(COUNT).startswith(f"{TOTAL} items, page 1 of {TOTAL // 60 + 1}")
    # the cards are painted; their thumbnails load on their own time
    loaded = "document.images[0].complete && document.images[0].naturalWidth"
    assert browser.wait_for(loaded, timeout=30) == 128
    shot = out.parent / "index-100k.png"
    browser.screenshot(shot)
    shutil.copy(shot, out / "screenshot.png")  # kept for a person to look at
    with Image.open(shot) as im:
        assert im.size == (1280, 900)


def test_search_finds_an_item_in_the_last_part(page) -> None:
    out, browser = page
    browser.navigate((out / "index.html").as_uri())
    browser.wait_for(CARDS)
    browser.js("var s = document.getElementById('search'); s.value = 'zebra';"
               "s.dispatchEvent(new Event('input'))")
    browser.wait_for("document.body.getAttribute('data-ready') === '1'", timeout=60)
    assert browser.js(COUNT).startswith(f"1 of {TOTAL} items, page 1 of 1")
    assert browser.js("document.querySelector('#grid .caption').textContent").endswith("zebra")
    assert "q=zebra" in browser.js("location.hash")


def test_filters_work_across_pages_and_the_link_survives_a_reload(page) -> None:
    out, browser = page
    url = (out / "index.html").as_uri() + "#art.palette=ink&art.cells=10..11&page=3"
    browser.navigate(url)
    for attempt in range(2):  # the second time: the same link reloaded
        if attempt:
            browser.reload()
            browser.wait_for("performance.getEntriesByType('navigation')[0].type === 'reload'")
        browser.wait_for("document.body.getAttribute('data-ready') === '1'", timeout=60)
        matches = 2 * len(SEEDS)
        assert browser.js(COUNT).startswith(f"{matches} of {TOTAL} items, page 3 of {-(-matches // 60)}")
        chips = browser.js("Array.from(document.querySelectorAll('#grid figure.card')).map("
                           "c => Array.from(c.querySelectorAll('.params b')).map(b => b.textContent))")
        assert len(chips) == 60 and all(c[0] == "ink" and c[1] in ("10", "11") for c in chips)
        assert browser.js("document.querySelector('.pageno').value") == "3"
        assert browser.js("document.querySelector('select[data-axis=\"art.palette\"]').value") == "ink"
        assert browser.js("document.querySelector('input.lo[data-axis=\"art.cells\"]').value") == "10"
    # the next page continues where the filter left off
    browser.js("document.querySelector('.pager .next').click()")
    browser.wait_for("location.hash.indexOf('page=4') >= 0")
    assert browser.wait_for(f"{COUNT}.indexOf('page 4 of') >= 0")
