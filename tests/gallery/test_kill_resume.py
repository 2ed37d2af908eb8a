"""A render killed with SIGKILL at random moments, then resumed, ends byte-identical to an
uninterrupted render, and no partial file is ever visible under a final name."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from PIL import Image

from .conftest import manifest, tree_digest, write_spec

ARTFLOW = str(Path(sys.executable).parent / "artflow")

SPEC = """
title = "killed and resumed"
name = "{colormap}-{seed}"
save = ["look"]
[matrix]
"tint.colormap" = ["magma", "ice", "sunset", "viridis"]
seed = {from = 1, to = 5}
"""

GRAPH = """
[graph]
artflow = 1
[graph.nodes.art]
type = "generate.flow_field"
params = {lines = 2500, steps = 120, width = 256, height = 256}
[graph.nodes.tint]
type = "color.colormap"
inputs = {image = "art"}
[graph.nodes.look]
type = "filter.median"
inputs = {image = "tint"}
params = {size = 7}
"""


def _render(spec: Path, out: Path, cache: Path) -> subprocess.Popen[bytes]:
    # a cache of its own per run: a warm node cache would finish the render between two polls
    env = dict(os.environ, ARTFLOW_CACHE=str(cache))
    return subprocess.Popen([ARTFLOW, "render", str(spec), "-o", str(out), "--workers", "2"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
                            env=env)


def _count_files(out: Path) -> int:
    return sum(1 for folder in ("images", "thumbs") if (out / folder).is_dir()
               for p in (out / folder).iterdir() if not p.name.startswith("."))


def _check_visible_files(out: Path) -> int:
    """Every file under a final name is whole: images decode, the manifest parses."""
    seen = 0
    for folder in ("images", "thumbs"):
        d = out / folder
        if not d.is_dir():
            continue
        for path in d.iterdir():
            if path.name.startswith("."):
                continue  # a temp file, never a final name
            with Image.open(path) as im:
                im.load()
            seen += 1
    for name in ("manifest.json",):
        if (out / name).exists():
            json.loads((out / name).read_text())
    if (out / "index.html").exists():
        assert (out / "index.html").read_text().rstrip().endswith("</html>")
    return seen


def test_sigkill_at_random_moments_then_resume_gives_identical_files(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, SPEC, GRAPH)
    ref = tmp_path / "ref"
    done = subprocess.run([ARTFLOW, "render", str(spec), "-o", str(ref), "--workers", "2"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    expected = tree_digest(ref)

    seed = int(os.environ.get("ARTFLOW_TEST_SEED", time.time_ns() % 100_000))
    rng = random.Random(seed)
    # a few attempts, each in a fresh folder, until one lands a kill in the middle of a render
    for attempt in range(4):
        out = tmp_path / f"out{attempt}"
        total = len(expected) - 3  # images and thumbnails (not the manifest, page and lock file)
        at_kill: list[tuple[int, int]] = []  # (files in place when the run began, at the kill)
        # moments: during start-up, at random points of progress, and after the last file is in place
        plans = [("seconds", rng.uniform(0.2, 1.2))] + [("files", 0.0)] * 3 + [("all", 0.0)]
        for kind, when in plans:
            before = _check_visible_files(out)
            if kind == "files" and total - before < 2:
                kind, when = "seconds", rng.uniform(0.2, 1.0)
            target = {"files": before + rng.randint(1, max(1, total - before - 1)), "all": total}.get(kind)
            proc = _render(spec, out, tmp_path / f"cache-{attempt}-{len(at_kill)}-{kind}")
            deadline = time.monotonic() + (when if kind == "seconds" else 120)
            while time.monotonic() < deadline and proc.poll() is None:
                seen = _count_files(out)
                if target is not None and seen >= target:
                    time.sleep(rng.uniform(0, 0.15))
                    break
                time.sleep(0.02)
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                at_kill.append((before, _check_visible_files(out)))
            proc.wait(timeout=60)
            _check_visible_files(out)
        print(f"seed {seed}: files in place (run start, kill): {at_kill}")
        if len(at_kill) >= 3 and any(0 < n < total for _, n in at_kill):
            break
    # on a starved machine a render can finish between two polls: then try again, afresh
    assert len(at_kill) >= 3, f"the renders finished before the kills (seed {seed})"
    assert any(0 < n < total for _, n in at_kill), f"no kill in the middle of a render (seed {seed})"

    finish = _render(spec, out, tmp_path / "cache-finish")
    _, err = finish.communicate(timeout=300)
    assert finish.returncode == 0, err.decode()
    assert [i["status"] for i in manifest(out)["items"]] == ["ok"] * 20
    got = tree_digest(out)
    assert sorted(got) == sorted(expected), f"seed {seed}"
    assert got == expected, f"seed {seed}"


def _descendants(pid: int) -> set[int]:
    """Every live descendant of a process (from /proc/PID/task/*/children)."""
    found: set[int] = set()
    todo = [pid]
    while todo:
        parent = todo.pop()
        try:
            tasks = os.listdir(f"/proc/{parent}/task")
        except OSError:
            continue
        for tid in tasks:
            try:
                with open(f"/proc/{parent}/task/{tid}/children", encoding="ascii") as fh:
                    kids = {int(x) for x in fh.read().split()}
            except (OSError, ValueError):
                continue
            todo += sorted(kids - found)
            found |= kids
    return found


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_workers_exit_when_only_the_render_process_is_killed(tmp_path: Path) -> None:
    """SIGKILL to the render alone (not its process group) leaves no worker behind."""
    if not os.path.exists(f"/proc/{os.getpid()}/task/{os.getpid()}/children"):
        import pytest

        pytest.skip("needs /proc/PID/task/TID/children (Linux)")
    spec = write_spec(tmp_path, SPEC, GRAPH)
    out = tmp_path / "out"
    proc = _render(spec, out, tmp_path / "cache")
    workers: set[int] = set()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None and _count_files(out) < 2:
        workers |= _descendants(proc.pid)
        time.sleep(0.02)
    workers |= _descendants(proc.pid)
    assert proc.poll() is None, "the render finished before it could be killed"
    assert len(workers) >= 2, f"expected worker processes, found {sorted(workers)}"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(_alive(p) for p in workers):
        time.sleep(0.1)
    left = sorted(p for p in workers if _alive(p))
    for pid in left:  # do not leave them running after a failure either
        os.kill(pid, signal.SIGKILL)
    assert not left, f"processes outlived the killed render: {left}"
