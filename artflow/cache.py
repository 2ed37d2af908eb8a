"""A content-addressed cache of node outputs, in memory and on disk.

Keys come from the engine (node type and version, params, seed where it matters, the keys of
the inputs, model sha256s). Disk entries are `.npz` files written atomically (temp file, then
rename), read with ``allow_pickle=False``, so two processes can share the folder safely; the
folder is kept under a size bound by evicting the least recently used entries.
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

from .types import BOXES, LABELS, SOCKET_TYPES, Box, Label, SocketType

FORMAT = "v1"
DEFAULT_DISK_MB = 4096
DEFAULT_MEMORY_MB = 1024


def default_cache_dir() -> Path:
    """`ARTFLOW_CACHE`, or the user cache folder."""
    env = os.environ.get("ARTFLOW_CACHE")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("artflow"))


def _env_mb(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        return default


Outputs = dict[str, Any]


def _nbytes(outputs: Outputs) -> int:
    total = 0
    for value in outputs.values():
        total += value.nbytes if isinstance(value, np.ndarray) else 256 * max(1, len(value))
    return total


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
    """Entries as `<dir>/v1/<k[:2]>/<k>.npz`; atomic writes; LRU eviction by access time."""

    def __init__(self, root: Path, max_bytes: int):
        self.root = Path(root) / FORMAT
        self.max_bytes = max_bytes
        self._written = 0
        self._lock = threading.Lock()

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.npz"

    def __contains__(self, key: str) -> bool:
        return self._path(key).is_file()

    def get(self, key: str, sockets: dict[str, SocketType]) -> tuple[Outputs, dict[str, Any]] | None:
        path = self._path(key)
        try:
            with np.load(path, allow_pickle=False) as data:
                meta = json.loads(bytes(data["__meta__"]).decode())
                outputs: Outputs = {}
                for name, desc in meta["outputs"].items():
                    socket = sockets.get(name)
                    if socket is None or socket.name != desc["socket"]:
                        return None
                    if desc["kind"] == "array":
                        outputs[name] = data[f"o_{name}"]
                    else:
                        outputs[name] = _from_json(socket, desc["value"])
            os.utime(path)
            return outputs, meta.get("info", {})
        except (OSError, KeyError, ValueError, zipfile.BadZipFile, json.JSONDecodeError, EOFError):
            return None

    def info(self, key: str) -> dict[str, Any] | None:
        """Only the recorded info of an entry (reads just its metadata member)."""
        try:
            with np.load(self._path(key), allow_pickle=False) as data:
                return dict(json.loads(bytes(data["__meta__"]).decode()).get("info", {}))
        except (OSError, KeyError, ValueError, zipfile.BadZipFile, json.JSONDecodeError, EOFError):
            return None

    def put(self, key: str, outputs: Outputs, sockets: dict[str, SocketType],
            info: dict[str, Any]) -> None:
        size = _nbytes(outputs)
        if size > self.max_bytes // 4:
            return
        arrays: dict[str, np.ndarray] = {}
        meta: dict[str, Any] = {"outputs": {}, "info": info, "created": time.time()}
        for name, value in outputs.items():
            socket = sockets[name]
            if isinstance(value, np.ndarray):
                arrays[f"o_{name}"] = np.ascontiguousarray(value)
                meta["outputs"][name] = {"socket": socket.name, "kind": "array"}
            else:
                meta["outputs"][name] = {"socket": socket.name, "kind": "json",
                                         "value": _to_json(socket, value)}
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


def _to_json(socket: SocketType, value: Any) -> Any:
    if socket in (LABELS, BOXES):
        return [[v.to_json() for v in item] for item in value]
    return value


def _from_json(socket: SocketType, value: Any) -> Any:
    if socket is LABELS:
        return [[Label(v["label"], v["score"]) for v in item] for item in value]
    if socket is BOXES:
        return [[Box(tuple(v["box"]), v["label"], v["score"]) for v in item] for item in value]
    return value


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


def sockets_of(spec: Any) -> dict[str, SocketType]:
    return {s.name: SOCKET_TYPES[s.type.name] for s in spec.outputs}
