"""`artflow render --backend ray --ray-address` on a real two-raylet Ray cluster (started with
`ray start`, token authentication, see ray_cluster.py): the driver joins with the cluster's
token, items render on both raylets, their files travel back to the driver (which writes
them), and a worker raylet killed mid-render costs no item, no duplicate and no orphan file."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from artflow.gallery.manifest import MANIFEST

from .conftest import manifest, tree_digest, write_spec

ARTFLOW = str(Path(sys.executable).parent / "artflow")
pytestmark = pytest.mark.slow

SPEC = """
title = "on a cluster"
name = "{colormap}-{seed}"
save = ["look"]
[matrix]
"look.colormap" = ["magma", "ice"]
seed = {from = 1, to = %d}
[captions]
template = "{colormap} {seed}"
"""

GRAPH = """
[graph]
artflow = 1
[graph.nodes.art]
type = "generate.flow_field"
params = {lines = %d, steps = 60, width = 96, height = 96}
[graph.nodes.look]
type = "color.colormap"
inputs = {image = "art"}
"""


def _command(cluster, spec: Path, out: Path) -> list[str]:
    return [ARTFLOW, "render", str(spec), "-o", str(out), "--backend", "ray", "--ray-address",
            cluster.address, "--workers", "2"]


def _files(out: Path) -> list[str]:
    return sorted(p.relative_to(out).as_posix() for d in ("images", "thumbs") if (out / d).is_dir()
                  for p in (out / d).iterdir())


def _records(out: Path) -> list[dict]:
    try:
        lines = (out / MANIFEST).read_text().splitlines()[1:]
    except OSError:
        return []
    out_records = []
    for line in lines:
        try:
            out_records.append(json.loads(line))
        except ValueError:
            pass  # the line being written
    return out_records


def test_cluster_render_joins_with_the_token_and_renders_on_both_raylets(tmp_path: Path, ray_cluster) -> None:
    # enough work that the second actor (a fresh Python process importing artflow) gets some
    spec = write_spec(tmp_path, SPEC % 15, GRAPH % 1000)
    out = tmp_path / "cluster"
    proc = subprocess.run(_command(ray_cluster, spec, out), env=ray_cluster.env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "30 items: 30 rendered" in proc.stdout and "files written by the driver" in proc.stdout
    items = manifest(out)["items"]
    assert [i["status"] for i in items] == ["ok"] * 30
    worker = ray_cluster.worker_raylet()[1]
    nodes = {i["node"] for i in items}
    assert nodes == {ray_cluster.head_node()[:12], worker[:12]}, nodes  # both raylets rendered
    # every listed file is in the driver's folder, nothing else, no temp file
    assert _files(out) == sorted(f for i in items for f in i["files"])
    # the same bytes as a render on this machine (apart from timings and where items ran)
    local = tmp_path / "local"
    assert subprocess.run([ARTFLOW, "render", str(spec), "-o", str(local), "--workers", "0"],
                          capture_output=True, timeout=300).returncode == 0
    assert tree_digest(out) == tree_digest(local)


def test_cluster_join_without_the_token_fails_with_one_line(tmp_path: Path, ray_cluster) -> None:
    spec = write_spec(tmp_path, SPEC % 1, GRAPH % 100)
    env = {k: v for k, v in ray_cluster.env.items() if not k.startswith("RAY_AUTH")}
    env["HOME"] = str(tmp_path / "home")  # no ~/.ray/auth_token either
    proc = subprocess.run(_command(ray_cluster, spec, tmp_path / "out"), env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 2
    ours = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(ours) == 1 and "cannot start or join Ray at 127.0.0.1:" in ours[0]
    assert "RAY_AUTH_TOKEN_PATH" in ours[0]  # says what to give
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "out" / "images").exists()


def test_cluster_worker_raylet_killed_mid_render_every_item_once(tmp_path: Path, ray_cluster) -> None:
    """Runs last: the worker raylet stays dead (the head finishes the render alone)."""
    # long enough that the manifest (logged every 2 s) shows the worker's first record well
    # before the end, on a quiet machine too (60 items could finish inside one log interval)
    total = 2 * 100
    spec = write_spec(tmp_path, SPEC % 100, GRAPH % 2000)
    out = tmp_path / "out"
    pid, node = ray_cluster.worker_raylet()
    proc = subprocess.Popen(_command(ray_cluster, spec, out), env=ray_cluster.env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    killed_at = None
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None:
        records = _records(out)
        if any(r.get("node") == node[:12] for r in records):  # (records are logged every 2 s)
            os.kill(pid, signal.SIGKILL)  # the node dies: its raylet, and with it its actor
            killed_at = len(records)
            break
        time.sleep(0.05)
    stdout, stderr = proc.communicate(timeout=300)
    assert killed_at is not None and killed_at < total - 4, f"no kill mid-render ({killed_at})"
    assert proc.returncode == 0, stderr[-3000:]
    assert f"{total} items: {total} rendered" in stdout
    items = manifest(out)["items"]
    assert [i["status"] for i in items] == ["ok"] * total
    assert len((out / MANIFEST).read_text().splitlines()) == 1 + total  # one record per item
    retried = [i["name"] for i in items if i.get("retried")]
    assert retried, "the items the dead node had in hand are marked as retried"
    assert all(i["node"] != node[:12] for i in items if i.get("retried"))
    # no duplicate and no orphan: exactly the listed files, no temp file left
    assert _files(out) == sorted(f for i in items for f in i["files"])
    assert len(_files(out)) == 2 * total
