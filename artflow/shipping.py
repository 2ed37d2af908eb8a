"""Models a plugin ships as package data, listed in `models/manifest.json` by its ship step.

The manifest records each file's sha256 when it was shipped; the model registry refuses a file
that no longer matches. Files beside a model (its Keras weights, a style's image…) are named by
the entry itself under ``files`` (key → file name in the models folder); they are registered as
extras holding full paths, so `artflow models --json` shows e.g. ``"keras": "/…/digits.keras"``.
Any other key is registered as an extra as it is. A plugin registers its shipped models with
one call::

    @hookimpl
    def register_models(register):
        register_manifest(register, MODELS_DIR)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

MANIFEST = "manifest.json"
_ENTRY_KEYS = ("name", "kind", "file", "sha256", "files")


def read_manifest(models_dir: Path) -> list[dict[str, Any]]:
    """The entries of `models_dir/manifest.json` (name, kind, file, sha256, files, …), or none."""
    manifest = Path(models_dir) / MANIFEST
    if not manifest.is_file():
        return []
    return list(json.loads(manifest.read_text()).get("models", []))


def entry_files(models_dir: Path, item: dict[str, Any]) -> dict[str, Path]:
    """The files an entry declares beside its model (``files``: key → name), as full paths."""
    return {str(key): Path(models_dir) / str(name) for key, name in (item.get("files") or {}).items()}


def register_manifest(register: Any, models_dir: Path) -> None:
    """Register every manifest entry; declared files and extra keys become registry extras."""
    models_dir = Path(models_dir)
    for item in read_manifest(models_dir):
        extra = {k: v for k, v in item.items() if k not in _ENTRY_KEYS}
        extra.update({k: str(v) for k, v in entry_files(models_dir, item).items()})
        register(name=item["name"], kind=item["kind"], path=models_dir / item["file"],
                 sha256=item["sha256"], **extra)
