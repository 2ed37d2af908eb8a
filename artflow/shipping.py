"""Models a plugin ships as package data, listed in `models/manifest.json` by its ship step.

The manifest records each file's sha256 when it was shipped; the model registry refuses a file
that no longer matches. A plugin registers its shipped models with one call::

    @hookimpl
    def register_models(register):
        register_manifest(register, MODELS_DIR)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

MANIFEST = "manifest.json"
# manifest keys that name a file beside the model (resolved to a path when registered)
FILE_KEYS = ("keras", "style_image")


def read_manifest(models_dir: Path) -> list[dict[str, Any]]:
    """The entries of `models_dir/manifest.json` (name, kind, file, sha256, …), or none."""
    manifest = Path(models_dir) / MANIFEST
    if not manifest.is_file():
        return []
    return list(json.loads(manifest.read_text()).get("models", []))


def register_manifest(register: Any, models_dir: Path) -> None:
    """Register every manifest entry; extra keys become registry extras (`artflow models`)."""
    models_dir = Path(models_dir)
    for item in read_manifest(models_dir):
        extra = {k: v for k, v in item.items() if k not in ("name", "kind", "file", "sha256")}
        for key in FILE_KEYS:
            if extra.get(key):
                extra[key] = str(models_dir / extra[key])
        register(name=item["name"], kind=item["kind"], path=models_dir / item["file"],
                 sha256=item["sha256"], **extra)
