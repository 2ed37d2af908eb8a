"""`artflow watch`: a real server process, a real file watcher and headless Chromium showing the
live page. Edit the graph, the picture changes; break it, the page shows the error over the last
good picture; fix it, it recovers; Ctrl-C exits cleanly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from .chromium import CHROMIUM, Browser

GRAPH = {"artflow": 1, "seed": 4, "nodes": {
    "art": {"type": "generate.voronoi", "params": {"width": 320, "height": 320, "cells": 40}},
    "soft": {"type": "filter.blur", "inputs": {"image": "art"}, "params": {"radius": 1}},
    "save": {"type": "image.save", "inputs": {"image": "soft"}, "params": {"path": "live.png"}},
}}


def _save(path: Path, data: dict | str) -> None:
    """Save as an editor does: write a temp file, then rename over the old one."""
    tmp = path.with_suffix(".tmp~")
    tmp.write_text(data if isinstance(data, str) else json.dumps(data, indent=1))
    os.replace(tmp, path)


class Watch:
    def __init__(self, target: Path, out: Path):
        exe = Path(sys.executable).parent / "artflow"
        self.proc = subprocess.Popen([str(exe), "watch", str(target), "-o", str(out), "--port", "0",
                                      "--no-browser"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, cwd=target.parent)
        line = self.proc.stdout.readline()
        assert "http://127.0.0.1:" in line, line + self.proc.stderr.read()
        self.url = line.split()[-4] if "(" in line else line.split()[-1]
        self.url = next(w for w in line.split() if w.startswith("http://127.0.0.1:"))

    def state(self) -> dict:
        with urllib.request.urlopen(self.url + "state", timeout=10) as r:
            return json.load(r)

    def wait_state(self, test, timeout: float = 30.0) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            s = self.state()
            if test(s):
                return s
            assert time.monotonic() < deadline, s
            time.sleep(0.05)

    def stop(self) -> tuple[int, str]:
        self.proc.send_signal(signal.SIGINT)
        out, _ = self.proc.communicate(timeout=15)
        return self.proc.returncode, out


def _image_box(b: Browser) -> tuple[int, int, int, int]:
    r = b.eval("(() => { const r = document.querySelector('#outputs img').getBoundingClientRect();"
               " return [r.left, r.top, r.right, r.bottom]; })()")
    return tuple(int(round(v)) for v in r)


def _crop(shot: Path, box: tuple[int, int, int, int]) -> np.ndarray:
    with Image.open(shot) as im:
        return np.asarray(im.convert("RGB").crop(box), dtype=np.int16)


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
def test_edit_break_fix_in_the_live_page(tmp_path: Path) -> None:
    graph = tmp_path / "live.json"
    _save(graph, GRAPH)
    watch = Watch(graph, tmp_path / "out")
    browser = Browser(watch.url, tmp_path / "profile")
    try:
        browser.wait_for("document.body.dataset.phase === 'done'")
        assert browser.eval("document.querySelectorAll('#outputs img').length") == 1
        assert browser.eval("document.querySelector('#nodes tr[data-node=soft] td.st').textContent") == "ran"
        first = browser.screenshot(tmp_path / "1-first.png")
        box = _image_box(browser)
        v1 = int(browser.eval("document.body.dataset.version"))

        edited = json.loads(json.dumps(GRAPH))
        edited["nodes"]["art"]["params"]["cells"] = 5
        _save(graph, edited)
        browser.wait_for(f"+document.body.dataset.version > {v1} && document.body.dataset.phase === 'done'")
        second = browser.screenshot(tmp_path / "2-edited.png")
        assert np.abs(_crop(first, box) - _crop(second, box)).mean() > 10  # a different picture
        v2 = int(browser.eval("document.body.dataset.version"))

        _save(graph, json.dumps(edited)[:-20])  # a save in the middle of typing: broken JSON
        error = browser.wait_for(f"+document.body.dataset.version > {v2} && "
                                 "document.body.dataset.phase === 'error' && "
                                 "document.getElementById('error').textContent")
        assert "not valid JSON" in error and "live.json" in error
        assert browser.eval("document.getElementById('error').hidden") is False
        broken = browser.screenshot(tmp_path / "3-broken.png")
        # the last good picture stays, below the error
        assert browser.eval("document.querySelectorAll('#outputs img').length") == 1
        box_now = _image_box(browser)
        assert np.abs(_crop(second, box).astype(float).mean(axis=(0, 1))
                      - _crop(broken, box_now).astype(float).mean(axis=(0, 1))).max() < 2
        v3 = int(browser.eval("document.body.dataset.version"))

        edited["nodes"]["soft"]["params"]["radius"] = 8
        _save(graph, edited)
        browser.wait_for(f"+document.body.dataset.version > {v3} && document.body.dataset.phase === 'done'")
        assert browser.eval("document.getElementById('error').hidden") is True
        fixed = browser.screenshot(tmp_path / "4-fixed.png")
        box = _image_box(browser)
        assert np.abs(_crop(second, box) - _crop(fixed, box)).mean() > 3  # now blurred
        ran = {n["id"]: n["status"] for n in watch.state()["nodes"]}
        assert ran == {"art": "cached", "soft": "ran", "save": "ran"}  # only what changed ran
        browser.eval("document.querySelector('#nodes tr[data-node=soft]').click()")  # any node's output
        browser.wait_for("document.querySelector('#preview img')?.naturalWidth === 320")
    finally:
        browser.close()
        code, out = watch.stop()
    assert code == 0 and "stopped watching" in out


SKETCH = '''
import artflow as af
from look import CELLS

g = af.Graph(seed=2)
art = g.add("generate.voronoi", "art", width=96, height=96, cells=CELLS)
g.add("image.save", "save", image=art, path="sketch.png")
g.run()
'''


def test_a_sketch_reruns_when_a_module_it_imports_is_saved(tmp_path: Path) -> None:
    (tmp_path / "look.py").write_text("CELLS = 10\n")
    sketch = tmp_path / "sketch.py"
    sketch.write_text(SKETCH)
    watch = Watch(sketch, tmp_path / "out")
    try:
        s = watch.wait_state(lambda s: s["phase"] == "done")
        assert [o["name"] for o in s["outputs"]] == ["sketch.png"]
        assert (tmp_path / "out" / "sketch.png").is_file()
        time.sleep(0.3)  # let the watcher pick up look.py, found by the first run
        _save(tmp_path / "look.py", "CELLS = 30\n")
        s = watch.wait_state(lambda s: s["phase"] == "done" and s["version"] > 2
                             and any(n["id"] == "art" and n["status"] == "ran" for n in s["nodes"])
                             and "look.py" in s.get("changed", []))
        _save(sketch, SKETCH.replace("g.run()", "g.run(output_dir='elsewhere')"))  # its own folder
        s = watch.wait_state(lambda s: s["phase"] == "done"
                             and s["outputs"][0]["url"].startswith("/written/"))
        with urllib.request.urlopen(watch.url + s["outputs"][0]["url"][1:], timeout=10) as r:
            assert r.read() == (tmp_path / "elsewhere" / "sketch.png").read_bytes()
        _save(sketch, SKETCH.replace("g.run()", "g.run()\nraise ValueError('boom')"))
        s = watch.wait_state(lambda s: s["phase"] == "error")
        assert s["error"] == "ValueError: boom (sketch.py line 9)"
        assert [o["name"] for o in s["outputs"]] == ["sketch.png"]  # the last good output stays
    finally:
        code, _ = watch.stop()
    assert code == 0
