"""A real two-raylet Ray cluster on this machine for the tests: `ray start --head` and a second
`ray start --address` worker raylet, each with its own temp dir and ports on 127.0.0.1, with
Ray's token authentication (a fresh token file, RAY_AUTH_MODE=token), stopped by PID.

Every process of the cluster carries the cluster's temp dir in its command line (or descends
from one that does), so stopping it never touches another Ray on the machine.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

RAY = str(Path(sys.executable).parent / "ray")
#: the GCS declares a silent raylet dead after about 2 s (defaults: 5 × 3 s), so a test of a
#: killed node does not wait long
SYSTEM_CONFIG = '{"health_check_period_ms":500,"health_check_failure_threshold":4}'


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ports(*names: str) -> list[str]:
    out = []
    for name in names:
        out += [f"--{name}", str(free_port())]
    return out


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _parent(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            return int(fh.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return 0


def processes_under(marker: str) -> list[int]:
    """PIDs whose command line names ``marker`` (the cluster's temp dir), and their descendants."""
    pids = [int(p) for p in os.listdir("/proc") if p.isdigit()]
    roots = {pid for pid in pids if marker in _cmdline(pid)}
    found = set(roots)
    for pid in pids:
        ancestor, hops = _parent(pid), 0
        while ancestor > 1 and hops < 64:
            if ancestor in roots:
                found.add(pid)
                break
            ancestor, hops = _parent(ancestor), hops + 1
    found.discard(os.getpid())
    return sorted(found)


@dataclass
class RayCluster:
    """A head and one worker raylet; ``env`` is what a driver needs to join (the token)."""

    root: Path
    address: str = ""
    env: dict[str, str] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)

    @property
    def worker_dir(self) -> str:
        return str(self.root / "worker")

    def _run(self, args: list[str]) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run([RAY, "start", *args], capture_output=True, text=True, env=self.env,
                              timeout=180)
        self.log.append(proc.stdout[-3000:] + proc.stderr[-3000:])
        return proc

    def start_head(self) -> subprocess.CompletedProcess[str]:
        port = free_port()
        self.address = f"127.0.0.1:{port}"
        return self._run([
            "--head", "--node-ip-address", "127.0.0.1", "--port", str(port), "--num-cpus", "1",
            "--temp-dir", str(self.root / "head"), "--include-dashboard", "false",
            "--disable-usage-stats", "--object-store-memory", str(80 * 2**20),
            "--system-config", SYSTEM_CONFIG,
            *_ports("node-manager-port", "object-manager-port", "ray-client-server-port",
                    "dashboard-port", "dashboard-agent-listen-port", "dashboard-agent-grpc-port",
                    "runtime-env-agent-port", "metrics-export-port"),
            "--min-worker-port", "0", "--max-worker-port", "0",
        ])

    def start_worker(self) -> subprocess.CompletedProcess[str]:
        return self._run([
            "--address", self.address, "--node-ip-address", "127.0.0.1", "--num-cpus", "1",
            "--temp-dir", self.worker_dir, "--object-store-memory", str(80 * 2**20),
            *_ports("node-manager-port", "object-manager-port", "dashboard-agent-listen-port",
                    "dashboard-agent-grpc-port", "runtime-env-agent-port", "metrics-export-port"),
            "--min-worker-port", "0", "--max-worker-port", "0",
        ])

    def worker_raylet(self) -> tuple[int, str] | None:
        """(PID, node id) of the worker node's raylet, if it runs."""
        for pid in processes_under(self.worker_dir):
            cmd = _cmdline(pid)
            if "/raylet/raylet " in cmd and f"--temp_dir={self.worker_dir}" in cmd:
                node = cmd.split("--node_id=", 1)[1].split()[0]
                return pid, node
        return None

    def head_node(self) -> str:
        for pid in processes_under(str(self.root / "head")):
            cmd = _cmdline(pid)
            if "/raylet/raylet " in cmd and "--node_id=" in cmd:
                return cmd.split("--node_id=", 1)[1].split()[0]
        return ""

    def stop(self) -> None:
        """SIGTERM every process of the cluster, then SIGKILL what is left after a few seconds."""
        for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 2.0)):
            pids = processes_under(str(self.root))
            for pid in pids:
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
            deadline = time.monotonic() + wait
            while pids and time.monotonic() < deadline:
                pids = [p for p in pids if os.path.exists(f"/proc/{p}") and _state(p) != "Z"]
                time.sleep(0.1)


def _state(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "Z"


def make_cluster() -> RayCluster:
    """A fresh token and temp dir (short: Ray's socket paths must fit in 107 bytes)."""
    root = Path(tempfile.mkdtemp(prefix="afray-", dir="/tmp"))
    token = root / "token"
    token.write_text(secrets.token_hex(32))
    token.chmod(0o600)
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    env.update(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN_PATH=str(token), RAY_USAGE_STATS_ENABLED="0")
    return RayCluster(root, env=env)
