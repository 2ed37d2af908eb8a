"""`artflow watch` benchmark: from a saved edit to the updated image shown in a real browser.

A 10-node graph runs under `artflow watch` (a separate process) with headless Chromium showing
the live page. Each edit changes one param of one node and is saved the way editors save (write
a temp file, rename). The page reports when it has loaded the new image (`/seen?v=N`, after the
image's load event); the edit-to-image time is that moment minus the save. Scenarios: the changed
node is a leaf the page previews (nothing else should run), and the same graph with an
image.save after it (the changed node and the save run).

    python benchmarks/watch_bench.py [--edits 5] [--size 1024]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ARTFLOW = str(Path(sys.executable).parent / "artflow")
CHROMIUM = shutil.which("chromium")


def ten_nodes(size: int, saved: bool) -> dict[str, Any]:
    """Ten nodes: a noise chain and a mosaic chain meeting in a blend; `tone` is the one edited
    (plus an image.save of it when ``saved``)."""
    nodes: dict[str, Any] = {
        "noise": {"type": "generate.noise", "params": {"width": size, "height": size, "kind": "fbm",
                                                       "octaves": 6, "color": "rgb"}},
        "blur": {"type": "filter.blur", "inputs": {"image": "noise"}, "params": {"radius": 4}},
        "glow": {"type": "filter.glow", "inputs": {"image": "blur"}},
        "mosaic": {"type": "generate.voronoi", "params": {"width": size, "height": size, "cells": 80}},
        "edges": {"type": "filter.edges", "inputs": {"image": "mosaic"}},
        "ink": {"type": "color.colormap", "inputs": {"image": "edges"}, "params": {"colormap": "magma"}},
        "mix": {"type": "composite.blend", "inputs": {"base": "glow", "top": "ink"},
                "params": {"mode": "screen", "opacity": 0.7}},
        "corners": {"type": "filter.vignette", "inputs": {"image": "mix"}},
        "grain": {"type": "filter.grain", "inputs": {"image": "corners"}},
        "tone": {"type": "color.adjust", "inputs": {"image": "grain"}, "params": {"gamma": 1.0}},
    }
    if saved:
        nodes["save"] = {"type": "image.save", "inputs": {"image": "tone"}, "params": {"path": "bench.png"}}
    return {"artflow": 1, "seed": 5, "nodes": nodes}


def _state(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url + "state", timeout=10) as r:
        return json.load(r)


def _wait(url: str, test: Any, timeout: float = 60.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        s = _state(url)
        if test(s):
            return s
        time.sleep(0.01)
    raise TimeoutError(f"watch did not reach the expected state: {s}")


def scenario(size: int, edits: int, saved: bool, folder: Path) -> dict[str, Any]:
    folder.mkdir(parents=True)
    graph = folder / "bench.json"
    data = ten_nodes(size, saved)
    graph.write_text(json.dumps(data))
    proc = subprocess.Popen([ARTFLOW, "watch", str(graph), "-o", str(folder / "out"), "--port", "0",
                             "--no-browser"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "ARTFLOW_CACHE": str(folder / "cache")})
    line = proc.stdout.readline() if proc.stdout else ""
    url = next(w for w in line.split() if w.startswith("http://127.0.0.1:"))
    browser = None
    try:
        first = _wait(url, lambda s: s["phase"] == "done")
        if CHROMIUM:
            browser = subprocess.Popen([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                                        "--no-first-run", f"--user-data-dir={folder / 'profile'}", url],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            _wait(url, lambda s: str(first["version"]) in s["seen"])
        rows = []
        for i in range(edits):
            before = _state(url)["version"]
            data["nodes"]["tone"]["params"]["gamma"] = round(1.02 + 0.03 * i, 3)
            tmp = graph.with_suffix(".tmp~")
            tmp.write_text(json.dumps(data))
            saved_at = time.time()
            os.replace(tmp, graph)
            done = _wait(url, lambda s, b=before: s["phase"] in ("done", "error") and s["version"] > b)
            row: dict[str, Any] = {
                "ran": [n["id"] for n in done["nodes"] if n["status"] == "ran"],
                "changed_node_s": next(n["seconds"] for n in done["nodes"] if n["id"] == "tone"),
                "seen_by_watcher_s": round(done["changed_at"] - saved_at, 4),
                "run_done_s": round(done["done_at"] - saved_at, 4),
            }
            if browser is not None:
                v = str(done["version"])
                seen = _wait(url, lambda s, v=v: v in s["seen"])["seen"][v]
                row["image_in_page_s"] = round(seen - saved_at, 4)
            rows.append(row)
            time.sleep(0.3)
    finally:
        if browser is not None:
            browser.terminate()
            browser.wait(timeout=10)
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=20)
    key = "image_in_page_s" if browser is not None else "run_done_s"
    times = [r[key] for r in rows]
    return {
        "nodes": len(data["nodes"]),
        "ran_per_edit": sorted({tuple(r["ran"]) for r in rows}),
        "changed_node_s_median": statistics.median(r["changed_node_s"] for r in rows),
        "edit_to_image_s_median": statistics.median(times),
        "edit_to_image_s_max": max(times),
        "measured_in": "chromium page (image load event)" if browser is not None else "server (run done)",
        "edits": rows,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--edits", type=int, default=5)
    ap.add_argument("--size", type=int, default=1024)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="artflow-watch-bench-") as tmp:
        out = {
            "size": args.size,
            "preview_leaf": scenario(args.size, args.edits, False, Path(tmp) / "leaf"),
            "saved": scenario(args.size, args.edits, True, Path(tmp) / "saved"),
        }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
