"""manifest.jsonl: a header line, then one record per item, appended as items finish.

A record says what the item is (index, key, name, params, seed, caption) and how it went
(status, error, images with labels / detections, files, models by node, provider, seconds, and
``retried`` when a worker died under it). ``models`` maps node id → {model name: sha256}.

The file only grows while a render runs (one line per finished item, flushed at once), so a
render killed at any moment leaves every finished item on record; a half-written last line is
cut off when the next render opens the log. At the end of a render that added records, the log
is compacted: the newest record of each current item, in matrix order, under a fresh header.

Resume is exact: an item is done when its newest record has the job's key, status "ok", and
every file it lists exists (files are only ever renamed into place whole).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .jobs import Job

MANIFEST = "manifest.jsonl"
FORMAT = 2
#: fields of a record that vary from run to run (timings, retries, the Ray node); the rest is deterministic
VOLATILE = ("seconds", "node_seconds", "retried", "node")
RESULT_FIELDS = ("status", "error", "images", "files", "models", "provider", "seconds")


def header_of(spec: Any) -> dict[str, Any]:
    """The manifest's first line: what the gallery is (title, axes, saved nodes)."""
    return {
        "artflow_gallery": FORMAT,
        "title": spec.title,
        "description": spec.description,
        "spec": spec.path.name,
        "axes": [{"key": v.key, "values": list(v.shown), "numeric": v.numeric} for v in spec.variables],
        "save": list(spec.save),
        "thumb_format": spec.thumb_format,
    }


def item_record(job: Job | dict[str, Any], result: dict[str, Any] | None) -> dict[str, Any]:
    """The manifest entry of a job: what the job is, then what its worker reported."""
    data = job if isinstance(job, dict) else job.to_dict()
    out: dict[str, Any] = {name: data[name] for name in ("index", "key", *DESCRIBING[1:])}
    result = result or {"status": "pending", "error": None, "images": [], "files": [], "models": {},
                        "provider": None, "seconds": None}
    for name in RESULT_FIELDS:
        out[name] = result.get(name)
    for name in ("node_seconds", "retried", "node"):
        if result.get(name):
            out[name] = result[name]
    return out


DESCRIBING = ("index", "name", "params", "seed", "caption")


def describes(record: dict[str, Any] | Job) -> int:
    """A fingerprint (this process only) of what a record or job says the item is: a finished
    item whose place, name or caption changed with the spec gets a fresh record without
    rendering again."""
    get = record.get if isinstance(record, dict) else lambda name: getattr(record, name)
    params = get("params")
    return hash((get("index"), get("name"), get("seed"), get("caption"),
                 tuple(sorted(params.items())) if isinstance(params, dict) else None))


class Listing:
    """Which files exist under a folder, one directory read per subfolder (a stat per file is
    slow at 100,000 items); paths deeper than one subfolder are checked one by one."""

    def __init__(self, root: Path):
        self.root = root
        self.folders: dict[str, set[str]] = {}

    def has(self, rel: str) -> bool:
        folder, _, name = rel.rpartition("/")
        if "/" in folder or not folder:
            return (self.root / rel).is_file()
        names = self.folders.get(folder)
        if names is None:
            try:
                with os.scandir(self.root / folder) as entries:
                    names = {e.name for e in entries if e.is_file()}
            except OSError:
                names = set()
            self.folders[folder] = names
        return name in names


def files_present(record: dict[str, Any], root: Path, listing: Listing | None = None) -> bool:
    """Whether every file a record lists exists inside ``root`` (a resolved folder)."""
    files = record.get("files")
    if not isinstance(files, list) or not files:
        return False
    listing = listing or Listing(root)
    for rel in files:
        if not isinstance(rel, str) or rel.startswith("/") or ".." in rel.split("/"):
            return False
        if "\\" in rel or not listing.has(rel):
            return False
    return True


def is_done(job: Job, record: dict[str, Any] | None, out_root: Path) -> bool:
    """Whether a previous record shows this job finished, with all of its files in place."""
    if not record or record.get("key") != job.key or record.get("status") != "ok":
        return False
    return files_present(record, out_root.resolve())


@dataclass
class Scan:
    """What a previous render left on record: the header and, per key, where its newest record is."""

    header: dict[str, Any] | None = None
    #: key → byte offset of the newest record with that key
    offsets: dict[str, int] = field(default_factory=dict)
    #: keys whose newest record is "ok" with all of its files present
    done: set[str] = field(default_factory=set)
    #: key → :func:`describes` of its newest record (is it still what the spec says the item is?)
    marks: dict[str, int] = field(default_factory=dict)
    #: whether the records are one per key, in index order (a compacted log)
    compact: bool = True
    #: length of the log up to its last complete line (a killed render may leave half a line)
    good_size: int = 0


def scan(out_root: Path, *, check_files: bool = True) -> Scan:
    """Read the log once: offsets of the newest record per key, and which items are done."""
    path = out_root / MANIFEST
    found = Scan()
    try:
        fh = open(path, "rb")  # noqa: SIM115 - read in one pass below
    except OSError:
        return found
    root = out_root.resolve()
    listing = Listing(root)
    last_index = -1
    with fh:
        offset = 0
        for line in fh:
            start, offset = offset, offset + len(line)
            if not line.endswith(b"\n"):
                break  # half a line: a render was killed while appending it
            found.good_size = offset
            try:
                record = json.loads(line)
            except ValueError:
                found.compact = False
                continue
            if not isinstance(record, dict):
                continue
            if start == 0 and "artflow_gallery" in record:
                found.header = record
                continue
            key = record.get("key")
            if not isinstance(key, str):
                continue
            index = record.get("index")
            if key in found.offsets or not isinstance(index, int) or index <= last_index:
                found.compact = False
            last_index = index if isinstance(index, int) else last_index
            found.offsets[key] = start
            found.marks[key] = describes(record)
            if record.get("status") == "ok" and (not check_files or files_present(record, root, listing)):
                found.done.add(key)
            else:
                found.done.discard(key)
    return found


def read_record(fh: Any, offset: int) -> dict[str, Any]:
    fh.seek(offset)
    return json.loads(fh.readline())


def relabel(out_root: Path, offset: int, fresh: dict[str, Any]) -> dict[str, Any]:
    """The record at ``offset`` with what the item is (index, name, …) taken from ``fresh``."""
    with open(out_root / MANIFEST, "rb") as fh:
        record = read_record(fh, offset)
    record.update({name: fresh[name] for name in DESCRIBING})
    return {name: record[name] for name in ("index", "key", *DESCRIBING[1:])} | record


def load_records(out_root: Path) -> dict[str, dict[str, Any]]:
    """Every current record by key (small galleries and tests; a render never holds them all)."""
    return {r["key"]: r for r in iter_records(out_root)}


def iter_records(out_root: Path) -> Iterator[dict[str, Any]]:
    """The newest record of each key, in the order the log holds them."""
    found = scan(out_root, check_files=False)
    if not found.offsets:
        return
    with open(out_root / MANIFEST, "rb") as fh:
        for offset in sorted(found.offsets.values()):
            yield read_record(fh, offset)


def read_header(out_root: Path) -> dict[str, Any] | None:
    try:
        with open(out_root / MANIFEST, "rb") as fh:
            first = json.loads(fh.readline())
    except (OSError, ValueError):
        return None
    return first if isinstance(first, dict) and "artflow_gallery" in first else None


class ManifestLog:
    """The log a render appends to. Records wait in memory until the next commit (every couple
    of seconds), which first syncs the folder, so a record on disk always names files already
    on disk: a power loss costs at most the last seconds' items (rendered again), never a record
    pointing at a file that was lost."""

    def __init__(self, out_root: Path, header: dict[str, Any], found: Scan):
        self.out_root = out_root
        self.path = out_root / MANIFEST
        exists = self.path.exists()
        self.fh = open(self.path, "ab")  # noqa: SIM115 - closed by close()
        if exists and self.fh.tell() != found.good_size:
            self.fh.truncate(found.good_size)  # drop a half-written last line
            self.fh.seek(found.good_size)
        if found.header is None and self.fh.tell() == 0:
            self.fh.write(_line(header))
            self.fh.flush()
        #: key → offset of its newest record (the previous render's, then this one's)
        self.offsets = dict(found.offsets)
        self.pending: list[dict[str, Any]] = []
        self.appended = 0

    def add(self, record: dict[str, Any]) -> None:
        self.pending.append(record)

    def commit(self) -> None:
        """Sync the files written so far, then append the records waiting for them."""
        if not self.pending:
            return
        from .files import sync_folder

        sync_folder(self.out_root)
        for record in self.pending:
            self.offsets[record["key"]] = self.fh.tell()
            self.fh.write(_line(record))
        self.fh.flush()
        self.appended += len(self.pending)
        self.pending.clear()

    def close(self) -> None:
        self.commit()
        self.fh.close()
        if self.appended:
            from .files import sync_folder

            sync_folder(self.out_root)


def compact(out_root: Path, header: dict[str, Any], keys: list[str], offsets: dict[str, int]) -> None:
    """Rewrite the log as the header plus the newest record of each key in ``keys`` (in that
    order), streaming; atomically renamed into place."""
    path = out_root / MANIFEST
    tmp = out_root / f".{MANIFEST}.{os.getpid()}.part"
    try:
        with open(path, "rb") as src, open(tmp, "wb") as dst:
            dst.write(_line(header))
            for key in keys:
                offset = offsets.get(key)
                if offset is None:
                    continue
                src.seek(offset)
                dst.write(src.readline())
            dst.flush()
            os.fsync(dst.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _line(data: dict[str, Any]) -> bytes:
    return (json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


def write_if_changed(path: Path, data: bytes) -> bool:
    """Write atomically unless the file already holds exactly these bytes."""
    from ..imaging import atomic_write_bytes

    try:
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return False
    except OSError:
        pass
    atomic_write_bytes(path, data)
    return True


def without_volatile(data: Any) -> Any:
    """A record (or a list of them) with its timing fields removed, for comparing two renders."""
    if isinstance(data, dict):
        return {k: without_volatile(v) for k, v in data.items() if k not in VOLATILE}
    if isinstance(data, list):
        return [without_volatile(v) for v in data]
    return data
