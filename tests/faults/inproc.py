"""Run artflow's real entry point (``artflow.cli.main``) in this process: exit code, stdout, stderr.

Used by the fault and fuzz tests, which run thousands of commands: no subprocess per case.
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass
class CliResult:
    """What one in-process `artflow ...` gave."""

    code: int
    out: str
    err: str

    @property
    def error_lines(self) -> list[str]:
        """stderr split the way a terminal (and str.splitlines) would: U+2028 starts a line too."""
        return [ln for ln in self.err.splitlines() if ln.strip()]


def run_cli(*args: str) -> CliResult:
    """``artflow ARGS`` through ``artflow.cli.main``, as the console script runs it."""
    from artflow.cli import main

    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(list(args))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return CliResult(code, out.getvalue(), err.getvalue())


@contextlib.contextmanager
def chdir(path: Path) -> Iterator[None]:
    """Work in ``path`` for a while (relative outputs land there)."""
    old = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


def files_under(root: Path) -> set[str]:
    """Every file below ``root``, relative."""
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() or p.is_symlink()}
