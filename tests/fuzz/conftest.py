"""Fuzz session: the memory budget is set low, and the case count, exit codes, wall time and the
peak memory of the worst case are printed at the end."""

from __future__ import annotations

import os

import pytest

from .harness import BUDGET_MB, STATS


@pytest.fixture(autouse=True)
def _low_memory_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARTFLOW_MAX_MEMORY_MB", str(BUDGET_MB))


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
    if os.environ.get("ARTFLOW_FUZZ_REPORT"):
        tr.write_line(f"worst case input: {STATS.worst_input[:1500]}")
        for (kind, code, shape), n in sorted(STATS.endings.items(), key=lambda kv: -kv[1])[:40]:
            tr.write_line(f"{n:>5}  {kind:<18} exit {code}  {shape}")
