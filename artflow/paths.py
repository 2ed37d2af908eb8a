"""Where artflow may write: output paths confined to their folder, and file names made safe.

Both the engine (``NodeContext.output_path``, ``image.save``'s ``{name}``) and the gallery (item
and image names, its ``images/`` and ``thumbs/`` files) go through these two functions, so a
name means the same file everywhere. Atomic writes are :func:`artflow.imaging.atomic_write_bytes`.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from .errors import PathError

#: longest file stem :func:`safe_name` returns (file systems allow 255 bytes; suffixes need room)
MAX_NAME = 120
_UNSAFE = re.compile(r"[^\w.\-]+")
_RUNS = re.compile(r"[._\-]*_[._\-]*")
_DOTS = re.compile(r"\.{2,}")
_WINDOWS_DEVICES = re.compile(r"^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$", re.IGNORECASE)


def confined(root: Path, relative: str, *, who: str = "") -> Path:
    """``root / relative`` resolved, refusing a path that is empty, absolute, or that ends up
    outside ``root`` (``..``, symlinks); ``who`` (e.g. ``"node 'save'"``) starts the message."""
    prefix = f"{who}: " if who else ""
    if not relative or "\x00" in relative:
        raise PathError(f"{prefix}empty or invalid output path {relative!r}")
    if Path(relative).is_absolute():
        raise PathError(f"{prefix}output path '{relative}' is absolute; use a path relative to the "
                        "output folder (-o)")
    base = Path(root).resolve()
    target = (base / relative).resolve()
    if base not in target.parents:
        raise PathError(f"{prefix}output path '{relative}' leaves the output folder {base}")
    return target


def safe_name(text: str, default: str = "item") -> str:
    """One file-name component made from any text, the same on every OS.

    Letters and digits of any script, ``.``, ``-`` and ``_`` are kept (NFC-normalised); every
    other run of characters (separators, spaces, punctuation, controls) becomes one ``_``;
    ``..`` becomes ``.``; leading and trailing ``._-`` go, so the name is never hidden, never
    ``..`` and never starts like an option; Windows device names (``con``, ``nul``, …) get a
    trailing ``_``; at most :data:`MAX_NAME` characters; nothing left gives ``default``.
    """
    text = unicodedata.normalize("NFC", str(text))
    cleaned = _DOTS.sub(".", _RUNS.sub("_", _UNSAFE.sub("_", text))).lstrip("._-")
    cleaned = cleaned[:MAX_NAME].rstrip("._-")
    if _WINDOWS_DEVICES.match(cleaned):
        cleaned += "_"
    return cleaned or default
