"""The live page's server: 127.0.0.1 only, standard library only, answering only its own page.

Routes (GET and HEAD; anything else is 405):

- ``/`` the page; ``/state`` the current snapshot (JSON); ``/events`` server-sent events (one
  ``state`` event per change; the page never polls);
- ``/files/PATH`` a file under the output folder (symlinks resolved; nothing outside it);
- ``/written/KEY/NAME`` a file a sketch wrote elsewhere (only files the current page shows);
- ``/node/RUN/ID.png`` a preview of any node's image output;
- ``/seen?v=N`` the page's note that it finished showing version N (the benchmark times edits).

Who may ask: a request whose ``Host`` is not this server's own address (``127.0.0.1:PORT``,
``localhost:PORT``, ``[::1]:PORT``) is refused, so a web page whose name is made to resolve to
127.0.0.1 (DNS rebinding) reads nothing; so is a sub-resource request another site's page makes
(``Origin``, ``Sec-Fetch-Site``). No CORS headers, ``Cache-Control: no-store`` everywhere.

Resources are bounded: at most :data:`MAX_CONNECTIONS` connections (when full, the one waiting
longest for its request is closed), :data:`MAX_EVENT_STREAMS` event streams, socket timeouts,
files streamed from disk, and no spinning when the process runs out of descriptors.
"""

from __future__ import annotations

import errno
import json
import mimetypes
import os
import select
import socket
import stat
import sys
import threading
import time
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote

from .page import PAGE
from .state import LiveState

__all__ = ["LiveState", "WatchServer", "make_server"]

KEEPALIVE_S = 15.0
#: connections served at once (each holds a thread)
MAX_CONNECTIONS = 64
#: open event streams (pages) at once; one more is told so, and its page says it in one line
MAX_EVENT_STREAMS = 16
#: a socket read or write that waits longer ends its connection
SOCKET_TIMEOUT_S = 10.0
#: a connection that has not sent its whole request by then is closed when room is needed
REQUEST_DEADLINE_S = 20.0
MAX_REQUEST_LINE = 8192
#: how long accept() waits before trying again when the process is out of descriptors
ACCEPT_BACKOFF_S = 0.05
#: at most this long and this much unread input is drained when a connection closes
LINGER_S = 0.5
LINGER_BYTES = 1 << 20
_OUT_OF_DESCRIPTORS = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}

SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
PAGE_POLICY = ("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
               "img-src 'self'; media-src 'self'; connect-src 'self'; frame-ancestors 'none'")
#: files are shown by the page, never run in its origin (an .svg or .html a graph wrote)
FILE_POLICY = "sandbox; default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'"


def own_hosts(port: int) -> frozenset[str]:
    """The ``Host`` values a request to this server may carry."""
    names = ("127.0.0.1", "localhost", "[::1]")
    hosts = {f"{n}:{port}" for n in names}
    if port == 80:
        hosts.update(names)
    return frozenset(hosts)


class Handler(BaseHTTPRequestHandler):
    """One connection, one request (HTTP/1.0): check who asks, then answer from the routes."""

    server: WatchServer
    server_version = "artflow-watch"
    sys_version = ""
    default_request_version = "HTTP/1.0"  # a versionless request line still gets a status line
    timeout = SOCKET_TIMEOUT_S

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet by design
        return

    def setup(self) -> None:
        self.timeout = self.server.socket_timeout
        super().setup()

    # -- reading the request ----------------------------------------------------------------------
    def handle_one_request(self) -> None:
        self.command, self.requestline, self.request_version = "", "", self.default_request_version
        try:
            self.raw_requestline = self.rfile.readline(MAX_REQUEST_LINE + 1)
            if not self.raw_requestline or not self.server.still_open(self.connection):
                self.close_connection = True
                return
            if len(self.raw_requestline) > MAX_REQUEST_LINE:
                self.send_error(HTTPStatus.REQUEST_URI_TOO_LONG)
                return
            if not self.parse_request():
                return
            if self.request_version < "HTTP/1.0":
                self.send_error(HTTPStatus.HTTP_VERSION_NOT_SUPPORTED)
                return
            if not self.server.request_read(self.connection):
                self.close_connection = True  # closed to make room while it was still sending
                return
            self.answer()
            self.wfile.flush()
        except (OSError, ValueError):  # the client went away, stalled past the timeout, or was closed
            self.close_connection = True

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Errors as one plain-text line (the stock page echoes the request in HTML); a request
        line claiming HTTP/2 or later is a bad request here, not a server error."""
        self.close_connection = True
        if self.request_version < "HTTP/1.0":  # an "HTTP/0.9" reply would have no status line
            self.request_version = "HTTP/1.0"
            code = HTTPStatus.HTTP_VERSION_NOT_SUPPORTED
        status = HTTPStatus(code)
        if status is HTTPStatus.HTTP_VERSION_NOT_SUPPORTED:
            status, message = HTTPStatus.BAD_REQUEST, "only HTTP/1.0 and HTTP/1.1 are spoken here"
        self.reply((message or status.phrase).encode("ascii", "replace"), "text/plain; charset=utf-8",
                   status)

    def reply(self, body: bytes, ctype: str, status: HTTPStatus = HTTPStatus.OK,
              headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for name, value in {**SECURITY_HEADERS, **(headers or {})}.items():
            self.send_header(name, value)
        self.end_headers()
        if body and getattr(self, "command", "") != "HEAD":
            self.wfile.write(body)

    def refuse(self, status: HTTPStatus, line: str) -> None:
        self.reply(line.encode() + b"\n", "text/plain; charset=utf-8", status)

    # -- routing ----------------------------------------------------------------------------------
    def answer(self) -> None:
        if self.command not in ("GET", "HEAD"):
            self.reply(b"only GET and HEAD\n", "text/plain; charset=utf-8", HTTPStatus.METHOD_NOT_ALLOWED,
                       {"Allow": "GET, HEAD"})
            return
        problem = self.server.refusal(self.headers)
        if problem:
            self.refuse(HTTPStatus.FORBIDDEN, problem)
            return
        raw, _, query = self.path.partition("#")[0].partition("?")
        if not raw.isascii():
            self.refuse(HTTPStatus.BAD_REQUEST, "the path must be ASCII (percent-encode other characters)")
            return
        try:
            path = unquote(raw, errors="strict")
        except UnicodeDecodeError:
            self.refuse(HTTPStatus.BAD_REQUEST, "the path is not UTF-8")
            return
        if not path.startswith("/") or not path.isprintable():
            self.refuse(HTTPStatus.BAD_REQUEST, "the path has control characters or does not start with /")
            return
        exact: dict[str, Callable[[str], None]] = {
            "/": self.page, "/index.html": self.page, "/state": self.live_state, "/events": self.events,
            "/seen": self.seen}
        prefixed: dict[str, Callable[[str], None]] = {
            "/files/": self.output_file, "/written/": self.written_file, "/node/": self.node_preview}
        if path in exact:
            exact[path](query)
            return
        for prefix, route in prefixed.items():
            if path.startswith(prefix):
                route(path[len(prefix):])
                return
        self.refuse(HTTPStatus.NOT_FOUND, "not found")

    def page(self, _query: str) -> None:
        self.reply(PAGE.encode(), "text/html; charset=utf-8",
                   headers={"Content-Security-Policy": PAGE_POLICY})

    def live_state(self, _query: str) -> None:
        state = self.server.state
        data = {**state.snapshot(), "seen": state.seen_copy()}
        self.reply(json.dumps(data).encode(), "application/json")

    def seen(self, query: str) -> None:
        try:
            version = int(parse_qs(query, max_num_fields=4).get("v", ["-1"])[0])
        except ValueError:
            version = -1
        if self.server.state.mark_seen(version):
            self.reply(b"", "text/plain", HTTPStatus.NO_CONTENT)
        else:
            self.refuse(HTTPStatus.BAD_REQUEST, "v must be a version the page was sent")

    def output_file(self, rel: str) -> None:
        root = self.server.root
        target = (root / rel).resolve()
        if target == root or not target.is_relative_to(root):
            self.refuse(HTTPStatus.NOT_FOUND, "not found")
            return
        self.stream(target)

    def written_file(self, rest: str) -> None:
        target = self.server.state.written_file(rest.split("/")[0])
        if target is None:
            self.refuse(HTTPStatus.NOT_FOUND, "not found")
            return
        self.stream(target)

    def stream(self, target: Path) -> None:
        """A regular file, sent from disk in pieces (constant memory at any size)."""
        try:
            fh = open(target, "rb")  # noqa: SIM115 - closed below
        except OSError:
            self.refuse(HTTPStatus.NOT_FOUND, "not found")
            return
        with fh:
            info = os.fstat(fh.fileno())
            if not stat.S_ISREG(info.st_mode):
                self.refuse(HTTPStatus.NOT_FOUND, "not found")
                return
            self.send_response(HTTPStatus.OK)
            ctype = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(info.st_size))
            for name, value in {**SECURITY_HEADERS, "Content-Security-Policy": FILE_POLICY}.items():
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD" and info.st_size:
                self.connection.sendfile(fh, 0, info.st_size)

    def node_preview(self, rest: str) -> None:
        from ..display import thumbnail_png

        run, _, name = rest.partition("/")
        node_id = name.removesuffix(".png")
        try:
            result = self.server.state.results[int(run)]
            outs = result.outputs(node_id)
            spec = result.validated.specs[node_id]
            batch = next(outs[s.name] for s in spec.outputs
                         if getattr(s.type, "name", "") in ("IMAGE", "MASK") and s.name in outs)
            body = thumbnail_png(batch[0], 1024)
        except Exception:  # noqa: BLE001 - a stale or unknown node is just not found
            self.refuse(HTTPStatus.NOT_FOUND, "no preview")
            return
        self.reply(body, "image/png")

    def events(self, _query: str) -> None:
        state = self.server.state
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream")
        for name, value in SECURITY_HEADERS.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command == "HEAD":
            return
        if not self.server.open_stream():
            line = f"{self.server.max_streams} watch pages are open already: close one, then reload this one"
            self.wfile.write(f"retry: 60000\nevent: full\ndata: {json.dumps(line)}\n\n".encode())
            return
        try:
            version = -1
            current: dict[str, Any] | None = state.snapshot()
            while not state.closed:
                if current is not None:
                    version = current["version"]
                    self.wfile.write(f"event: state\ndata: {json.dumps(current)}\n\n".encode())
                else:
                    self.wfile.write(b": keep-alive\n\n")
                self.wfile.flush()
                current = state.wait_newer(version, KEEPALIVE_S)
        finally:
            self.server.close_stream()


class WatchServer(ThreadingHTTPServer):
    """A threaded HTTP server on 127.0.0.1 that counts and caps its connections and streams."""

    daemon_threads = True
    block_on_close = False
    request_queue_size = 64

    def __init__(self, state: LiveState, output_dir: Path, port: int = 0, *,
                 max_connections: int = MAX_CONNECTIONS, max_streams: int = MAX_EVENT_STREAMS):
        self.state = state
        self.root = output_dir.resolve()
        self.max_connections = max_connections
        self.max_streams = max_streams
        self.socket_timeout = SOCKET_TIMEOUT_S
        self.request_deadline = REQUEST_DEADLINE_S
        self._lock = threading.Lock()
        #: open connections: when each started, and whether its request is read yet
        self._open: dict[socket.socket, tuple[float, bool]] = {}
        self._streams = 0
        super().__init__(("127.0.0.1", port), Handler)
        self.hosts = own_hosts(self.server_address[1])

    def refusal(self, headers: Any) -> str | None:
        """Why a request may not be answered (another host name, another site's page), or None."""
        port = self.server_address[1]
        hosts = headers.get_all("Host") or []
        host = hosts[0].strip().lower() if len(hosts) == 1 else ""
        if host not in self.hosts:
            return (f"this server answers only requests to http://127.0.0.1:{port}/ "
                    f"(Host {host[:80] or 'missing'!r} refused)")
        origin = headers.get("Origin")
        if origin is not None and origin.lower() not in {f"http://{h}" for h in self.hosts}:
            return "requests from other sites' pages are refused"
        if headers.get("Sec-Fetch-Site", "").lower() in ("cross-site", "same-site") \
                and headers.get("Sec-Fetch-Mode", "").lower() != "navigate":
            return "requests from other sites' pages are refused"
        return None

    # -- connections ------------------------------------------------------------------------------
    def get_request(self) -> tuple[socket.socket, Any]:
        try:
            return super().get_request()
        except OSError as exc:
            if exc.errno in _OUT_OF_DESCRIPTORS:  # free one for the next try instead of spinning
                self._close_waiting(1)
                time.sleep(ACCEPT_BACKOFF_S)
            raise

    def verify_request(self, request: Any, client_address: Any) -> bool:
        now = time.monotonic()
        with self._lock:
            late = [s for s, (t, read) in self._open.items() if not read and now - t > self.request_deadline]
            self._drop(late)
            if len(self._open) >= self.max_connections:
                self._close_waiting(1, locked=True)
            if len(self._open) >= self.max_connections:
                refused = True
            else:
                refused = False
                self._open[request] = (now, False)
        if refused:
            try:
                request.settimeout(0.5)
                request.sendall(b"HTTP/1.0 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
                                b"Cache-Control: no-store\r\nContent-Length: 32\r\n\r\n"
                                b"too many connections: try again\n")
            except OSError:
                pass
        return not refused

    def still_open(self, request: socket.socket) -> bool:
        with self._lock:
            return request in self._open

    def request_read(self, request: socket.socket) -> bool:
        """Mark the request as read; False when the connection was closed to make room."""
        with self._lock:
            if request not in self._open:
                return False
            self._open[request] = (self._open[request][0], True)
            return True

    def _close_waiting(self, count: int, *, locked: bool = False) -> None:
        """Close the ``count`` connections that have waited longest for their request to arrive."""
        if not locked:
            with self._lock:
                self._close_waiting(count, locked=True)
            return
        waiting = sorted((t, id(s), s) for s, (t, read) in self._open.items() if not read)
        self._drop([s for _, _, s in waiting[:count]])

    def _drop(self, sockets: list[socket.socket]) -> None:
        for s in sockets:
            self._open.pop(s, None)
            try:
                s.shutdown(socket.SHUT_RDWR)  # its thread wakes, finds it closed and ends
            except OSError:
                pass

    def shutdown_request(self, request: Any) -> None:
        """Close a connection; input it left unread (a refused body, an over-long line) is read
        and dropped first, briefly, so the reply is not lost to a reset."""
        with self._lock:
            self._open.pop(request, None)
        try:
            request.shutdown(socket.SHUT_WR)
            deadline = time.monotonic() + LINGER_S
            unread = LINGER_BYTES
            while unread > 0 and select.select([request], [], [], max(0.0, deadline - time.monotonic()))[0]:
                chunk = request.recv(min(unread, 1 << 16))
                if not chunk:
                    break
                unread -= len(chunk)
        except OSError:
            pass
        self.close_request(request)

    def open_stream(self) -> bool:
        with self._lock:
            if self._streams >= self.max_streams:
                return False
            self._streams += 1
            return True

    def close_stream(self) -> None:
        with self._lock:
            self._streams -= 1

    @property
    def connections(self) -> int:
        with self._lock:
            return len(self._open)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """One line on stderr instead of a traceback (requests never raise by design)."""
        exc = sys.exc_info()[1]
        print(f"artflow watch: a request failed: {type(exc).__name__}: {exc}", file=sys.stderr)


def make_server(state: LiveState, output_dir: Path, port: int = 0) -> WatchServer:
    """The watch server bound to 127.0.0.1 (``port`` 0 picks a free one)."""
    return WatchServer(state, output_dir, port)
