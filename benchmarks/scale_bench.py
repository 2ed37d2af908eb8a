"""Gallery scale: 10,000 items of a trivial graph (64² gradient → saved) on the local pool and on
a two-raylet local Ray cluster; driver peak RSS at 10,000 vs 1,000 items; --dry-run at 100,000;
re-rendering a finished 10,000-item gallery; throughput with 1 and 2 workers.

    python benchmarks/scale_bench.py --json            # everything (~10 min on 2 shared cores)
    python benchmarks/scale_bench.py --json --no-ray   # the local figures only

Each render runs as `artflow render` in a subprocess whose own peak RSS (VmHWM: the driver only,
not its workers) is read at exit. Overhead per item = the item's time in its worker minus its
nodes' own time (manifest fields ``seconds`` and ``node_seconds``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPEC = """title = "scale {n}"
name = "g-{{seed}}"
save = ["art"]
[matrix]
seed = {{from = 1, to = {n}}}
[thumbnails]
size = 64
[graph]
artflow = 1
[graph.nodes.art]
type = "generate.gradient"
params = {{width = 64, height = 64}}
"""

#: runs the CLI and prints the process's own peak RSS (kB) to stderr at exit
DRIVER = ("import atexit, resource, sys\n"
          "def hwm():\n"
          "    use = resource.getrusage(resource.RUSAGE_SELF)\n"
          "    print('DRIVER_CPU_S', use.ru_utime + use.ru_stime, file=sys.stderr)\n"
          "    for line in open('/proc/self/status'):\n"
          "        if line.startswith('VmHWM:'):\n"
          "            print('DRIVER_PEAK_KB', line.split()[1], file=sys.stderr)\n"
          "atexit.register(hwm)\n"
          "from artflow.cli import main\n"
          "sys.argv = ['artflow'] + sys.argv[1:]\n"
          "main()\n")


def spec_file(folder: Path, n: int) -> Path:
    path = folder / f"scale-{n}.toml"
    path.write_text(SPEC.format(n=n))
    return path


def run_cli(args: list[str], env: dict[str, str] | None = None) -> dict:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", DRIVER, *args], capture_output=True, text=True,
                          env=env or os.environ.copy(), timeout=3600)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"artflow {' '.join(args)} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    peak = next((int(line.split()[1]) for line in proc.stderr.splitlines()
                 if line.startswith("DRIVER_PEAK_KB")), 0)
    cpu = next((float(line.split()[1]) for line in proc.stderr.splitlines()
                if line.startswith("DRIVER_CPU_S")), 0.0)
    return {"wall_s": round(wall, 3), "driver_peak_mb": round(peak / 1024, 1), "driver_cpu_s": round(cpu, 2),
            "summary": proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""}


def overhead(out: Path) -> dict:
    """Per item: its time in the worker, its nodes' own time, the difference (means, ms)."""
    item, nodes = [], []
    with open(out / "manifest.jsonl", encoding="utf-8") as fh:
        next(fh)
        for line in fh:
            record = json.loads(line)
            if record.get("seconds") is not None and record.get("node_seconds") is not None:
                item.append(record["seconds"])
                nodes.append(record["node_seconds"])
    mean = statistics.fmean
    return {"item_ms": round(1e3 * mean(item), 3), "nodes_ms": round(1e3 * mean(nodes), 3),
            "overhead_ms": round(1e3 * (mean(item) - mean(nodes)), 3),
            "bytes_per_item": round(sum(p.stat().st_size for d in ("images", "thumbs")
                                        for p in (out / d).iterdir()) / max(1, len(item)))}


def ratio(runs: dict) -> float:
    """Driver peak RSS of the big render over the small one's."""
    return round(runs["big"]["driver_peak_mb"] / runs["small"]["driver_peak_mb"], 3)


def render(spec: Path, out: Path, *extra: str, env: dict[str, str] | None = None) -> dict:
    result = run_cli(["render", str(spec), "-o", str(out), *extra], env)
    n = int(result["summary"].split(" items")[0])
    result["items"] = n
    result["items_per_s"] = round(n / result["wall_s"], 1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--dry-items", type=int, default=100_000)
    parser.add_argument("--sweep-items", type=int, default=2_000)
    parser.add_argument("--no-ray", action="store_true", help="skip the Ray cluster figures")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    report: dict = {"machine": f"{platform.machine()}, {cores} cores (shared: timings are noisy)",
                    "graph": "generate.gradient 64x64, saved as PNG + 64px JPEG thumbnail"}
    with tempfile.TemporaryDirectory(prefix="scale-bench-") as tmp:
        folder = Path(tmp)
        big, small = spec_file(folder, args.items), spec_file(folder, args.small)
        local = {}
        local["small"] = render(small, folder / "local-small")
        local["big"] = render(big, folder / "local-big")
        local["big"].update(overhead(folder / "local-big"))
        local["rss_ratio_big_vs_small"] = ratio(local)
        again = run_cli(["render", str(big), "-o", str(folder / "local-big")])
        local["rerender_finished_s"] = again["wall_s"]
        report["local"] = local
        dry = spec_file(folder, args.dry_items)
        result = run_cli(["render", str(dry), "-o", str(folder / "dry"), "--dry-run"])
        report["dry_run"] = {"items": args.dry_items, "wall_s": result["wall_s"],
                             "ms_per_item": round(1e3 * result["wall_s"] / args.dry_items, 4)}
        sweep = spec_file(folder, args.sweep_items)
        report["workers"] = {str(w): render(sweep, folder / f"sweep-{w}", "--workers", str(w))["items_per_s"]
                             for w in (1, 2)}
        if not args.no_ray:
            report["ray_cluster"] = ray_figures(big, small, folder)
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        for key, value in report.items():
            print(f"{key}: {value}")


def ray_figures(big: Path, small: Path, folder: Path) -> dict:
    """The same renders through --ray-address on a head + worker raylet started here."""
    sys.path.insert(0, str(ROOT))
    from tests.gallery.ray_cluster import make_cluster

    cluster = make_cluster()
    try:
        for start in (cluster.start_head, cluster.start_worker):
            proc = start()
            if proc.returncode != 0:
                return {"error": "could not start the cluster: " + (proc.stderr or proc.stdout)[-500:]}
        extra = ["--backend", "ray", "--ray-address", cluster.address, "--workers", "2"]
        out: dict = {"raylets": 2, "actors": 2}
        out["small"] = render(small, folder / "ray-small", *extra, env=cluster.env)
        out["big"] = render(big, folder / "ray-big", *extra, env=cluster.env)
        out["big"].update(overhead(folder / "ray-big"))
        out["rss_ratio_big_vs_small"] = ratio(out)
        return out
    finally:
        cluster.stop()
        import shutil

        shutil.rmtree(cluster.root, ignore_errors=True)


if __name__ == "__main__":
    main()
