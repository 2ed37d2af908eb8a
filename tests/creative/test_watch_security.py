"""The watch server answers only its own page (issue 22): requests addressed to another host name
(DNS rebinding) or made by another site's page are refused, files never leave the output folder,
hostile paths get one clean 4xx, event streams are capped, and `artflow watch` without -o serves
a folder of its own rather than the current one. Every test talks to a live server on 127.0.0.1."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from .watch_http import LiveServer, WatchProcess, parse_reply, raw_request, request

SECRET = b"canary: this file lies outside the output folder"
PICTURE = b"\x89PNG\r\n\x1a\n pretend picture bytes"


@pytest.fixture
def served(tmp_path: Path):
    """A server over out/ holding pic.png, with a secret file beside out/ and links to it."""
    out = tmp_path / "out"
    (out / "sub").mkdir(parents=True)
    (out / "pic.png").write_bytes(PICTURE)
    (tmp_path / "secret.txt").write_bytes(SECRET)
    (out / "link.txt").symlink_to(tmp_path / "secret.txt")
    (out / "away").symlink_to(tmp_path, target_is_directory=True)
    (out / "sub" / "inside.png").symlink_to(out / "pic.png")
    with LiveServer(out) as live:
        yield live


ROUTES = ["/", "/state", "/files/pic.png", "/node/0/x.png", "/seen?v=0", "/written/0/x.png"]


@pytest.mark.parametrize("host", ["evil.example:{port}", "evil.example", "127.0.0.1:{other}", "localhost",
                                  "127.0.0.1:{port}.evil.example", "127.0.0.2:{port}", ""])
def test_a_request_addressed_to_another_host_name_is_refused(served: LiveServer, host: str) -> None:
    """DNS rebinding: a page whose name resolves to 127.0.0.1 sends its own name as Host."""
    host = host.format(port=served.port, other=served.port + 1)
    for path in ROUTES + ["/events"]:
        reply = request(served.port, path, host=host)
        assert reply.status == 403, (host, path, reply)
        assert b"answers only requests to http://127.0.0.1:" in reply.body
        assert PICTURE not in reply.body and b"phase" not in reply.body


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "LocalHost:{port}", "[::1]:{port}"])
def test_its_own_addresses_are_answered(served: LiveServer, host: str) -> None:
    host = host.format(port=served.port)
    assert request(served.port, "/state", host=host).json()["phase"] == "starting"
    assert request(served.port, "/files/pic.png", host=host).body == PICTURE


def test_another_sites_page_is_refused_even_when_addressed_right(served: LiveServer) -> None:
    """A cross-site fetch or <img> carries Origin or Sec-Fetch-Site; a link followed is allowed."""
    for headers in ({"Origin": "http://evil.example"}, {"Origin": f"http://127.0.0.1:{served.port + 1}"},
                    {"Origin": "null"}, {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors"},
                    {"Sec-Fetch-Site": "same-site", "Sec-Fetch-Mode": "cors"}):
        for path in ("/state", "/files/pic.png"):
            reply = request(served.port, path, headers=headers)
            assert reply.status == 403 and PICTURE not in reply.body, (headers, path)
    same = {"Origin": f"http://127.0.0.1:{served.port}", "Sec-Fetch-Site": "same-origin"}
    assert request(served.port, "/files/pic.png", headers=same).body == PICTURE
    link = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"}
    assert request(served.port, "/", headers=link).status == 200


def test_replies_carry_no_cors_headers_and_are_never_stored(served: LiveServer) -> None:
    cases = [("GET", p, None) for p in ROUTES] + [
        ("OPTIONS", "/state", None), ("POST", "/state", None), ("BREW", "/", None),
        ("HEAD", "/files/pic.png", None),
        ("GET", "/state", "evil.example"), ("GET", "/nowhere", None), ("GET", "/files/a%00b", None)]
    for method, path, host in cases:
        reply = request(served.port, path, method=method, host=host,
                        headers={"Origin": f"http://127.0.0.1:{served.port}",
                                 "Access-Control-Request-Method": "GET"})
        assert reply.status < 500, (method, path, reply)
        assert not [h for h in reply.headers if h.startswith("access-control-")], (method, path, reply)
        assert reply.headers.get("cache-control") == "no-store", (method, path, reply)
    assert request(served.port, "/state", method="OPTIONS").status == 405


@pytest.mark.parametrize("path", [
    "/files/link.txt", "/files/away/secret.txt", "/files/../secret.txt", "/files/%2e%2e/secret.txt",
    "/files/sub/%2E%2E/%2E%2E/secret.txt", "/files/%2F..%2Fsecret.txt", "/files//etc/passwd",
    "/files/%2Fetc%2Fpasswd", "/files/..%5csecret.txt", "/files/", "/files/sub", "/files/away",
    "/files/away/out/pic.png/../../secret.txt", "//files/../secret.txt", "/files/./../secret.txt"])
def test_files_never_leave_the_output_folder(served: LiveServer, path: str) -> None:
    reply = request(served.port, path)
    assert reply.status in (400, 404), (path, reply)
    assert SECRET not in reply.body and b"root:" not in reply.body


def test_a_link_that_stays_inside_the_output_folder_is_served(served: LiveServer) -> None:
    reply = request(served.port, "/files/sub/inside.png")
    assert reply.status == 200 and reply.body == PICTURE
    assert reply.headers["content-type"] == "image/png"
    assert "sandbox" in reply.headers["content-security-policy"]  # an .svg/.html output never runs here


@pytest.mark.parametrize("path", [b"/files/a%00b", b"/files/a%0ab.png", b"/files/%ff.png",
                                  b"/files/%ed%a0%80", b"/state%00", b"/files/a\x01b", b"/files/a%7fb",
                                  b"/%e2%80%a8", b"/files/\xff\xfe"])
def test_control_characters_and_bad_encodings_get_one_clean_400(served: LiveServer, path: bytes,
                                                                 capfd: pytest.CaptureFixture[str]) -> None:
    host = f" HTTP/1.1\r\nHost: 127.0.0.1:{served.port}\r\n\r\n".encode()
    raw = raw_request(served.port, b"GET " + path + host)
    reply = parse_reply(raw)
    assert reply.status == 400, (path, reply)
    assert len(reply.body.splitlines()) == 1
    err = capfd.readouterr().err
    assert "Traceback" not in err and err == ""


def _open_stream(port: int) -> tuple[socket.socket, bytes]:
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(f"GET /events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
    data = b""
    while b"\n\n" not in data.partition(b"\r\n\r\n")[2]:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    return s, data


def test_event_streams_are_capped_and_the_one_over_is_told_why(tmp_path: Path) -> None:
    with LiveServer(tmp_path / "out", max_streams=2) as live:
        first, a = _open_stream(live.port)
        second, b = _open_stream(live.port)
        third, c = _open_stream(live.port)
        try:
            assert b"event: state" in a and b"event: state" in b
            assert b"event: full" in c and b"event: state" not in c
            line = json.loads(c.split(b"data: ")[1].split(b"\n")[0])
            assert line == "2 watch pages are open already: close one, then reload this one"
        finally:
            for s in (first, second, third):
                s.close()


GRAPH = {"artflow": 1, "seed": 1, "nodes": {
    "art": {"type": "generate.voronoi", "params": {"width": 24, "height": 24, "cells": 4}},
    "save": {"type": "image.save", "inputs": {"image": "art"}, "params": {"path": "live.png"}}}}


def test_watch_without_o_serves_a_folder_of_its_own_never_the_current_one(tmp_path: Path,
                                                                          artflow_cli) -> None:
    """Started in a home-like folder: its private files are not under /files/."""
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_rsa").write_bytes(SECRET)
    (home / "notes.txt").write_bytes(SECRET)
    (home / "sketches").mkdir()
    graph = home / "sketches" / "g.json"
    graph.write_text(json.dumps(GRAPH))
    watch = WatchProcess(Path("sketches/g.json"), cwd=home)
    try:
        state = watch.wait_done()
        assert state["phase"] == "done", state
        saved = home / "sketches" / "out" / "g" / "live.png"
        assert saved.is_file() and not (home / "live.png").exists()
        url = state["outputs"][0]["url"]
        assert url.startswith("/files/live.png?")
        assert request(watch.port, url).body == saved.read_bytes()
        for path in ("/files/.ssh/id_rsa", "/files/notes.txt", "/files/../../.ssh/id_rsa",
                     "/files/%2e%2e/%2e%2e/notes.txt", "/files/a%00b"):
            reply = request(watch.port, path)
            assert reply.status in (400, 404) and SECRET not in reply.body, (path, reply)
    finally:
        code, out, err = watch.stop()
    assert code == 0 and "Traceback" not in err, err
    assert "out/NAME/" in artflow_cli("watch", "--help").stdout


def test_files_whose_names_need_escaping_show_by_their_urls(tmp_path: Path) -> None:
    """x#1.png and 100%41.png: the page's URLs are percent-encoded, so they fetch these files."""
    from artflow.watch import WatchSession

    names = ["x#1.png", "100%41.png", "a b?c.png", "ü&x=1.png"]
    graph = {"artflow": 1, "seed": 1, "nodes": {
        "art": {"type": "generate.voronoi", "params": {"width": 16, "height": 16, "cells": 3}},
        **{f"s{i}": {"type": "image.save", "inputs": {"image": "art"}, "params": {"path": n}}
           for i, n in enumerate(names)}}}
    (tmp_path / "g.json").write_text(json.dumps(graph))
    session = WatchSession(tmp_path / "g.json", tmp_path / "out")
    session.start()
    try:
        state = session.run_once()
        assert state["phase"] == "done", state
        port = session.server.server_address[1]
        shown = {o["name"]: o["url"] for o in state["outputs"]}
        assert set(shown) == set(names)
        for name, url in shown.items():
            reply = request(port, url)
            assert reply.status == 200, (name, url, reply)
            assert reply.body == (tmp_path / "out" / name).read_bytes()
    finally:
        session.close()


def test_the_page_sends_the_watch_origin_nowhere_and_forbids_framing(served: LiveServer) -> None:
    reply = request(served.port, "/")
    assert reply.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in reply.headers["content-security-policy"]
    assert reply.headers["referrer-policy"] == "no-referrer"
