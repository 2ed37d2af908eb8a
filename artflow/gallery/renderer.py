"""Render a gallery: expand the spec, skip finished items, run the rest, write manifest and page.

Resume is the default: an item whose manifest record has the same key, status "ok", and all of
its files present is not rendered again. Files are renamed into place whole, so a render killed
at any moment leaves only complete files under final names (plus temp files, removed on the
next run), and the next run finishes the job.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import DiskFullError, one_line
from .jobs import Job, expand_jobs
from .manifest import is_done, load_records, manifest_data, write_if_changed, write_manifest
from .spec import GalleryError, GallerySpec, load_spec

LOCK = ".artflow-render.lock"
FLUSH_SECONDS = 2.0


@dataclass
class RenderSummary:
    """How a render went."""

    out_dir: Path
    total: int
    skipped: int = 0
    ok: int = 0
    failed: int = 0
    seconds: float = 0.0
    backend: str = ""
    failures: list[tuple[str, str]] = field(default_factory=list)
    #: items that failed with an exception nobody meant to raise (a bug in artflow or a plugin)
    bugs: int = 0
    jobs: list[Job] = field(default_factory=list)
    dry_run: bool = False

    @property
    def exit_code(self) -> int:
        return 1 if self.bugs else 2 if self.failed else 0  # 2: failed items (reported); 1: a bug

    def line(self) -> str:
        if self.dry_run:
            return (f"{self.total} items: {self.total - self.skipped} to render, {self.skipped} done "
                    f"already (dry run, nothing written)")
        return (f"{self.total} items: {self.ok} rendered, {self.skipped} already done, {self.failed} "
                f"failed in {self.seconds:.1f}s ({self.backend}) → {self.out_dir / 'index.html'}")


class _Lock:
    """One render per output folder at a time (an advisory lock the kernel drops if we die)."""

    def __init__(self, out_root: Path):
        self.path = out_root / LOCK
        self.fd: int | None = None

    def __enter__(self) -> _Lock:
        import fcntl

        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(self.fd)
            self.fd = None
            raise GalleryError(f"another render is writing to {self.path.parent}; wait for it or "
                               "use another -o folder") from None
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def remove_temp_files(out_root: Path) -> int:
    """Delete temp files a killed render left behind (never a file under a final name)."""
    n = 0
    for folder in (out_root, out_root / "images", out_root / "thumbs"):
        if not folder.is_dir():
            continue
        for path in folder.glob(".*.part"):
            try:
                path.unlink()
                n += 1
            except FileNotFoundError:
                pass
    return n


def plan(spec: GallerySpec, out_root: Path, *, force: bool = False,
         provider: str = "auto") -> tuple[list[Job], dict[str, dict[str, Any]], list[Job]]:
    """(all jobs, records of the done ones, jobs to render)."""
    jobs = expand_jobs(spec, provider=provider)
    old = {} if force else load_records(out_root)
    done: dict[str, dict[str, Any]] = {}
    todo: list[Job] = []
    for job in jobs:
        record = old.get(job.key)
        if not force and is_done(job, record, out_root):
            assert record is not None
            done[job.key] = record
        else:
            todo.append(job)
    return jobs, done, todo


def render(spec: GallerySpec | str | Path, out_dir: str | Path, *, workers: int | None = None,
           backend: str = "local", ray_address: str | None = None, force: bool = False,
           dry_run: bool = False, progress: bool | None = None, provider: str = "auto",
           echo: Callable[[str], None] | None = None) -> RenderSummary:
    """Render (or resume) a gallery into ``out_dir``; see the module doc."""
    from .backends import make_backend

    start = time.perf_counter()
    if not isinstance(spec, GallerySpec):
        spec = load_spec(spec)
    out_root = Path(out_dir)
    if out_root.exists() and not out_root.is_dir():
        raise GalleryError(f"output folder '{out_root}' is a file")
    runner = make_backend(backend, workers, address=ray_address)
    if dry_run:
        jobs, done, todo = plan(spec, out_root, force=force, provider=provider)
        return RenderSummary(out_root, len(jobs), skipped=len(done), jobs=jobs, dry_run=True)
    out_root.mkdir(parents=True, exist_ok=True)
    with _Lock(out_root):
        remove_temp_files(out_root)
        jobs, done, todo = plan(spec, out_root, force=force, provider=provider)
        results: dict[str, dict[str, Any]] = dict(done)
        summary = RenderSummary(out_root, len(jobs), skipped=len(done), jobs=jobs,
                                backend=runner.describe())
        by_key = {job.key: job for job in jobs}
        bar = _progress_bar(len(todo), progress)
        last_flush = time.monotonic()

        disk_full: list[dict[str, Any]] = []

        def on_record(record: dict[str, Any]) -> None:
            nonlocal last_flush
            results[record["key"]] = record
            if record.get("disk_full"):  # stop: every other item would fail the same way
                summary.failed += 1
                disk_full.append(record["disk_full"])
                raise DiskFullError(record["disk_full"]["folder"], record["disk_full"].get("needed"),
                                    f"item '{by_key[record['key']].name}'")
            job = by_key[record["key"]]
            if record["status"] == "ok":
                summary.ok += 1
            else:
                summary.failed += 1
                summary.bugs += bool(record.get("bug"))
                summary.failures.append((job.name, record.get("error") or "failed"))
                if bar is not None:
                    bar.write(one_line(f"failed: {job.name}: {record.get('error')}"), file=sys.stderr)
            if bar is not None:
                bar.update(1)
            if time.monotonic() - last_flush >= FLUSH_SECONDS:
                _write_outputs(spec, jobs, results, out_root)
                last_flush = time.monotonic()

        try:
            if todo:
                runner.run([job.to_dict() for job in todo], out_root, on_record)
                remove_temp_files(out_root)  # left by workers killed mid-write (then retried)
        finally:
            if bar is not None:
                bar.close()
            try:
                _write_outputs(spec, jobs, results, out_root)
            except DiskFullError:
                if not disk_full:  # else the item's error (already raising) says it
                    raise
        summary.backend = runner.describe()
        summary.seconds = time.perf_counter() - start
        if echo is not None:
            for note in spec.notes:
                echo(f"note: {note}")
        return summary


def _write_outputs(spec: GallerySpec, jobs: list[Job], results: dict[str, dict[str, Any]],
                   out_root: Path) -> None:
    from .html import INDEX, render_html

    data = manifest_data(spec, jobs, results)
    write_manifest(out_root, data)
    write_if_changed(out_root / INDEX, render_html(data).encode("utf-8"))


def _progress_bar(total: int, progress: bool | None) -> Any:
    if not total:
        return None
    if progress is None:
        progress = sys.stderr.isatty()
    if not progress:
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="item", desc="render", file=sys.stderr, dynamic_ncols=True,
                smoothing=0.1)
