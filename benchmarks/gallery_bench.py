"""Gallery benchmarks: throughput on one pinned core vs the defaults, re-render cost, peak memory.

Every figure runs `artflow render` as a person would (a fresh process each time), side by side in
one run, on a style gallery: scikit-image sample photos (512 px) through the shipped
style-transfer models (ONNX Runtime).

- ``items_per_s_1core``: 32 items (4 photos × 4 styles × 2 strengths), ``--workers 1``, one
  inference thread, the render and its worker pinned to one CPU with ``os.sched_setaffinity``;
- ``items_per_s_default``: the same 32 items with default settings (one worker per core, each
  with cores // workers inference threads);
- ``rerender_s_over_first_s``: the same command again on the finished gallery / the first render;
- ``rss_mb_50`` / ``rss_mb_400``: peak resident memory of the whole render (the command and all of
  its workers, summed, sampled from /proc every 50 ms) for 50 items (2 photos × 25 film-grain
  seeds) and 400 items (4 photos × 100 seeds), one style model: only the item count differs
  (each ONNX Runtime session keeps its own memory arena, so memory grows with the number of
  distinct models a worker has loaded, not with items).

On a machine other sessions keep busy, Linux's autogroup scheduling gives this session a fair
share whatever its worker count: read ``cores_used_*`` (CPU seconds / wall seconds) before the
speedup. `python benchmarks/gallery_bench.py [DIR] [--no-memory]` prints the JSON;
`benchmarks/run.py` includes it under "gallery".
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ARTFLOW = str(Path(sys.executable).parent / "artflow")
PHOTOS = ("astronaut", "coffee", "chelsea", "rocket")
STYLES = ("glass", "flow", "halftone", "marble")

STYLE_GRAPH = """
[graph]
artflow = 1
[graph.nodes.photo]
type = "image.load"
[graph.nodes.styled]
type = "style.transfer"
inputs = {{image = "photo"}}
params = {{style = "glass"}}
{extra}
"""

GRAIN = """
[graph.nodes.grain]
type = "filter.grain"
inputs = {image = "styled"}
"""


def write_inputs(folder: Path, size: int, photos: tuple[str, ...] = PHOTOS) -> None:
    """Sample photos from scikit-image (offline), square-cropped and resized to ``size``."""
    from PIL import Image
    from skimage import data

    folder.mkdir(parents=True, exist_ok=True)
    for name in photos:
        img = Image.fromarray(getattr(data, name)()).convert("RGB")
        side = min(img.size)
        left, top = (img.width - side) // 2, (img.height - side) // 2
        img.crop((left, top, left + side, top + side)).resize((size, size), Image.Resampling.LANCZOS) \
            .save(folder / f"{name}.png")


def style_spec(folder: Path, *, photos: int, styles: int = 1, strengths: tuple[float, ...] = (),
               seeds: int = 0, size: int = 512) -> Path:
    """A style gallery spec: photos × styles (× strengths) through style.transfer, or, with
    ``seeds``, × film-grain seeds (the memory benchmark: many items, the styled photo shared)."""
    write_inputs(folder / "inputs", size, PHOTOS[:photos])
    lines = ['title = "style benchmark"', 'save = ["' + ("grain" if seeds else "styled") + '"]', "[matrix]",
             '"photo.path" = {glob = "inputs/*.png"}']
    if styles > 1:
        lines.append('"styled.style" = [' + ", ".join(f'"{s}"' for s in STYLES[:styles]) + "]")
    if strengths:
        lines.append('"styled.strength" = [' + ", ".join(str(v) for v in strengths) + "]")
    if seeds:
        lines.append(f"seed = {{from = 1, to = {seeds}}}")
    path = folder / "spec.toml"
    path.write_text("\n".join(lines) + "\n" + STYLE_GRAPH.format(extra=GRAIN if seeds else ""))
    return path


def _children(pid: int) -> list[int]:
    """Child pids of a process, from /proc/PID/task/*/children (a few reads, not a /proc scan)."""
    kids: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return kids
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children", encoding="ascii") as fh:
                kids += [int(x) for x in fh.read().split()]
        except (OSError, ValueError):
            continue
    return kids


def _tree_stats(root: int) -> dict[int, tuple[int, float]]:
    """{pid: (resident kB, CPU seconds so far)} for a process and all of its descendants,
    whoever their parent is: pool workers forked by a fork server are grandchildren that no one
    waits for, so getrusage(RUSAGE_CHILDREN) would miss them."""
    page_kb = os.sysconf("SC_PAGE_SIZE") // 1024
    tick = os.sysconf("SC_CLK_TCK")
    stats: dict[int, tuple[int, float]] = {}
    todo = [root]
    while todo:
        pid = todo.pop()
        if pid in stats:
            continue
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{pid}/statm", encoding="ascii") as fh:
                pages = int(fh.read().split()[1])
        except (OSError, ValueError, IndexError):
            continue
        # fields after the command: state ppid … utime (index 11) stime (index 12)
        stats[pid] = (pages * page_kb, (int(fields[11]) + int(fields[12])) / tick)
        todo += _children(pid)
    return stats


def run_render(spec: Path, out: Path, *args: str, pin: int | None = None,
               env: dict[str, str] | None = None, sample_rss: bool = False) -> dict[str, Any]:
    """Run `artflow render` in a fresh process: wall seconds, exit code, peak tree RSS (MB)."""
    full_env = dict(os.environ)
    full_env.update(env or {})

    def pin_cpu() -> None:
        if pin is not None:
            os.sched_setaffinity(0, {pin})

    start = time.perf_counter()
    proc = subprocess.Popen([ARTFLOW, "render", str(spec), "-o", str(out), "--no-progress", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=full_env,
                            preexec_fn=pin_cpu if pin is not None else None)
    peak = 0
    cpu_seen: dict[int, float] = {}  # last CPU seconds seen per process of the render's tree
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            tree = _tree_stats(proc.pid)
            if sample_rss:
                peak = max(peak, sum(rss for rss, _ in tree.values()))
            for pid, (_, cpu) in tree.items():
                cpu_seen[pid] = max(cpu, cpu_seen.get(pid, 0.0))
            stop.wait(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = proc.communicate()
    seconds = time.perf_counter() - start
    stop.set()
    sampler.join()
    # CPU of every process of the render (the command, a fork server, its workers), as last seen
    # by the 20 ms sampler: each process's final < 20 ms may be missed, alike on every run
    cpu = sum(cpu_seen.values())
    if proc.returncode != 0:
        raise RuntimeError(f"artflow render failed ({proc.returncode}): {stderr.strip()[-500:]}")
    return {"seconds": seconds, "cpu_s": cpu, "stdout": stdout.strip(), "rss_mb": peak / 1024}


def _same_files(a: Path, b: Path) -> bool:
    names = sorted(p.relative_to(a) for p in (a / "images").iterdir())
    return names == sorted(p.relative_to(b) for p in (b / "images").iterdir()) and all(
        (a / n).read_bytes() == (b / n).read_bytes() for n in names)


def run_gallery_benchmarks(workdir: str | Path | None = None, *, memory: bool = True) -> dict[str, Any]:
    """All gallery figures, measured in this one run (see the module doc); ``memory=False``
    skips the two RSS renders (the slowest part)."""
    with tempfile.TemporaryDirectory(prefix="artflow-gallery-bench-") as tmp:
        root = Path(workdir) if workdir else Path(tmp)
        if workdir:  # start from nothing: every render below must be a first render
            import shutil

            shutil.rmtree(root, ignore_errors=True)
        cores = sorted(os.sched_getaffinity(0))
        # bytecode cached in the bench folder, as an installed package has it (this environment may
        # set PYTHONDONTWRITEBYTECODE, which makes every start-up compile artflow from source)
        cache = {"ARTFLOW_CACHE": str(root / "cache"), "PYTHONPYCACHEPREFIX": str(root / "pycache"),
                 "PYTHONDONTWRITEBYTECODE": ""}

        spec32 = style_spec(root / "style32", photos=4, styles=4, strengths=(0.7, 1.0), size=512)
        run_render(spec32, root / "warmup", "--dry-run", env=cache)  # fills the bytecode cache
        one = run_render(spec32, root / "out_1core", "--workers", "1", pin=cores[0],
                         env={**cache, "ARTFLOW_THREADS": "1"})
        default = run_render(spec32, root / "out_default", env=cache)
        again = run_render(spec32, root / "out_default", env=cache)
        if "32 already done" not in again["stdout"]:
            raise RuntimeError(f"the re-render did not skip the finished items: {again['stdout']}")

        figures: dict[str, Any] = {
            "cores": len(cores),
            "items": 32,
            "items_per_s_1core": round(32 / one["seconds"], 3),
            "items_per_s_default": round(32 / default["seconds"], 3),
            "speedup_default_over_1core": round(one["seconds"] / default["seconds"], 3),
            # CPU seconds spent and the cores used on average (cpu / wall): on a machine other
            # sessions keep busy, Linux's autogroup scheduling gives this session a fair share
            # whatever its worker count, so check "cores_used_default" before reading the speedup
            "cpu_s_1core": round(one["cpu_s"], 2),
            "cpu_s_default": round(default["cpu_s"], 2),
            "cores_used_1core": round(one["cpu_s"] / one["seconds"], 2),
            "cores_used_default": round(default["cpu_s"] / default["seconds"], 2),
            "first_render_s": round(default["seconds"], 3),
            "rerender_s": round(again["seconds"], 3),
            "rerender_s_over_first_s": round(again["seconds"] / default["seconds"], 4),
            "same_files_1core_and_default": _same_files(root / "out_1core", root / "out_default"),
        }
        if memory:
            spec50 = style_spec(root / "rss50", photos=2, seeds=25, size=512)
            spec400 = style_spec(root / "rss400", photos=4, seeds=100, size=512)
            rss50 = run_render(spec50, root / "out50", env=cache, sample_rss=True)
            rss400 = run_render(spec400, root / "out400", env=cache, sample_rss=True)
            figures.update({
                "rss_mb_50": round(rss50["rss_mb"], 1),
                "rss_mb_400": round(rss400["rss_mb"], 1),
                "rss_400_over_50": round(rss400["rss_mb"] / rss50["rss_mb"], 3),
                "seconds_50": round(rss50["seconds"], 2),
                "seconds_400": round(rss400["seconds"], 2),
            })
        return figures


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    result = run_gallery_benchmarks(args[0] if args else None, memory="--no-memory" not in sys.argv)
    print(json.dumps(result, indent=2))
