"""Fuzz session: the memory budget is set low, and the case count, exit codes, wall time and the
peak memory of the worst case are printed at the end."""

from __future__ import annotations

import os

import pytest

from .harness import BUDGET_MB, STATS, WORK_LIMIT


@pytest.fixture(autouse=True)
def _low_budgets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Low memory and work budgets: an in-range but enormous request must be refused up front
    (the default work limit lets one flow field run for minutes; CI has three)."""
    monkeypatch.setenv("ARTFLOW_MAX_MEMORY_MB", str(BUDGET_MB))
    monkeypatch.setenv("ARTFLOW_MAX_WORK", str(WORK_LIMIT))


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # noqa: ANN001
    if not STATS.cases:
        return
    total = sum(STATS.cases.values())
    tr = terminalreporter
    tr.write_sep("-", "artflow fuzz")
    tr.write_line(f"fuzz cases: {total} ({', '.join(f'{k} {v}' for k, v in sorted(STATS.cases.items()))}); "
                  f"exit codes {dict(sorted(STATS.codes.items()))}; {STATS.seconds:.1f}s in artflow")
    tr.write_line(f"rotating seeds: {STATS.seeds} (replay: ARTFLOW_FUZZ_SEED=N)")
    tr.write_line(f"peak RSS {STATS.rss_peak_mb:.0f} MB (start {STATS.rss_start_mb:.0f} MB); worst case "
                  f"+{STATS.worst_growth_mb:.0f} MB: {STATS.worst_case}")
    report = os.environ.get("ARTFLOW_FUZZ_REPORT")
    if report and report not in ("1", "yes"):  # a file: every ending, most common first
        with open(report, "w", encoding="utf-8") as fh:
            for (kind, code, shape), n in sorted(STATS.endings.items(), key=lambda kv: -kv[1]):
                fh.write(f"{n:>5}  {kind:<18} exit {code}  {shape}\n")
            fh.write(f"worst case input: {STATS.worst_input}\n")
    if report:
        tr.write_line(f"worst case input: {STATS.worst_input[:1500]}")
        tr.write_line(f"slowest case: {STATS.slowest_seconds:.1f}s: {STATS.slowest_input[:3000]}")
        for (kind, code, shape), n in sorted(STATS.endings.items(), key=lambda kv: -kv[1])[:40]:
            tr.write_line(f"{n:>5}  {kind:<18} exit {code}  {shape}")
