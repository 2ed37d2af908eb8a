"""The Ray Data backend: the same files as the local backend; a killed actor loses no item."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from artflow.gallery.renderer import render

from .conftest import manifest, tree_digest, write_spec

pytest.importorskip("ray")

SPEC = """
title = "ray"
name = "{colormap}-{seed}"
save = ["look"]
[matrix]
"look.colormap" = ["magma", "ice"]
seed = {from = 1, to = %d}
[captions]
template = "{colormap} {seed}"
"""


def _parent(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            return int(fh.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return 0


def _actor_pids() -> list[int]:
    """This test session's Ray Data render actors (descendants of this process; their process
    title names the class), so a concurrent test run elsewhere on the machine is left alone."""
    me = os.getpid()
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as fh:
                cmd = fh.read()
        except OSError:
            continue
        if b"RayRenderer" not in cmd:
            continue
        pid = int(entry)
        ancestor = pid
        while ancestor > 1 and ancestor != me:
            ancestor = _parent(ancestor)
        if ancestor == me:
            pids.append(pid)
    return pids


def test_ray_backend_renders_files_identical_to_the_local_backend(tmp_path: Path, ray_session) -> None:
    spec = write_spec(tmp_path, SPEC % 3)
    local = render(spec, tmp_path / "local", workers=2)
    ray = render(spec, tmp_path / "ray", backend="ray", workers=2)
    assert (local.ok, ray.ok, ray.failed) == (6, 6, 0)
    assert "ray" in ray.backend
    assert tree_digest(tmp_path / "ray") == tree_digest(tmp_path / "local")
    # resume works across backends: nothing left to do
    assert render(spec, tmp_path / "ray", workers=2).skipped == 6


def test_a_ray_worker_killed_mid_run_loses_no_item(tmp_path: Path, ray_session) -> None:
    graph = """
    [graph]
    artflow = 1
    [graph.nodes.art]
    type = "generate.flow_field"
    params = {lines = 1500, steps = 80, width = 160, height = 160}
    [graph.nodes.look]
    type = "color.colormap"
    inputs = {image = "art"}
    """
    spec = write_spec(tmp_path, SPEC % 8, graph)
    out = tmp_path / "ray"
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["summary"] = render(spec, out, backend="ray", workers=2)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            outcome["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    killed = None
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and thread.is_alive():
        images = out / "images"
        done = len(list(images.glob("*.png"))) if images.is_dir() else 0
        pids = _actor_pids()
        if done >= 2 and pids:
            killed = (pids[0], done)
            os.kill(pids[0], signal.SIGKILL)
            break
        time.sleep(0.05)
    thread.join(timeout=300)
    assert "error" not in outcome, outcome.get("error")
    assert killed is not None and killed[1] < 16, f"no actor was killed mid-run ({killed})"
    summary = outcome["summary"]
    assert (summary.ok, summary.failed) == (16, 0)  # type: ignore[attr-defined]
    items = manifest(out)["items"]
    assert [i["status"] for i in items] == ["ok"] * 16
    reference = render(spec, tmp_path / "local", workers=0)
    assert reference.ok == 16
    assert tree_digest(out) == tree_digest(tmp_path / "local")
