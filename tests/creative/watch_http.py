"""Talking to a live watch server on 127.0.0.1 the way a hostile client would: raw requests with
any method, path and headers; servers started in this process or as `artflow watch`."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from artflow.watch.server import LiveState, make_server

ARTFLOW = str(Path(sys.executable).parent / "artflow")


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def raw_request(port: int, data: bytes, timeout: float = 10.0) -> bytes:
    """Send ``data`` and read until the server closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        chunks = []
        while True:
            chunk = s.recv(1 << 16)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)


def parse_reply(raw: bytes) -> Reply:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1]) if lines and len(lines[0].split()) > 1 else 0
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Reply(status, headers, body)


def request(port: int, path: str, *, method: str = "GET", host: str | None = None,
            headers: dict[str, str] | None = None, timeout: float = 10.0) -> Reply:
    """One HTTP/1.1 request; ``host`` defaults to the server's own address ("" sends none)."""
    host = f"127.0.0.1:{port}" if host is None else host
    lines = [f"{method} {path} HTTP/1.1"]
    if host:
        lines.append(f"Host: {host}")
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    lines.append("Connection: close")
    return parse_reply(raw_request(port, ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8", "surrogateescape"),
                                   timeout))


class LiveServer:
    """A watch server serving ``out`` from a thread of this process (no graph runs)."""

    def __init__(self, out: Path, **limits: Any):
        out.mkdir(parents=True, exist_ok=True)
        self.state = LiveState()
        self.server = make_server(self.state, out, 0)
        for name, value in limits.items():  # max_connections, max_streams, socket_timeout
            setattr(self.server, name, value)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.state.close()
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> LiveServer:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class WatchProcess:
    """`artflow watch TARGET --port 0 --no-browser` in its own process."""

    def __init__(self, target: Path, *args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
                 preexec_fn: Any = None):
        self.proc = subprocess.Popen([ARTFLOW, "watch", str(target), "--port", "0", "--no-browser", *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     cwd=cwd or target.parent, env={**os.environ, **(env or {})},
                                     preexec_fn=preexec_fn)
        line = self.proc.stdout.readline() if self.proc.stdout else ""
        assert "http://127.0.0.1:" in line, line + (self.proc.stderr.read() if self.proc.stderr else "")
        self.url = next(w for w in line.split() if w.startswith("http://127.0.0.1:"))
        self.port = int(self.url.rstrip("/").rsplit(":", 1)[1])

    def wait_done(self, timeout: float = 60.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            state = request(self.port, "/state").json()
            if state["phase"] in ("done", "error"):
                return state
            assert time.monotonic() < deadline, state
            time.sleep(0.05)

    def status(self, name: str) -> int:
        """A number from /proc/PID/status in KiB (VmRSS, VmHWM) or a count (Threads)."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith(name + ":"):
                return int(line.split()[1])
        raise KeyError(name)

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> tuple[int, str, str]:
        self.proc.send_signal(signal.SIGINT)
        out, err = self.proc.communicate(timeout=20)
        return self.proc.returncode, out, err
