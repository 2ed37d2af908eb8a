"""manifest.json: one record per item (key, params, seed, files, models, provider, seconds, status).

``models`` maps node id → {model name: sha256} (names alone can clash: a generator and a
classifier may both be called 'digits').

The manifest is what makes resume exact: an item is done when its record has the job's key,
status "ok", and every file it lists exists (files are only ever renamed into place whole).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .jobs import Job

MANIFEST = "manifest.json"
FORMAT = 1
#: fields of a record that vary from run to run (timings); everything else is deterministic
VOLATILE = ("seconds",)


def load_records(out_root: Path) -> dict[str, dict[str, Any]]:
    """Records of a previous render, by key; an unreadable manifest counts as none."""
    path = out_root / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    items = data.get("items") if isinstance(data, dict) else None
    if not isinstance(items, list):
        return {}
    return {r["key"]: r for r in items if isinstance(r, dict) and isinstance(r.get("key"), str)}


def is_done(job: Job, record: dict[str, Any] | None, out_root: Path) -> bool:
    """Whether a previous record shows this job finished, with all of its files in place."""
    if not record or record.get("key") != job.key or record.get("status") != "ok":
        return False
    files = record.get("files")
    if not isinstance(files, list) or not files:
        return False
    root = out_root.resolve()
    for rel in files:
        if not isinstance(rel, str):
            return False
        target = (root / rel).resolve()
        if root not in target.parents or not target.is_file():
            return False
    return True


def item_record(job: Job, result: dict[str, Any] | None) -> dict[str, Any]:
    """The manifest entry of a job: what the job is, then what its worker reported."""
    out: dict[str, Any] = {
        "index": job.index, "key": job.key, "name": job.name, "params": job.params,
        "seed": job.seed, "caption": job.caption,
    }
    result = result or {"status": "pending", "error": None, "images": [], "files": [], "models": {},
                        "provider": None, "seconds": None}
    for field in ("status", "error", "images", "files", "models", "provider", "seconds"):
        out[field] = result.get(field)
    return out


def manifest_data(spec: Any, jobs: list[Job], results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The whole manifest, items in matrix order; deterministic apart from the 'seconds' fields."""
    items = [item_record(job, results.get(job.key)) for job in jobs]
    counts: dict[str, int] = {}
    for item in items:
        counts[item["status"]] = counts.get(item["status"], 0) + 1
    return {
        "artflow_gallery": FORMAT,
        "title": spec.title,
        "description": spec.description,
        "spec": spec.path.name,
        "axes": [{"key": v.key, "values": list(v.shown)} for v in spec.variables],
        "save": list(spec.save),
        "counts": dict(sorted(counts.items())),
        "items": items,
    }


def write_if_changed(path: Path, data: bytes) -> bool:
    """Write atomically unless the file already holds exactly these bytes."""
    from ..imaging import atomic_write_bytes

    try:
        if path.read_bytes() == data:
            return False
    except OSError:
        pass
    atomic_write_bytes(path, data)
    return True


def write_manifest(out_root: Path, data: dict[str, Any]) -> None:
    text = json.dumps(data, indent=1, sort_keys=False, ensure_ascii=False) + "\n"
    write_if_changed(out_root / MANIFEST, text.encode("utf-8"))


def without_volatile(data: Any) -> Any:
    """A manifest with its timing fields removed, for comparing two renders."""
    if isinstance(data, dict):
        return {k: without_volatile(v) for k, v in data.items() if k not in VOLATILE}
    if isinstance(data, list):
        return [without_volatile(v) for v in data]
    return data
