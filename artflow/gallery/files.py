"""How a gallery writes its item files: whole (temp file, then rename), synced in batches.

A gallery writes two or three small files per item, thousands of times. An fsync per file costs
~9 ms here (more than rendering a small item), so item files are renamed into place without one,
and the render syncs the output folder's filesystem every couple of seconds (Linux ``syncfs``;
``sync`` elsewhere) before it logs the records of the items finished meanwhile (see
:class:`artflow.gallery.manifest.ManifestLog`). A killed render loses nothing it logged; after a
power loss, the items of the last seconds have no record and render again.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..imaging import atomic_write_bytes

SYNC_SECONDS = 2.0


def write_file(path: Path, data: bytes) -> None:
    """Write ``data`` to a temp file beside ``path`` and rename it into place (no fsync: the
    render syncs the folder in batches, see :func:`sync_folder`)."""
    atomic_write_bytes(path, data, fsync=False)


def sync_folder(folder: Path) -> None:
    """Flush everything written under ``folder`` to disk (its whole filesystem)."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        fd = os.open(folder, os.O_RDONLY)
        try:
            if libc.syncfs(fd) == 0:
                return
        finally:
            os.close(fd)
    except (OSError, AttributeError):
        pass
    os.sync()
