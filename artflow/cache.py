"""A content-addressed cache of node outputs, in memory and on disk.

Keys come from the engine (node type, version and code fingerprint, params, seed where it
matters, the keys of the inputs, model sha256s). Disk entries are `.npz` files written
atomically (temp file, then rename), read with ``allow_pickle=False``, so two processes can
share the folder safely; each entry stores its own key, and an entry found under another key
(a moved or swapped file) is a miss and is removed. The folder is kept under a size bound by
evicting the least recently used entries. Socket types encode and decode the values.

Where entries live is this module's business; what a key is, the engine's. ``NullCache`` is the
"no cache" policy as an object (``artflow run --no-cache``).
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
import zipfile
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np

from .types import SocketType

FORMAT = "v2"  # v2: entries carry their key
DEFAULT_DISK_MB = 4096
DEFAULT_MEMORY_MB = 1024


def default_cache_dir() -> Path:
    """`ARTFLOW_CACHE`, or the user cache folder (see :mod:`artflow.settings`)."""
    from . import settings

    return settings.get("ARTFLOW_CACHE")


def _env_mb(name: str, default: int) -> int:
    from . import settings

    return settings.get(name)


Outputs = dict[str, Any]


def _nbytes(outputs: Outputs) -> int:
    total = 0
    for value in outputs.values():
        total += value.nbytes if isinstance(value, np.ndarray) else 256 * max(1, len(value))
    return total


class CacheMiss(Exception):
    """An entry that cannot serve this key (wrong key inside, wrong socket types, unreadable)."""


class MemoryCache:
    """An LRU of output dicts bounded by bytes; values are shared, never mutated by nodes."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self._items: OrderedDict[str, tuple[Outputs, dict[str, Any], int]] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> tuple[Outputs, dict[str, Any]] | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            self._items.move_to_end(key)
            return item[0], item[1]

    def put(self, key: str, outputs: Outputs, info: dict[str, Any]) -> None:
        size = _nbytes(outputs)
        if size > self.max_bytes:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old:
                self._size -= old[2]
            self._items[key] = (outputs, info, size)
            self._size += size
            while self._size > self.max_bytes and self._items:
                _, (_, _, s) = self._items.popitem(last=False)
                self._size -= s

    def __contains__(self, key: str) -> bool:
        with self._lock:
            return key in self._items

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._size = 0


class DiskCache:
    """Entries as `<dir>/<FORMAT>/<k[:2]>/<k>.npz`; atomic writes; LRU eviction by access time."""

    def __init__(self, root: Path, max_bytes: int):
        self.root = Path(root) / FORMAT
        self.max_bytes = max_bytes
        self._written = 0
        self._lock = threading.Lock()

    def _path(self, key: str) -> Path:
        if len(key) < 8 or not all(c in "0123456789abcdef" for c in key):
            raise ValueError(f"not a cache key: {key!r}")
        return self.root / key[:2] / f"{key}.npz"

    def __contains__(self, key: str) -> bool:
        return self._path(key).is_file()

    def get(self, key: str, sockets: dict[str, SocketType]) -> tuple[Outputs, dict[str, Any]] | None:
        path = self._path(key)
        try:
            with np.load(path, allow_pickle=False) as data:
                meta = json.loads(bytes(data["__meta__"]).decode())
                if meta.get("key") != key:
                    raise CacheMiss("the entry was written for another key")
                outputs: Outputs = {}
                for name, desc in meta["outputs"].items():
                    socket = sockets.get(name)
                    if socket is None or socket.name != desc["socket"]:
                        raise CacheMiss("the entry's sockets differ")
                    payload = data[f"o_{name}"] if desc["kind"] == "array" else desc["value"]
                    outputs[name] = socket.decode(desc["kind"], payload)
            os.utime(path)
            return outputs, meta.get("info", {})
        except FileNotFoundError:
            return None
        except (CacheMiss, OSError, KeyError, ValueError, TypeError, zipfile.BadZipFile,
                json.JSONDecodeError, EOFError):
            self._discard(path)
            return None

    def _discard(self, path: Path) -> None:
        """Remove an entry that cannot be trusted (a miss from now on, for every process)."""
        try:
            path.unlink()
        except OSError:
            pass

    def info(self, key: str) -> dict[str, Any] | None:
        """Only the recorded info of an entry (reads just its metadata member)."""
        try:
            with np.load(self._path(key), allow_pickle=False) as data:
                meta = json.loads(bytes(data["__meta__"]).decode())
                return dict(meta.get("info", {})) if meta.get("key") == key else None
        except (OSError, KeyError, ValueError, zipfile.BadZipFile, json.JSONDecodeError, EOFError):
            return None

    def put(self, key: str, outputs: Outputs, sockets: dict[str, SocketType],
            info: dict[str, Any]) -> None:
        size = _nbytes(outputs)
        if size > self.max_bytes // 4:
            return
        arrays: dict[str, np.ndarray] = {}
        meta: dict[str, Any] = {"key": key, "outputs": {}, "info": info, "created": time.time()}
        for name, value in outputs.items():
            socket = sockets[name]
            kind, payload = socket.encode(value)
            if kind == "array":
                arrays[f"o_{name}"] = payload
                meta["outputs"][name] = {"socket": socket.name, "kind": "array"}
            else:
                meta["outputs"][name] = {"socket": socket.name, "kind": kind, "value": payload}
        try:
            arrays["__meta__"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
        except (TypeError, ValueError):
            return
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".npz", dir=path.parent)
            with os.fdopen(fd, "wb") as fh:
                np.savez(fh, **arrays)
            os.replace(tmp, path)
        except OSError:
            try:
                os.unlink(tmp)
            except (OSError, UnboundLocalError):
                pass
            return
        with self._lock:
            self._written += size
            due = self._written > self.max_bytes // 8
            if due:
                self._written = 0
        if due:
            self.evict()

    def evict(self) -> None:
        """Delete least recently used entries until the folder fits its bound."""
        entries = []
        total = 0
        for path in self.root.glob("*/*.npz"):
            try:
                st = path.stat()
            except OSError:
                continue
            entries.append((st.st_atime if st.st_atime > st.st_mtime else st.st_mtime, st.st_size, path))
            total += st.st_size
        entries.sort()
        for _, size, path in entries:
            if total <= self.max_bytes * 0.9:
                break
            try:
                path.unlink()
                total -= size
            except OSError:
                pass

    def size_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.root.glob("*/*.npz") if p.exists())

    def clear(self) -> int:
        n = 0
        for path in self.root.glob("*/*.npz"):
            try:
                path.unlink()
                n += 1
            except OSError:
                pass
        return n


class Cache:
    """Memory in front of disk. ``Cache(disk=False)`` keeps everything in this process only."""

    def __init__(self, root: Path | None = None, *, disk: bool = True,
                 max_disk_mb: int | None = None, max_memory_mb: int | None = None):
        mem_mb = max_memory_mb if max_memory_mb is not None else _env_mb(
            "ARTFLOW_CACHE_MEMORY_MB", DEFAULT_MEMORY_MB)
        disk_mb = max_disk_mb if max_disk_mb is not None else _env_mb(
            "ARTFLOW_CACHE_MAX_MB", DEFAULT_DISK_MB)
        self.memory = MemoryCache(mem_mb * 1024 * 1024)
        self.root = Path(root) if root else default_cache_dir()
        self.disk = DiskCache(self.root, disk_mb * 1024 * 1024) if disk else None

    def get(self, key: str, sockets: dict[str, SocketType]) -> tuple[Outputs, dict[str, Any]] | None:
        hit = self.memory.get(key)
        if hit is None and self.disk is not None:
            hit = self.disk.get(key, sockets)
            if hit is not None:
                self.memory.put(key, *hit)
        return hit

    def has(self, key: str) -> bool:
        return key in self.memory or (self.disk is not None and key in self.disk)

    def info(self, key: str) -> dict[str, Any] | None:
        """The info a node recorded when it ran (provider, model sha256s), without its outputs."""
        hit = self.memory.get(key)
        if hit is not None:
            return hit[1]
        return self.disk.info(key) if self.disk is not None else None

    def put(self, key: str, outputs: Outputs, sockets: dict[str, SocketType],
            info: dict[str, Any]) -> None:
        self.memory.put(key, outputs, info)
        if self.disk is not None:
            self.disk.put(key, outputs, sockets, info)


class NullCache:
    """No cache: nothing is found, nothing is kept (``artflow run --no-cache``)."""

    root: Path | None = None
    disk = None

    def get(self, key: str, sockets: dict[str, SocketType]) -> tuple[Outputs, dict[str, Any]] | None:
        return None

    def has(self, key: str) -> bool:
        return False

    def info(self, key: str) -> dict[str, Any] | None:
        return None

    def put(self, key: str, outputs: Outputs, sockets: dict[str, SocketType],
            info: dict[str, Any]) -> None:
        return None


def sockets_of(spec: Any) -> dict[str, SocketType]:
    """A node spec's output socket types by output name (what the cache decodes with)."""
    return {s.name: s.type for s in spec.outputs}
