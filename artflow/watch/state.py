"""What the watch page shows, shared between the runner and the server's threads, with bounds:
the notes of versions the page has shown and the files served from outside the output folder
keep only what the current page can still ask for."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any

#: versions whose "shown" moment is kept (the benchmark reads the last few)
SEEN_KEPT = 64


class LiveState:
    """The snapshot the page shows, with a condition that wakes every event stream on change."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self.data: dict[str, Any] = {"version": 0, "phase": "starting", "nodes": [], "outputs": [],
                                     "error": None}
        self.results: list[Any] = []
        self.seen: OrderedDict[int, float] = OrderedDict()
        self.closed = False
        self._written: dict[Path, str] = {}  # files the runs wrote outside the output folder
        self._next_key = 0

    # -- files written elsewhere ------------------------------------------------------------------
    def allow_file(self, path: Path) -> str:
        """Serve ``path`` (a file a run wrote) under /written/KEY/; the same path keeps its key."""
        with self._cond:
            key = self._written.get(path)
            if key is None:
                key = self._written[path] = str(self._next_key)
                self._next_key += 1
            return key

    def keep_files(self, paths: set[Path]) -> None:
        """Forget every served path but ``paths`` (those the page shows now)."""
        with self._cond:
            self._written = {p: k for p, k in self._written.items() if p in paths}

    def written_file(self, key: str) -> Path | None:
        with self._cond:
            return next((p for p, k in self._written.items() if k == key), None)

    # -- the snapshot -----------------------------------------------------------------------------
    def update(self, results: list[Any] | None = None, **changes: Any) -> dict[str, Any]:
        with self._cond:
            self.data = {**self.data, **changes, "version": self.data["version"] + 1}
            if results is not None:
                self.results = results
            self._cond.notify_all()
            return self.data

    def snapshot(self) -> dict[str, Any]:
        with self._cond:
            return dict(self.data)

    def wait_newer(self, version: int, timeout: float) -> dict[str, Any] | None:
        """The snapshot once its version passes ``version``; None on timeout or when closing."""
        with self._cond:
            self._cond.wait_for(lambda: self.closed or self.data["version"] > version, timeout)
            if self.closed or self.data["version"] <= version:
                return None
            return dict(self.data)

    def mark_seen(self, version: int) -> bool:
        """Note when the page finished showing ``version`` (a version it can have been sent)."""
        with self._cond:
            if not 0 <= version <= self.data["version"]:
                return False
            self.seen.setdefault(version, time.time())
            while len(self.seen) > SEEN_KEPT:
                self.seen.popitem(last=False)
            self._cond.notify_all()
            return True

    def seen_copy(self) -> dict[str, float]:
        with self._cond:
            return {str(k): v for k, v in self.seen.items()}

    def close(self) -> None:
        with self._cond:
            self.closed = True
            self._cond.notify_all()
