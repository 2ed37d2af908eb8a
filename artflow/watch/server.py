"""The live page's server: 127.0.0.1 only, standard library only.

Routes: ``/`` the page, ``/state`` the current snapshot (JSON), ``/events`` server-sent events
(one ``state`` event per change; the page never polls), ``/files/...`` files under the output
folder, ``/written/KEY/NAME`` a file a sketch wrote elsewhere (only files a run reported),
``/node/RUN/ID.png`` a preview of any node's image output, ``/seen?v=N`` the page's note that it
finished showing version N (the watch benchmark times edits with it).
"""

from __future__ import annotations

import json
import mimetypes
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from .page import PAGE

KEEPALIVE_S = 15.0


class LiveState:
    """The snapshot the page shows, with a condition that wakes every event stream on change."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self.data: dict[str, Any] = {"version": 0, "phase": "starting", "nodes": [], "outputs": [],
                                     "error": None}
        self.results: list[Any] = []
        self.seen: dict[int, float] = {}
        self.closed = False
        self.written: dict[str, Path] = {}  # files the runs wrote outside the output folder

    def allow_file(self, path: Path) -> str:
        """Serve ``path`` (a file a run wrote) under /written/KEY/; the same path keeps its key."""
        with self._cond:
            for key, known in self.written.items():
                if known == path:
                    return key
            key = str(len(self.written))
            self.written[key] = path
            return key

    def update(self, results: list[Any] | None = None, **changes: Any) -> dict[str, Any]:
        with self._cond:
            self.data = {**self.data, **changes, "version": self.data["version"] + 1}
            if results is not None:
                self.results = results
            self._cond.notify_all()
            return self.data

    def snapshot(self) -> dict[str, Any]:
        with self._cond:
            return dict(self.data)

    def wait_newer(self, version: int, timeout: float) -> dict[str, Any] | None:
        """The snapshot once its version passes ``version``; None on timeout or when closing."""
        with self._cond:
            self._cond.wait_for(lambda: self.closed or self.data["version"] > version, timeout)
            if self.closed or self.data["version"] <= version:
                return None
            return dict(self.data)

    def mark_seen(self, version: int) -> None:
        with self._cond:
            self.seen.setdefault(version, time.time())
            self._cond.notify_all()

    def close(self) -> None:
        with self._cond:
            self.closed = True
            self._cond.notify_all()


def make_server(state: LiveState, output_dir: Path, port: int = 0) -> ThreadingHTTPServer:
    """A threaded HTTP server bound to 127.0.0.1 (``port`` 0 picks a free one)."""
    root = output_dir.resolve()

    class Handler(BaseHTTPRequestHandler):
        server_version = "artflow-watch"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet by design
            return

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            url = urlsplit(self.path)
            path = unquote(url.path)
            if path in ("/", "/index.html"):
                self._send(PAGE.encode(), "text/html; charset=utf-8")
            elif path == "/state":
                data = {**state.snapshot(), "seen": {str(k): v for k, v in state.seen.items()}}
                self._send(json.dumps(data).encode(), "application/json")
            elif path == "/events":
                self._events()
            elif path == "/seen":
                try:
                    state.mark_seen(int(parse_qs(url.query).get("v", ["0"])[0]))
                except ValueError:
                    pass
                self._send(b"", "text/plain", status=HTTPStatus.NO_CONTENT)
            elif path.startswith("/files/"):
                self._file(path[len("/files/"):])
            elif path.startswith("/written/"):
                target = state.written.get(path.split("/")[2])
                if target is None or not target.is_file():
                    self._send(b"not found", "text/plain", status=HTTPStatus.NOT_FOUND)
                else:
                    ctype = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
                    self._send(target.read_bytes(), ctype)
            elif path.startswith("/node/"):
                self._node(path[len("/node/"):])
            else:
                self._send(b"not found", "text/plain", status=HTTPStatus.NOT_FOUND)

        def _send(self, body: bytes, ctype: str, status: HTTPStatus = HTTPStatus.OK) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            if body:
                self.wfile.write(body)

        def _file(self, rel: str) -> None:
            target = (root / rel).resolve()
            if root not in target.parents or not target.is_file():
                self._send(b"not found", "text/plain", status=HTTPStatus.NOT_FOUND)
                return
            ctype = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
            self._send(target.read_bytes(), ctype)

        def _node(self, rest: str) -> None:
            from ..display import thumbnail_png

            run, _, name = rest.partition("/")
            node_id = name.removesuffix(".png")
            try:
                result = state.results[int(run)]
                outs = result.outputs(node_id)
                spec = result.validated.specs[node_id]
                batch = next(outs[s.name] for s in spec.outputs
                             if getattr(s.type, "name", "") in ("IMAGE", "MASK") and s.name in outs)
                body = thumbnail_png(batch[0], 1024)
            except Exception:  # noqa: BLE001 - a stale or unknown node is just not found
                self._send(b"no preview", "text/plain", status=HTTPStatus.NOT_FOUND)
                return
            self._send(body, "image/png")

        def _events(self) -> None:
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-store")
            self.send_header("Connection", "keep-alive")
            self.end_headers()
            version = -1
            try:
                current = state.snapshot()
                while not state.closed:
                    if current is not None:
                        version = current["version"]
                        self.wfile.write(f"event: state\ndata: {json.dumps(current)}\n\n".encode())
                    else:
                        self.wfile.write(b": keep-alive\n\n")
                    self.wfile.flush()
                    current = state.wait_newer(version, KEEPALIVE_S)
            except (BrokenPipeError, ConnectionResetError):
                return

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    return server
