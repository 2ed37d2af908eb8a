"""Hostile TF.js packages for `artflow import` (issue 22's findings) and a watch on reads: a canary
file outside the package, the same size as the real shard, that no import may open."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .tfjs_fixture import write_tiny_tfjs

SHARD = "group1-shard1of1.bin"
_opened: list[str] | None = None
_hooked = False


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if _opened is not None and event == "open" and args and isinstance(args[0], (str, bytes, Path)):
        _opened.append(str(args[0] if not isinstance(args[0], bytes) else args[0].decode(errors="replace")))


@contextlib.contextmanager
def watch_opens() -> Iterator[list[str]]:
    """Every path this process opens inside the block (Python's audit hook for ``open``)."""
    global _opened, _hooked
    if not _hooked:
        sys.addaudithook(_audit)
        _hooked = True
    _opened = []
    try:
        yield _opened
    finally:
        _opened = None


def package(root: Path) -> tuple[Path, Path]:
    """A valid tiny graph package in ``root/pkg`` and a canary of its shard's size in ``root/private``."""
    model = write_tiny_tfjs(root / "pkg")
    canary = root / "private" / "secret.bin"
    canary.parent.mkdir(parents=True, exist_ok=True)
    canary.write_bytes(b"\xAA" * (model.parent / SHARD).stat().st_size)
    return model, canary


def edit(model: Path, change: Any) -> Path:
    """Apply ``change(model_json_dict)`` to the model.json in place."""
    data = json.loads(model.read_text())
    change(data)
    model.write_text(json.dumps(data))
    return model


def read_canary(opened: list[str], canary: Path) -> bool:
    return any(Path(p).name == canary.name for p in opened)
