"""Errors a person can act on: each prints as one line naming the culprit and the fix."""

from __future__ import annotations

import os


class ArtflowError(Exception):
    """Base of every error artflow raises on purpose; its message is one line for a person."""

    exit_code = 2


class GraphError(ArtflowError):
    """The graph is malformed: unknown node type, missing input, type mismatch, cycle."""


class ParamError(ArtflowError):
    """A node parameter has a value outside what the node declares."""


class NodeError(ArtflowError):
    """A node failed while running; names the node id, its type and the cause."""

    def __init__(self, node_id: str, node_type: str, cause: BaseException | str):
        self.node_id = node_id
        self.node_type = node_type
        self.cause = cause
        reason = cause if isinstance(cause, str) else describe(cause)
        super().__init__(f"node '{node_id}' ({node_type}) failed: {reason}")


class ModelError(ArtflowError):
    """A model is missing, unreadable, tampered with, or does not fit the node."""


class PluginError(ArtflowError):
    """A plugin could not be installed, loaded or used."""


class ImageError(ArtflowError):
    """An image file is missing, corrupt or too large."""


class PathError(ArtflowError):
    """An output path is empty, absolute, or leaves its output folder."""


class SettingError(ArtflowError):
    """An ``ARTFLOW_*`` setting (environment or config file) has a value artflow cannot use."""


#: errno values that mean "the disk (or the user's quota) is full"
DISK_FULL_ERRNOS = (28, 122)  # ENOSPC, EDQUOT


class DiskFullError(ArtflowError):
    """A write ran out of disk space: names the folder and, where known, how much was needed."""

    def __init__(self, folder: str | os.PathLike[str], needed: int | None = None, what: str = ""):
        self.folder = str(folder)
        self.needed = needed
        need = f"; {_size(needed)} needed for {what or 'the file'}" if needed else ""
        super().__init__(f"no space left on the disk holding '{self.folder}'{need}; free some space "
                         "and run the same command again: finished files are kept and it resumes "
                         "where it stopped")


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` (an OSError) says the disk or the quota is full."""
    return isinstance(exc, OSError) and getattr(exc, "errno", None) in DISK_FULL_ERRNOS


def is_bug(exc: BaseException) -> bool:
    """Whether ``exc`` is a bug in artflow or a plugin: an exception nobody meant to raise. Not an
    ArtflowError (a node's failure is judged by its cause), not an environment fault (an OSError
    with an errno, MemoryError), not an interrupt."""
    if isinstance(exc, NodeError):
        cause = exc.cause if isinstance(exc.cause, BaseException) else exc.__cause__
        return cause is not None and cause is not exc and is_bug(cause)
    if isinstance(exc, (ArtflowError, KeyboardInterrupt, MemoryError)):
        return False
    return not (isinstance(exc, OSError) and exc.errno is not None)


def _size(n: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return f"{n} bytes"  # pragma: no cover


def describe(exc: BaseException, *, with_type: bool = True) -> str:
    """One line for a person: an ArtflowError's message, else ``Type: first line`` of the
    exception (just the first line with ``with_type=False``)."""
    text = str(exc).strip().splitlines()
    first = text[0] if text else ""
    if isinstance(exc, ArtflowError) or (first and not with_type):
        return first
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def one_line(text: object) -> str:
    """``text`` as exactly one printable line: line breaks of any kind (\\n, \\r, U+2028, U+2029,
    U+0085, ...) and other control characters are shown escaped, never printed raw."""
    text = str(text)
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)
