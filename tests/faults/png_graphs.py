"""Pictures that carry a hand-made provenance record: what a hostile PNG from the internet holds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, PngImagePlugin


def picture(path: Path, record: dict[str, Any] | str) -> Path:
    """A 4x4 PNG at ``path`` whose artflow chunk is ``record`` (JSON-encoded unless a string); a
    record without ``input_dir`` gets the picture's folder, as artflow writes it."""
    if isinstance(record, dict) and "input_dir" not in record:
        record = {**record, "input_dir": str(path.parent.resolve())}
    info = PngImagePlugin.PngInfo()
    info.add_text("artflow", record if isinstance(record, str) else json.dumps(record))
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((4, 4, 3), 128, np.uint8)).save(path, pnginfo=info)
    return path


def record(nodes: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A provenance record around ``nodes`` (a graph's node table)."""
    return {"graph": {"artflow": 1, "seed": 1, "nodes": nodes}, **extra}


def load_and_save(path: str, **params: Any) -> dict[str, Any]:
    """image.load of ``path`` saved as leak.png: if it runs, the bytes it read reach the output."""
    return {"photo": {"type": "image.load", "params": {"path": path, **params}},
            "out": {"type": "image.save", "inputs": {"image": "photo"}, "params": {"path": "leak.png"}}}


def canary(path: Path, value: int = 201) -> Path:
    """A private photo: a flat colour no generated test input uses, so a leak is easy to spot."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((8, 8, 3), value, np.uint8)).save(path)
    return path
