"""Atomic file writes for gallery output: temp file in the same folder, fsync, rename.

Like :func:`artflow.imaging.atomic_write_bytes`, but the file gets the usual permissions
(0666 minus the umask) rather than mkstemp's 0600, since galleries are meant to be served.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

_umask: int | None = None


def _current_umask() -> int:
    global _umask
    if _umask is None:
        try:
            with open("/proc/self/status", encoding="ascii") as fh:
                for line in fh:
                    if line.startswith("Umask:"):
                        _umask = int(line.split()[1], 8)
                        break
        except (OSError, ValueError):
            pass
        if _umask is None:
            _umask = 0o022
    return _umask


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` so that ``path`` is either absent, the old file, or the whole new file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fchmod(fh.fileno(), 0o666 & ~_current_umask())
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
