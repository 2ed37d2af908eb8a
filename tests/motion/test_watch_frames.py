"""`artflow watch` on a graph with frames: a looping preview at reduced size whose scrubber shows
the chosen frame (real server process, real file watcher, headless Chromium), and an edit of one
keyframe re-runs only the frames it changes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.creative.chromium import CHROMIUM, Browser
from tests.creative.test_watch import Watch, _save

FRAMES = 12
GRAPH = {
    "artflow": 1, "seed": 2, "frames": FRAMES, "fps": 12,
    "nodes": {
        # black at frame 0, mid grey at frame 6, white at frame 11, linear between
        "grey": {"type": "generate.solid", "params": {
            "width": 400, "height": 300,
            "color": {"keyframes": {"0": "black", "6": [128, 128, 128], "11": "white"}}}},
        "shade": {"type": "color.adjust", "inputs": {"image": "grey"}, "params": {"contrast": 1.0}},
        "anim": {"type": "image.save_animation", "inputs": {"image": "shade"},
                 "params": {"path": "grey.mp4"}},
    },
}

MEAN = """(() => { const img = document.querySelector('figure.player img');
  const c = document.createElement('canvas'); c.width = img.naturalWidth; c.height = img.naturalHeight;
  const g = c.getContext('2d'); g.drawImage(img, 0, 0);
  const d = g.getImageData(0, 0, c.width, c.height).data; let s = 0;
  for (let i = 0; i < d.length; i += 4) s += d[i]; return s / (d.length / 4) / 255; })()"""


def _expected(frame: int) -> float:
    mid = 128 / 255
    return frame / 6 * mid if frame <= 6 else mid + (frame - 6) / 5 * (1 - mid)


def _scrub_to(browser: Browser, frame: int) -> float:
    browser.eval(f"(() => {{ const s = document.querySelector('figure.player input');"
                 f" s.value = '{frame}'; s.dispatchEvent(new Event('input')); }})()")
    browser.wait_for(f"(() => {{ const i = document.querySelector('figure.player img');"
                     f" return i.dataset.frame === '{frame}' && i.complete && i.naturalWidth > 0; }})()")
    return float(browser.eval(MEAN))


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
def test_the_watch_scrubber_shows_the_chosen_frame_and_an_edit_reruns_only_changed_frames(
        tmp_path: Path) -> None:
    graph = tmp_path / "loop.json"
    _save(graph, GRAPH)
    watch = Watch(graph, tmp_path / "out")
    browser = Browser(watch.url, tmp_path / "profile")
    try:
        browser.wait_for("document.body.dataset.phase === 'done' && "
                         "document.querySelector('figure.player img')?.naturalWidth > 0")
        assert browser.eval("document.querySelector('figure.player img').naturalWidth") == 256  # reduced
        assert browser.eval("document.querySelector('figure.player input').max") == str(FRAMES - 1)
        playing = {browser.wait_for("document.querySelector('figure.player img').dataset.frame")}
        playing.add(browser.wait_for(f"(() => {{ const f = document.querySelector('figure.player img')"
                                     f".dataset.frame; return f !== '{next(iter(playing))}' && f; }})()"))
        assert len(playing) == 2  # it plays by itself
        for frame in (0, 4, 11):
            assert abs(_scrub_to(browser, frame) - _expected(frame)) < 3 / 255, frame
        assert browser.eval("document.querySelector('figure.player button').textContent") == "play"
        runs = {n["id"]: n.get("runs") for n in watch.state()["nodes"]}
        assert runs == {"grey": FRAMES, "shade": FRAMES, "anim": 1}
        version = int(browser.eval("document.body.dataset.version"))

        # the last keyframe edited: frames 0..6 keep their colour, 7..11 change
        edited = json.loads(json.dumps(GRAPH))
        edited["nodes"]["grey"]["params"]["color"]["keyframes"]["11"] = "red"
        _save(graph, edited)
        browser.wait_for(f"+document.body.dataset.version > {version} && "
                         "document.body.dataset.phase === 'done'")
        runs = {n["id"]: n.get("runs") for n in watch.state()["nodes"]}
        assert runs == {"grey": 5, "shade": 5, "anim": 1}  # frames 7..11 only
        assert abs(_scrub_to(browser, 3) - _expected(3)) < 3 / 255  # unchanged frame, from the cache
        _scrub_to(browser, 11)
        r, g, b = browser.eval("""(() => { const img = document.querySelector('figure.player img');
          const c = document.createElement('canvas'); c.width = 8; c.height = 8;
          const ctx = c.getContext('2d'); ctx.drawImage(img, 0, 0, 8, 8);
          const d = ctx.getImageData(4, 4, 1, 1).data; return [d[0], d[1], d[2]]; })()""")
        assert r > 240 and g < 15 and b < 15  # the edited last frame is red
        assert (tmp_path / "out" / "grey.mp4").is_file()
    finally:
        browser.close()
        code, out = watch.stop()
    assert code == 0
