"""Render a gallery: expand the spec, skip finished items, run the rest, log them, write the page.

Resume is the default: an item whose newest manifest record has the same key, status "ok", and
all of its files present is not rendered again. Jobs stream from the expansion to the workers
and records stream into the append-only manifest, so the driver holds only the current keys,
never the gallery. Files are renamed into place whole, so a render killed at any moment leaves
only complete files under final names (plus temp files, removed on the next run), and the next
run finishes the job.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import DiskFullError, one_line
from .files import SYNC_SECONDS
from .jobs import Expansion, Job
from .manifest import ManifestLog, Scan, compact, describes, header_of, item_record, relabel, scan
from .spec import GalleryError, GallerySpec, load_spec

LOCK = ".artflow-render.lock"


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


def plan_items(spec: GallerySpec, out_root: Path, *, force: bool = False,
            provider: str = "auto") -> Iterator[tuple[Job, bool]]:
    """Every item with whether it is done already, in matrix order (nothing is written)."""
    found = Scan() if force else scan(out_root)
    for job in Expansion(spec, provider=provider):
        yield job, job.key in found.done


def render(spec: GallerySpec | str | Path, out_dir: str | Path, *, workers: int | None = None,
           backend: str = "local", ray_address: str | None = None, force: bool = False,
           dry_run: bool = False, progress: bool | None = None, provider: str = "auto",
           echo: Callable[[str], None] | None = None, shared_output: bool = False) -> RenderSummary:
    """Render (or resume) a gallery into ``out_dir``; see the module doc."""
    from .backends import make_backend

    start = time.perf_counter()
    if not isinstance(spec, GallerySpec):
        spec = load_spec(spec)
    out_root = Path(out_dir)
    if out_root.exists() and not out_root.is_dir():
        raise GalleryError(f"output folder '{out_root}' is a file")
    runner = make_backend(backend, workers, address=ray_address, shared_output=shared_output)
    if dry_run:
        total = skipped = 0
        for _job, done in plan_items(spec, out_root, force=force, provider=provider):
            total += 1
            skipped += done
        return RenderSummary(out_root, total, skipped=skipped, dry_run=True)
    out_root.mkdir(parents=True, exist_ok=True)
    with _Lock(out_root):
        remove_temp_files(out_root)
        return _render_locked(spec, out_root, runner, force=force, progress=progress, provider=provider,
                              echo=echo, start=start)


def _render_locked(spec: GallerySpec, out_root: Path, runner: Any, *, force: bool, progress: bool | None,
                   provider: str, echo: Callable[[str], None] | None, start: float) -> RenderSummary:
    from .html import write_index

    expansion = Expansion(spec, provider=provider)
    found = scan(out_root)
    done = set() if force else found.done
    header = header_of(spec)
    summary = RenderSummary(out_root, len(expansion), backend=runner.describe())
    #: the current items' keys in matrix order (what the compacted log and the page list)
    order: list[str] = []
    expanded = [False]

    def todo() -> Iterator[dict[str, Any]]:
        for job in expansion:
            order.append(job.key)
            if job.key in done:
                summary.skipped += 1
                if found.marks.get(job.key) != describes(job):  # the spec moved or renamed it
                    log.add(relabel(out_root, found.offsets[job.key], item_record(job, None)))
            else:
                yield job.to_dict()
        expanded[0] = True

    bar = _progress_bar(len(expansion), progress)
    log = ManifestLog(out_root, header, found)
    disk_full: list[dict[str, Any]] = []

    def on_record(job: dict[str, Any], record: dict[str, Any]) -> None:
        if record.get("disk_full"):  # stop: every other item would fail the same way
            summary.failed += 1
            disk_full.append(record["disk_full"])
            raise DiskFullError(record["disk_full"]["folder"], record["disk_full"].get("needed"),
                                f"item '{job['name']}'")
        payload = record.pop("payload", None)
        if payload:
            _write_payload(out_root, record, payload)
        log.add(item_record(job, record))
        if record["status"] == "ok":
            summary.ok += 1
        else:
            summary.failed += 1
            summary.bugs += bool(record.get("bug"))
            summary.failures.append((job["name"], record.get("error") or "failed"))
            if bar is not None:
                bar.write(one_line(f"failed: {job['name']}: {record.get('error')}"), file=sys.stderr)
        if bar is not None:
            bar.update(1)
        if time.monotonic() - synced[0] >= SYNC_SECONDS:
            log.commit()
            synced[0] = time.monotonic()

    synced = [time.monotonic()]
    try:
        runner.run(todo(), out_root, on_record, expected=len(expansion))
        remove_temp_files(out_root)  # left by workers killed mid-write (then retried)
    finally:
        log.close()
        if bar is not None:
            bar.close()
        offsets = log.offsets
        complete = expanded[0] and all(key in offsets for key in order)
        changed = log.appended or not found.compact or found.header != header
        try:
            if complete and changed:
                compact(out_root, header, order, offsets)
            if changed or not write_index_current(out_root):
                if complete:
                    write_index(out_root, compacted=True)
                else:  # interrupted: the page shows what the log holds so far
                    write_index(out_root, keys=set(order) if expanded[0] else None)
        except DiskFullError:
            if not disk_full:  # else the item's error (already raising) says it
                raise
    summary.backend = runner.describe()
    summary.seconds = time.perf_counter() - start
    if echo is not None:
        for note in spec.notes:
            echo(f"note: {note}")
    return summary


def write_index_current(out_root: Path) -> bool:
    """Whether the page of this folder exists (a finished gallery re-rendered keeps its page)."""
    from .html import INDEX

    return (out_root / INDEX).is_file()


def _write_payload(out_root: Path, record: dict[str, Any], payload: list[tuple[str, bytes]]) -> None:
    """Files a cluster worker sent back with its record: each one it lists, inside the folder,
    written atomically (temp file, then rename)."""
    from ..paths import confined
    from .files import write_file

    listed = set(record.get("files") or [])
    targets = []
    for rel, data in payload:
        if rel not in listed:
            raise GalleryError(f"a worker sent a file its record does not list: {rel!r}")
        targets.append((confined(out_root, rel), data))
    for path, data in targets:
        write_file(path, data)


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
