"""Where artflow may write and read: output paths confined to their folder, file names made safe,
and the read policy of a graph carried by a picture (:class:`ReadPolicy`).

Both the engine (``NodeContext.output_path``, ``image.save``'s ``{name}``) and the gallery (item
and image names, its ``images/`` and ``thumbs/`` files) go through these two functions, so a
name means the same file everywhere. Atomic writes are :func:`artflow.imaging.atomic_write_bytes`.
"""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import PathError


def expand_user(path: str | os.PathLike[str]) -> Path:
    """``Path(path).expanduser()``, but a ``~name`` whose user does not exist (``~0``) stays the
    literal name instead of raising RuntimeError."""
    try:
        return Path(path).expanduser()
    except RuntimeError:
        return Path(path)


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


# -- where a graph that came from a picture may read -------------------------------------------
_GLOB_CHARS = re.compile(r"[*?\[]")


def is_glob(pattern: str) -> bool:
    """Whether a path param holds a glob (``*``, ``?`` or ``[``)."""
    return bool(_GLOB_CHARS.search(pattern))


def glob_files(pattern: Path, limit: int = 200_000) -> list[Path]:
    """The files a glob names, sorted (the syntax of :func:`glob.glob` with ``recursive=True``).
    ``**`` descends into real folders only, never through a symlinked folder, so a symlink loop
    neither duplicates files nor spins; a folder the pattern names, or one ``*`` matches, may be a
    symlink. Symlinked files are listed (a read policy checks where they point)."""
    import fnmatch

    parts = pattern.parts
    fixed = next((i for i, p in enumerate(parts) if _GLOB_CHARS.search(p)), len(parts))
    base = Path(*parts[:fixed]) if fixed else Path(".")
    rest = parts[fixed:]
    found: list[Path] = []

    def walk(folder: Path, todo: tuple[str, ...]) -> None:
        if len(found) >= limit or not todo:
            return
        head, tail = todo[0], todo[1:]
        if head == "**":
            walk(folder, tail)  # zero folders
            for entry in _entries(folder):
                if entry.name.startswith("."):
                    continue
                if not tail and entry.is_file():  # a trailing '**' names every file below
                    found.append(Path(entry.path))
                if entry.is_dir(follow_symlinks=False):
                    walk(Path(entry.path), todo)
            return
        if not _GLOB_CHARS.search(head):
            nxt = folder / head
            if not tail:
                if nxt.is_file():
                    found.append(nxt)
            elif nxt.is_dir():
                walk(nxt, tail)
            return
        hidden_ok = head.startswith(".")
        for entry in _entries(folder):
            if not fnmatch.fnmatchcase(entry.name, head) or (entry.name.startswith(".") and not hidden_ok):
                continue
            if not tail:
                if entry.is_file():
                    found.append(Path(entry.path))
            elif entry.is_dir():
                walk(Path(entry.path), tail)

    def _entries(folder: Path) -> list[os.DirEntry[str]]:
        try:
            with os.scandir(folder) as it:
                return list(it)
        except OSError:
            return []

    if rest:
        walk(base, rest)
    elif base.is_file():
        found.append(base)
    return sorted(set(found))


@dataclass(frozen=True)
class ReadPolicy:
    """Where a graph carried by a picture may read: the picture's own folder and the folders the
    person allowed (``--allow-path``, ``ARTFLOW_ALLOW_PATHS``). A JSON graph or sketch you run is
    code you chose and has no policy; a PNG from elsewhere is data, so every input path, glob
    match, frame folder, array and model file it names is checked here before anything runs
    (and again when a node reads). Paths resolve symlinks, ``~`` and ``..`` before the check."""

    roots: tuple[Path, ...]
    origin: str
    #: the input folder the picture recorded, when it lies outside the roots (named in refusals)
    recorded: str = ""

    @classmethod
    def for_picture(cls, picture: Path, allowed: tuple[Path, ...] = ()) -> ReadPolicy:
        roots = [Path(picture).resolve().parent, *(expand_user(a).resolve() for a in allowed)]
        return cls(tuple(dict.fromkeys(roots)), Path(picture).name)

    def allows(self, path: Path) -> bool:
        """Whether ``path`` (symlinks resolved) lies inside one of the roots."""
        try:
            real = expand_user(path).resolve()
        except (OSError, RuntimeError, ValueError):  # a symlink loop, a bad name
            return False
        return any(real == root or root in real.parents for root in self.roots)

    def refuse(self, who: str, raw: str, what: str = "reads") -> PathError:
        shown = ascii(raw)[1:-1] if not raw.isprintable() else raw
        hint = (f" (the picture was made from {self.recorded}; pass --allow-path {self.recorded} "
                "if you trust it)") if self.recorded else " (pass --allow-path DIR to allow a folder)"
        return PathError(f"{who}: '{shown}' {what} outside the folder of the picture '{self.origin}' "
                         f"({self.roots[0]}); a graph carried by a PNG reads only beside it{hint}")

    def missing(self, who: str, raw: str) -> PathError:
        """A relative input that is not beside the picture, which recorded another folder."""
        shown = ascii(raw)[1:-1] if not raw.isprintable() else raw
        return PathError(f"{who}: '{shown}' is not beside the picture '{self.origin}' (looked in "
                         f"{self.roots[0]}); the picture was made from {self.recorded}: copy the file "
                         f"beside the picture, or pass --allow-path {self.recorded} if you trust it")

    def input_path(self, base: Path, raw: str, who: str) -> Path:
        """``base / raw`` (``~`` expanded) when it, or a glob's fixed folder, stays inside the roots."""
        if "\x00" in raw:
            raise self.refuse(who, raw)
        try:
            os.fsencode(raw)
        except UnicodeError:
            raise PathError(f"{who}: {ascii(raw)} is not a file name this system can hold") from None
        path = expand_user(raw)
        full = path if path.is_absolute() else Path(base) / path
        parts = full.parts
        fixed = next((i for i, p in enumerate(parts) if _GLOB_CHARS.search(p)), len(parts))
        if ".." in parts[fixed:]:  # '..' after a wildcard climbs out of whatever the wildcard matched
            raise self.refuse(who, raw)
        if not self.allows(Path(*parts[:fixed]) if fixed else Path(".")):
            raise self.refuse(who, raw)
        return full

    def readable(self, path: Path, raw: str, who: str) -> Path:
        """``path`` (a glob match, a frame in a folder) when it resolves inside the roots."""
        if not self.allows(path):
            raise self.refuse(who, f"{raw}' -> '{path.name}", "points")
        return path

    def model(self, registry: Any, value: str, kind: str, base: Path, who: str) -> None:
        """A model value: a registered name, a registered model's file, or a file inside the roots."""
        if not (value.lower().endswith(".onnx") or "/" in value or os.sep in value):
            return  # a registered name (an unknown one is refused by the registry)
        if "\x00" in value:
            raise self.refuse(who, value, "loads a model")
        path = expand_user(value)
        full = path if path.is_absolute() else Path(base) / path
        if self.allows(full):
            return
        try:
            real = full.resolve()
            if any(entry.path.resolve() == real for entry in registry):
                return
        except (OSError, RuntimeError, ValueError):
            pass
        raise self.refuse(who, value, "loads a model")
