"""The model registry: models by (kind, name), each file checked against its sha256 before use.

Plugins register their shipped models (``register_models``); ``resolve`` turns a model param (a
registered name or an ``.onnx`` path) into a verified :class:`ModelEntry`. The engine resolves
each model a run uses once, while planning.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ModelError
from ..paths import expand_user
from . import files
from .files import file_sha256

__all__ = ["ModelEntry", "ModelRegistry", "file_sha256"]


@dataclass
class ModelEntry:
    """A model file the engine may run: where it is, what it is, and its expected sha256."""

    name: str
    kind: str
    path: Path
    sha256: str
    plugin: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        from .card import read_card

        card = read_card(self.path)
        out: dict[str, Any] = {
            "name": self.name,
            "kind": self.kind,
            "path": str(self.path),
            "sha256": self.sha256,
            "plugin": self.plugin,
            "metrics": card.metrics if card else {},
        }
        out.update({k: str(v) if isinstance(v, Path) else v for k, v in self.extra.items()})
        return out

    @property
    def card(self) -> Any:
        from .card import read_card

        return read_card(self.path)


class ModelRegistry:
    """Models by (kind, name); every file is checked against its sha256 before use."""

    def __init__(self) -> None:
        self._entries: dict[tuple[str, str], ModelEntry] = {}

    def add(self, name: str, kind: str, path: str | Path, sha256: str, plugin: str = "",
            **extra: Any) -> None:
        key = (kind, name)
        if key in self._entries:
            raise ValueError(f"{kind} model '{name}' is already registered by "
                             f"'{self._entries[key].plugin}'")
        self._entries[key] = ModelEntry(name, kind, Path(path), sha256.lower(), plugin, extra)

    def __iter__(self) -> Iterator[ModelEntry]:
        return iter(sorted(self._entries.values(), key=lambda e: (e.kind, e.name)))

    def find(self, name: str, kind: str) -> ModelEntry | None:
        """The entry registered as (kind, name), unchecked; None when there is none."""
        return self._entries.get((kind, name))

    def remove(self, name: str, kind: str) -> None:
        """Forget (kind, name) (a plugin allowed to override it registers its own)."""
        self._entries.pop((kind, name), None)

    def names(self, kind: str) -> list[str]:
        return sorted(n for k, n in self._entries if k == kind)

    def get(self, name: str, kind: str) -> ModelEntry:
        entry = self._entries.get((kind, name))
        if entry is None:
            known = ", ".join(self.names(kind)) or "none"
            raise ModelError(f"unknown {kind} model '{name}' (registered: {known}); "
                             "give a registered name or a path to an .onnx file")
        return entry

    def resolve(self, value: str, kind: str, base_dir: str | Path | None = None) -> ModelEntry:
        """A registered name or an .onnx path to an entry whose file matches its sha256.

        A relative path resolves against ``base_dir`` (the graph's folder) when given, else the
        current folder. A path to a registered model's file is that registered entry.
        """
        if (kind, value) in self._entries:
            entry = self._entries[(kind, value)]
            self.verify(entry)
            return entry
        if value.lower().endswith(".onnx") or os.sep in value or "/" in value:
            path = expand_user(value)
            if base_dir is not None and not path.is_absolute():
                path = Path(base_dir) / path
            stamp = files.FileStamp.of(path)
            for entry in self._entries.values():
                if entry.path.resolve() == Path(stamp.path):
                    self.verify(entry)
                    return entry
            return ModelEntry(path.stem, kind, path, files.sha256(stamp), "file")
        return self.get(value, kind)

    def verify(self, entry: ModelEntry) -> None:
        """Raise a ModelError when the entry's file is missing or does not match its sha256."""
        problem = self.check(entry)
        if problem == "missing":
            raise ModelError(
                f"{entry.kind} model '{entry.name}' is missing its file {entry.path}; "
                f"reinstall the plugin '{entry.plugin}'"
            )
        if problem:
            actual = files.sha256(entry.path)
            raise ModelError(
                f"{entry.kind} model '{entry.name}' at {entry.path} does not match its registered "
                f"sha256 (expected {entry.sha256[:12]}…, got {actual[:12]}…): the file was changed "
                f"or is corrupt; reinstall the plugin '{entry.plugin}'"
            )

    def check(self, entry: ModelEntry) -> str:
        """``""`` when the entry's file is there and matches its sha256, else ``"missing"`` or
        ``"sha256 mismatch"`` (what `artflow models` shows; running it is refused by verify)."""
        try:
            stamp = files.FileStamp.of(entry.path)
        except ModelError:
            return "missing"
        return "" if files.sha256(stamp) == entry.sha256 else "sha256 mismatch"
