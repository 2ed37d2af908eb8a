"""Gallery test helpers: small specs built from core nodes, tree digests, one Ray per session."""

from __future__ import annotations

import hashlib
import json
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from artflow.gallery.manifest import MANIFEST, without_volatile

#: a graph that is quick but not instant: flow-field strokes through a colour map
FLOW_GRAPH = """
[graph]
artflow = 1
seed = 0
[graph.nodes.art]
type = "generate.flow_field"
params = {lines = 500, steps = 60, width = 112, height = 112}
[graph.nodes.look]
type = "color.colormap"
inputs = {image = "art"}
"""


def write_spec(folder: Path, body: str, graph: str = FLOW_GRAPH, name: str = "spec.toml") -> Path:
    """Write a spec (top-level keys first, then the graph and the other tables)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(body).lstrip() + "\n" + textwrap.dedent(graph))
    return path


def write_png(path: Path, color: tuple[int, int, int], size: int = 24) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((size, size, 3), color, np.uint8)).save(path)
    return path


def tree_digest(out: Path) -> dict[str, str]:
    """sha256 of every file under ``out`` (the manifest with its timing fields removed)."""
    digests = {}
    for path in sorted(out.rglob("*")):
        if not path.is_file():
            continue
        rel = path.relative_to(out).as_posix()
        data = path.read_bytes()
        if rel == MANIFEST:
            lines = [json.loads(line) for line in data.decode().splitlines()]
            data = json.dumps(without_volatile(lines), sort_keys=True).encode()
        digests[rel] = hashlib.sha256(data).hexdigest()
    return digests


def page_rows(out: Path) -> list[list[Any]]:
    """The rows of the page's part files (index/part-*.js), in order."""
    rows: list[list[Any]] = []
    for part in sorted((out / "index").glob("part-*.js")):
        text = part.read_text(encoding="utf-8")
        assert text.startswith("artflowPart(") and text.rstrip().endswith(");")
        rows += json.loads(text.split(",", 1)[1].rstrip().removesuffix(");"))
    return rows


def manifest(out: Path) -> dict[str, Any]:
    """The manifest's header with its records as "items" (newest per key, in order) and "counts"."""
    from artflow.gallery.manifest import iter_records, read_header

    data = dict(read_header(out) or {})
    data["items"] = sorted(iter_records(out), key=lambda r: r["index"])
    counts: dict[str, int] = {}
    for item in data["items"]:
        counts[item["status"]] = counts.get(item["status"], 0) + 1
    data["counts"] = dict(sorted(counts.items()))
    return data


@pytest.fixture(scope="session")
def ray_session():
    """One local Ray (2 CPUs) for the whole test session; the renderer reuses it."""
    ray = pytest.importorskip("ray")
    import logging

    if not ray.is_initialized():
        ray.init(num_cpus=2, include_dashboard=False, logging_level=logging.WARNING,
                 log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def ray_cluster():
    """A real two-raylet Ray cluster (head + worker, token authentication). Only test_cluster.py
    uses it, so there is one per test session, stopped as soon as that module is done."""
    pytest.importorskip("ray")
    from .ray_cluster import make_cluster

    cluster = make_cluster()
    try:
        head = cluster.start_head()
        if head.returncode != 0:
            pytest.skip("`ray start --head` failed here: " + _last_line(head.stderr or head.stdout))
        worker = cluster.start_worker()
        if worker.returncode != 0 or cluster.worker_raylet() is None:
            pytest.skip("a second raylet (`ray start --address`) could not start here: "
                        + _last_line(worker.stderr or worker.stdout))
        yield cluster
    finally:
        cluster.stop()
        import shutil

        shutil.rmtree(cluster.root, ignore_errors=True)


def _last_line(text: str) -> str:
    lines = [line for line in (text or "").splitlines() if line.strip()]
    return lines[-1][:300] if lines else "no output"
