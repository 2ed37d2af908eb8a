"""Model file identity: one stamp per file state, and what was read from it, cached once.

A :class:`FileStamp` is (resolved path, size, mtime_ns). The registry's sha256 check, the card
reader and the session cache all key on it, so a file is stat'ed and identified the same way
everywhere, hashed at most once per state, and any change (size or mtime) is a new stamp.

File systems keep modification times coarsely (a few ms on Linux, 2 s on FAT), so a file
rewritten right after it was stamped may keep its stamp. As git does with its index, facts about
a file modified within :data:`RACY_NS` of now are not remembered: such a file is read again next
time, and a tampered file can never pass as the one hashed a moment before.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ModelError
from ..paths import expand_user


@dataclass(frozen=True)
class FileStamp:
    """A model file as it is now: resolved path, size and modification time (ns)."""

    path: str
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, path: str | Path) -> FileStamp:
        """Stamp a file; a ModelError when it is missing or is not a regular file."""
        p = expand_user(path)
        try:
            st = p.stat()
        except OSError:
            raise ModelError(f"model file '{path}' not found") from None
        if not p.is_file():
            raise ModelError(f"model file '{path}' is not a file (a directory?); give an .onnx file")
        return cls(str(p.resolve()), st.st_size, st.st_mtime_ns)


def file_sha256(path: str | Path) -> str:
    """The sha256 of a file's bytes, read now (uncached; :func:`sha256` caches by stamp)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


MISSING: Any = object()  # recall() of a fact never remembered
_records: dict[FileStamp, dict[str, Any]] = {}
_lock = threading.Lock()


def recall(stamp: FileStamp, field: str) -> Any:
    """What was remembered about this file state (``sha256``, ``card``…), or ``files.MISSING``."""
    with _lock:
        return _records.get(stamp, {}).get(field, MISSING)


RACY_NS = 2_000_000_000  # a file modified this recently may change again under the same stamp


def remember(stamp: FileStamp, field: str, value: Any) -> Any:
    """Remember one fact about this file state (unless it was modified too recently to trust
    its stamp, see the module doc); returns the value."""
    if time.time_ns() - stamp.mtime_ns >= RACY_NS:
        with _lock:
            _records.setdefault(stamp, {})[field] = value
    return value



def sha256(path: str | Path | FileStamp) -> str:
    """The sha256 of a file, hashed once per stamp (path, size, mtime_ns)."""
    stamp = path if isinstance(path, FileStamp) else FileStamp.of(path)
    cached = recall(stamp, "sha256")
    if cached is MISSING:
        cached = remember(stamp, "sha256", file_sha256(stamp.path))
    return cached


def forget() -> None:
    """Drop every remembered fact (tests; after files were rewritten with the same stamp)."""
    with _lock:
        _records.clear()
