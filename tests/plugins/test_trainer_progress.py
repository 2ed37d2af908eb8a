"""Trainers show steps done / total with an ETA on a terminal (artflow.train.trainer.TrainRun)."""

from __future__ import annotations

import io
import sys

from artflow.train.trainer import TrainRun


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _drawn(monkeypatch, tmp_path, stream: io.StringIO) -> str:
    monkeypatch.setattr(sys, "stderr", stream)
    run = TrainRun(tmp_path, kind="toy", seed_now=False)
    bar = run.progress(40, desc="toy")
    bar.update(10)
    bar.refresh()
    bar.close()
    return stream.getvalue()


def test_the_progress_bar_shows_steps_done_of_total_and_an_eta_on_a_terminal(monkeypatch, tmp_path):
    monkeypatch.setenv("COLUMNS", "0")  # a terminal that reports no size still gets a bar
    drawn = _drawn(monkeypatch, tmp_path, FakeTerminal())
    assert "toy:" in drawn and "10/40" in drawn and "<" in drawn  # elapsed<remaining


def test_the_progress_bar_stays_quiet_when_stderr_is_not_a_terminal(monkeypatch, tmp_path):
    assert _drawn(monkeypatch, tmp_path, io.StringIO()) == ""
