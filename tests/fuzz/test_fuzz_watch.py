"""Fuzzing the watch server: random methods, paths (traversal, percent-encoding, control
characters, long and non-UTF-8 names), HTTP versions and headers sent to a live `artflow watch`
on 127.0.0.1, with a fixed and a rotating seed (see harness.py).

Checked by the harness on every case: a reply with a status line, never a 5xx, never the bytes
of a canary file that lies outside the output folder (the output folder holds links to it), no
CORS header, ``Cache-Control: no-store``; and at the end, nothing on the server's stderr (no
traceback) and the server still answering.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ..creative.watch_http import WatchProcess, parse_reply, request
from .harness import STATS, profile
from .strategies import one_in

MODES = ["fixed", "rotating"]
SCALE = float(os.environ.get("ARTFLOW_FUZZ_SCALE", "1"))
N_REQUESTS = int(170 * SCALE)
CANARY = f"canary-{secrets.token_hex(8)}".encode()

ROUTES = ["/", "/index.html", "/state", "/seen", "/files/", "/files/live.png", "/written/", "/written/0/",
          "/node/", "/node/0/art.png", "/node/0/save.png", "/events", "/nowhere"]
SEGMENTS = ["..", ".", "%2e%2e", "%2E%2e", "%2f", "%2F..", "%5c..", "..%2f", "%00", "a%00b", "%0a", "%0d%0a",
            "%ff", "%c0%ae", "%ed%a0%80", "%e2%80%a8", "%7f", "%", "%g1", "%%", "link.txt", "away",
            "secret.txt", "canary.txt", "live.png", "sub", "x#1.png", "100%41.png", "~", "~root", "/",
            "//", "etc", "passwd", "proc", "self", "environ", "é", "%C3%A9", "a b", "a+b", ";", "?", "#"]
METHODS = ["GET", "GET", "GET", "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE",
           "CONNECT", "PROPFIND", "get", "G E T", ""]
VERSIONS = ["HTTP/1.1", "HTTP/1.1", "HTTP/1.0", "HTTP/0.9", "HTTP/2.0", "HTTP/3", "HTTP/1.1.1", "HTTP/x", "",
            "http/1.1"]
HEADER_NAMES = ["Origin", "Sec-Fetch-Site", "Sec-Fetch-Mode", "Range", "If-Modified-Since", "Cookie",
                "Content-Length", "Transfer-Encoding", "Expect", "Connection", "Accept", "X-Forwarded-Host",
                "Referer", "Access-Control-Request-Method", "Upgrade"]
HEADER_VALUES = ["http://evil.example", "cross-site", "same-origin", "navigate", "bytes=0-10", "chunked",
                 "100-continue", "0", "-1", "99999999999", "close", "keep-alive", "null"]


@st.composite
def raw_path(draw: st.DrawFn) -> str:
    """A request target: a route, then odd segments, a query and a fragment, sometimes very long."""
    base = draw(st.sampled_from(ROUTES))
    parts = draw(st.lists(st.one_of(st.sampled_from(SEGMENTS),
                                    st.text(st.characters(codec="utf-8"), max_size=12),
                                    st.binary(max_size=6).map(lambda b: "".join(f"%{x:02x}" for x in b))),
                          max_size=5))
    path = base + "/".join(parts)
    if draw(one_in(4)):
        path += "?v=" + draw(st.sampled_from(["1", "0", "-1", "99999999999999999999", "x", "1&v=2", ""]))
    if draw(one_in(10)):
        path += "#" + draw(st.text(max_size=8))
    if draw(one_in(25)):
        path = path + "a" * draw(st.sampled_from([300, 5000, 70000]))
    if draw(one_in(20)):
        path = draw(st.sampled_from(["*", "http://evil.example/state", "//evil.example/state", "state", ""]))
    return path


@st.composite
def http_request(draw: st.DrawFn, port: int) -> bytes:
    method = draw(st.one_of(st.sampled_from(METHODS), st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1,
                                                                max_size=10)))
    version = draw(st.sampled_from(VERSIONS))
    line = " ".join(p for p in (method, draw(raw_path()), version) if p)
    headers = []
    host = draw(st.sampled_from([f"127.0.0.1:{port}"] * 6 + [f"localhost:{port}", f"[::1]:{port}",
                                 f"evil.example:{port}", "evil.example", f"127.0.0.1:{port + 1}", None,
                                 f"127.0.0.1:{port}\r\nHost: evil.example", " "]))
    if host is not None:
        headers.append(f"Host: {host}")
    for _ in range(draw(st.integers(0, 4))):
        name = draw(st.one_of(st.sampled_from(HEADER_NAMES), st.text("abcxyz-", min_size=1, max_size=8)))
        value = draw(st.one_of(st.sampled_from(HEADER_VALUES),
                               st.text(st.characters(codec="latin-1", exclude_characters="\r\n"),
                                       max_size=20)))
        headers.append(f"{name}: {value}")
    if draw(one_in(30)):
        headers += [f"X-Many-{i}: {i}" for i in range(120)]
    head = line + "\r\n" + "".join(h + "\r\n" for h in headers) + "\r\n"
    body = draw(st.sampled_from([b"", b"", b"", b"x=1", b"\x00" * 64]))
    return head.encode("utf-8", "surrogateescape") + body


def _exchange(port: int, data: bytes) -> bytes:
    """Send one request and read the reply (for an event stream: its headers and first event)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        try:
            s.sendall(data)
        except OSError:  # the server refused early (e.g. a line too long) and closed
            pass
        got = b""
        while True:
            try:
                chunk = s.recv(1 << 16)
            except (ConnectionResetError, TimeoutError):
                return got
            if not chunk:
                return got
            got += chunk
            head, sep, body = got.partition(b"\r\n\r\n")
            if sep and b"text/event-stream" in head and b"\n\n" in body:
                return got


@pytest.fixture(scope="module")
def watch(tmp_path_factory: pytest.TempPathFactory):
    """`artflow watch` over a tiny graph; a canary file beside the output folder, links to it inside."""
    root = tmp_path_factory.mktemp("fuzz-watch")
    (root / "canary.txt").write_bytes(CANARY)
    (root / "secret.txt").write_bytes(CANARY)
    out = root / "out"
    out.mkdir()
    (out / "link.txt").symlink_to(root / "canary.txt")
    (out / "away").symlink_to(root, target_is_directory=True)
    graph = root / "g.json"
    graph.write_text(json.dumps({"artflow": 1, "seed": 1, "nodes": {
        "art": {"type": "generate.voronoi", "params": {"width": 16, "height": 16, "cells": 3}},
        "save": {"type": "image.save", "inputs": {"image": "art"}, "params": {"path": "live.png"}}}}))
    server = WatchProcess(graph, "-o", str(out), cwd=root)
    assert server.wait_done()["phase"] == "done"
    yield server
    code, _, err = server.stop()
    assert code == 0
    assert err == "", err  # no traceback, no line at all


@pytest.mark.parametrize("mode", MODES)
def test_fuzz_watch_server_requests(watch: WatchProcess, mode: str) -> None:
    port = watch.port

    @profile(mode, N_REQUESTS, f"watch http ({mode})")
    @given(data=http_request(port))
    def case(data: bytes) -> None:
        start = time.perf_counter()
        raw = _exchange(port, data)
        STATS.seconds += time.perf_counter() - start
        STATS.cases["watch http"] = STATS.cases.get("watch http", 0) + 1
        shown = f"request: {data[:600]!r}\nreply: {raw[:600]!r}"
        assert CANARY not in raw, f"read outside the output folder\n{shown}"
        if not raw:  # closed without a word: only for a request with no request line
            assert not data.split(b"\r\n", 1)[0].strip(), shown
            return
        reply = parse_reply(raw)
        shape = f"{data.split(b' ', 1)[0][:10]!r}"
        STATS.endings[("watch http", reply.status, shape)] = STATS.endings.get(("watch http", reply.status,
                                                                                 shape), 0) + 1
        assert 200 <= reply.status < 500, shown
        assert not [h for h in reply.headers if h.startswith("access-control-")], shown
        assert reply.headers.get("cache-control") == "no-store", shown

    case()
    assert request(port, "/state").json()["phase"] == "done"  # still answering
