"""What every fuzz case checks: `artflow ARGS` run in this process through the real entry point
exits 0 or 2, never prints a traceback, writes nothing outside its -o folder (nor the cache), and
keeps the process's peak memory bounded.

Two profiles per fuzz test: ``fixed`` (derandomized: the same cases on every run) and
``rotating`` (a new seed each run, printed; ``ARTFLOW_FUZZ_SEED=N`` replays one). The totals are
printed at the end of the session.
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, seed, settings

from ..faults.inproc import CliResult, chdir, run_cli

#: the memory budget the fuzz runs under (refuses over-budget plans with exit 2)
BUDGET_MB = 512
#: memory a case may use beyond the budget: ONNX Runtime sessions, library arenas
SLACK_MB = 384
#: the work limit (units of ARTFLOW_MAX_WORK, e.g. flow-field strokes x steps): about 2 s of work
WORK_LIMIT = 20_000_000
#: absolute paths the generated graphs try to write to (strategies.SAVE_PATHS)
ABSOLUTE_TARGETS = [Path("/tmp/artflow-fuzz-escape.png")]


@dataclass
class Stats:
    """Fuzz figures for the session summary."""

    cases: dict[str, int] = field(default_factory=dict)
    codes: dict[int, int] = field(default_factory=dict)
    seconds: float = 0.0
    rss_start_mb: float = 0.0
    rss_peak_mb: float = 0.0
    worst_growth_mb: float = 0.0
    worst_case: str = ""
    #: the input of the worst case (graph JSON or spec TOML), for replaying it by hand
    worst_input: str = ""
    slowest_seconds: float = 0.0
    slowest_input: str = ""
    seeds: dict[str, int] = field(default_factory=dict)
    #: how cases ended, by kind and the first error line's shape (ARTFLOW_FUZZ_REPORT=1 prints it)
    endings: dict[tuple[str, int, str], int] = field(default_factory=dict)


STATS = Stats()


def peak_rss_mb() -> float:
    """This process's peak resident memory so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _status_mb(field_name: str) -> float | None:
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(field_name + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def reset_peak() -> float | None:
    """Reset the kernel's peak-RSS mark (VmHWM) so the next case's peak is its own; return the
    resident memory now (None where /proc does not allow it)."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")
    except OSError:
        return None
    return _status_mb("VmRSS")


def profile(mode: str, examples: int, name: str) -> Callable[[Any], Any]:
    """Hypothesis settings for one profile: derandomized ('fixed') or a fresh seed ('rotating')."""
    base = settings(max_examples=examples, deadline=None, database=None, derandomize=mode == "fixed",
                    suppress_health_check=list(HealthCheck), print_blob=True)

    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        fn = base(fn)
        if mode == "rotating":
            value = int(os.environ.get("ARTFLOW_FUZZ_SEED") or time.time_ns() % 2**32)
            STATS.seeds[name] = value
            fn = seed(value)(fn)
        return fn

    return wrap


def snapshot(root: Path, skip: Path) -> dict[str, tuple[int, int]]:
    """(size, mtime) of every file under ``root`` except those under ``skip``."""
    out = {}
    for dirpath, _dirs, files in os.walk(root):
        here = Path(dirpath)
        if here == skip or skip in here.parents:
            continue
        for name in files:
            path = here / name
            try:
                st = path.lstat()
            except FileNotFoundError:
                continue
            out[str(path.relative_to(root))] = (st.st_size, st.st_mtime_ns)
    return out


def check_case(kind: str, workdir: Path, out_dir: Path, args: list[str], watch: list[Path],
               source: str = "") -> CliResult:
    """Run one case and assert the promises; ``watch``: other folders nothing may be written to;
    ``source``: the case's input text, kept when it is the worst case for memory."""
    before = snapshot(workdir, out_dir)
    outside = {str(w): snapshot(w, out_dir) for w in watch}
    rss_before = peak_rss_mb()
    if not STATS.rss_start_mb:
        STATS.rss_start_mb = rss_before
    resident = reset_peak()
    start = time.perf_counter()
    with chdir(workdir):
        res = run_cli(*args)
    took = time.perf_counter() - start
    STATS.seconds += took
    if took > STATS.slowest_seconds:
        STATS.slowest_seconds, STATS.slowest_input = took, f"artflow {' '.join(args)}\n{source}"
    rss_after = peak_rss_mb()
    case_peak = _status_mb("VmHWM") if resident is not None else None
    # the case's own peak above what was resident when it started (else the high-water growth)
    growth = rss_after - rss_before
    if case_peak is not None and resident is not None:
        growth = case_peak - resident
    STATS.cases[kind] = STATS.cases.get(kind, 0) + 1
    STATS.codes[res.code] = STATS.codes.get(res.code, 0) + 1
    shape = re.sub(r"'[^']*'|\d+", "_", (res.error_lines or ["ok"])[0])[:80]
    STATS.endings[(kind, res.code, shape)] = STATS.endings.get((kind, res.code, shape), 0) + 1
    STATS.rss_peak_mb = max(STATS.rss_peak_mb, rss_after)
    if growth > STATS.worst_growth_mb:
        STATS.worst_growth_mb = growth
        STATS.worst_case = f"{kind}: artflow {' '.join(args)[:300]}"
        STATS.worst_input = source
    shown = f"artflow {' '.join(args)}\nexit {res.code}\nstdout: {res.out[-3000:]}\nstderr: {res.err[-3000:]}"
    assert res.code in (0, 2), shown
    assert "Traceback" not in res.out + res.err, shown
    after = snapshot(workdir, out_dir)
    new_or_changed = {k for k, v in after.items() if before.get(k) != v}
    assert not new_or_changed, f"wrote outside -o: {sorted(new_or_changed)[:5]}\n{shown}"
    for w in watch:
        assert snapshot(w, out_dir) == outside[str(w)], f"wrote into {w}\n{shown}"
    for path in ABSOLUTE_TARGETS:
        assert not path.exists(), f"wrote {path}\n{shown}"
    # the memory budget bounds one run; allow for what the budget does not count (the decoded
    # models of model nodes, library buffers)
    assert growth < BUDGET_MB + SLACK_MB, f"this case's peak memory grew {growth:.0f} MB\n{shown}"
    if res.error_lines:
        assert all(ln.isprintable() for ln in res.error_lines), shown
    return res


def fresh(path: Path) -> Path:
    """An empty folder at ``path``."""
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path
