"""Headless Chromium against a live watch server (issue 22): a page from another origin, served
by a second local server under a name Chromium resolves to 127.0.0.1, cannot read the live
state or an output file; neither can a script running at the watch's own port under that name
(what DNS rebinding gives an attacker); and a page over the event-stream cap says so in one line."""

from __future__ import annotations

import json
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from artflow.watch import WatchSession

from .chromium import CHROMIUM, Browser

pytestmark = [pytest.mark.slow, pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed "
                                                                         "(apt-get install chromium)")]

GRAPH = {"artflow": 1, "seed": 3, "nodes": {
    "art": {"type": "generate.voronoi", "params": {"width": 48, "height": 48, "cells": 6}},
    "save": {"type": "image.save", "inputs": {"image": "art"}, "params": {"path": "private.png"}}}}

#: what an attacker's page tries: read the state and a file with fetch, and a file's pixels
#: through a canvas; each probe says what it got ("read ..." only if the data came through)
ATTACK = """
async function tryFetch(url) {
  try {
    const r = await fetch(url, {cache: "no-store"});
    const text = await r.text();
    return `read ${r.status} ${text.slice(0, 60)}`;
  } catch (e) { return "blocked " + e.name; }
}
function tryPixels(url) {
  return new Promise((done) => {
    const img = new Image();
    img.onload = () => {
      const c = document.createElement("canvas"); c.width = img.width; c.height = img.height;
      const g = c.getContext("2d"); g.drawImage(img, 0, 0);
      try { g.getImageData(0, 0, 1, 1); done("read pixels"); } catch (e) { done("blocked " + e.name); }
    };
    img.onerror = () => done("blocked load");
    img.src = url;
  });
}
async function attack(base) {
  return {
    state: await tryFetch(base + "/state"),
    file: await tryFetch(base + "/files/private.png"),
    page: await tryFetch(base + "/"),
    pixels: await tryPixels(base + "/files/private.png"),
  };
}
"""


class _QuietFiles(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        return


def _attacker_site(folder: Path) -> ThreadingHTTPServer:
    """The second local server: it serves the attacker's page."""
    folder.mkdir()
    (folder / "evil.html").write_text(f"<!doctype html><title>evil</title><script>{ATTACK}</script>")
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietFiles, directory=str(folder)))
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return server


@pytest.fixture
def watch(tmp_path: Path):
    (tmp_path / "g.json").write_text(json.dumps(GRAPH))
    session = WatchSession(tmp_path / "g.json", tmp_path / "out")
    session.start()
    assert session.run_once()["phase"] == "done"
    yield session
    session.close()


def test_another_origin_cannot_read_the_state_or_a_file(tmp_path: Path, watch: WatchSession) -> None:
    port = watch.server.server_address[1]
    site = _attacker_site(tmp_path / "site")
    browser = Browser(f"http://evil.test:{site.server_address[1]}/evil.html", tmp_path / "profile",
                      extra_args=("--host-resolver-rules=MAP evil.test 127.0.0.1",))
    try:
        browser.wait_for("document.title === 'evil' && typeof attack === 'function'")
        # the attacker's own origin, reaching the watch by every name that leads to it
        for base in (f"http://127.0.0.1:{port}", f"http://localhost:{port}", f"http://evil.test:{port}"):
            got = browser.eval_async(f"attack({json.dumps(base)})")
            assert not [k for k, v in got.items() if v.startswith("read")], (base, got)

        # DNS rebinding: the attacker's script runs in the origin evil.test:PORT, which now
        # resolves to 127.0.0.1; its requests are same-origin, so only the server can refuse them
        browser.call("Page.navigate", session=True, url=f"http://evil.test:{port}/")
        browser.wait_for(f"document.readyState === 'complete' && location.port === '{port}'")
        assert "artflow watch" not in browser.eval("document.title")  # not the watch page either
        got = browser.eval_async(f"{ATTACK}; attack('')")
        assert got["state"].startswith("read 403 this server answers only requests to http://127.0.0.1:"), got
        assert got["file"].startswith("read 403 ") and got["page"].startswith("read 403 "), got
        assert got["pixels"] == "blocked load", got

        # the real page, at its own address, still reads all of it
        browser.call("Page.navigate", session=True, url=watch.url)
        browser.wait_for("document.body.dataset.phase === 'done'")
        own = browser.eval_async(f"{ATTACK}; attack('')")
        assert own["state"].startswith("read 200 ") and own["pixels"] == "read pixels", own
        assert browser.eval("document.querySelector('#outputs img').naturalWidth") == 48
    finally:
        browser.close()
        site.shutdown()
        site.server_close()


def test_a_page_over_the_stream_cap_says_so_in_one_line(tmp_path: Path, watch: WatchSession) -> None:
    watch.server.max_streams = 0
    browser = Browser(watch.url, tmp_path / "profile")
    try:
        line = browser.wait_for("!document.getElementById('error').hidden && "
                                "document.getElementById('error').textContent")
        assert line == "0 watch pages are open already: close one, then reload this one"
        assert browser.eval("document.getElementById('phase').textContent") == "not connected"
    finally:
        browser.close()
