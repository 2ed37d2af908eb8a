"""What both gallery backends share: the per-item callback, retries, taking jobs from a stream."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

#: called with (job, record) as each item finishes
OnRecord = Callable[[dict[str, Any], dict[str, Any]], None]
#: tries per item when workers die under it
MAX_ATTEMPTS = 3


def failed_record(job: dict[str, Any], error: str) -> dict[str, Any]:
    """The record of an item no worker could finish."""
    return {"key": job["key"], "status": "failed", "images": [], "files": [], "models": {},
            "provider": None, "seconds": None, "error": error}


def take(jobs: Iterator[dict[str, Any]], n: int) -> list[dict[str, Any]]:
    """Up to ``n`` more jobs from a stream."""
    out = []
    while len(out) < n:
        try:
            out.append(next(jobs))
        except StopIteration:
            break
    return out
