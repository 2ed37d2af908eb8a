"""ONNX Runtime sessions: opened once per (file, sha256, provider, threads), with the provider
really used, the model's card and named inputs/outputs.

    from artflow.models import get_session
    session = get_session(entry_or_path, provider="auto")   # cached, thread-safe
    probs = session.run({"image": batch})["probs"]          # dict name -> ndarray
    session.provider                                        # "cuda" or "cpu": really used

Nodes do not call this: the engine opens each model a run uses once, while planning, and hands
the node its session (``ctx.session("model")``).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ModelError, describe
from ..paths import expand_user
from . import files
from .providers import (
    ORT_NAMES,
    ProviderError,
    choose_provider,
    default_threads,
    normalize_provider,
    onnxruntime,
    session_options,
)

if TYPE_CHECKING:
    from .card import ModelCard
    from .registry import ModelEntry

DEFAULT_BATCH = 64

# sessions


@dataclass(frozen=True)
class TensorInfo:
    """A model input or output: name, shape (None for a dynamic axis) and numpy dtype."""

    name: str
    shape: tuple[int | None, ...]
    dtype: np.dtype

    @property
    def batch(self) -> int | None:
        """The fixed batch size, or None when the first axis is dynamic."""
        return self.shape[0] if self.shape else None


_ORT_TYPES = {
    "tensor(float)": np.float32, "tensor(float16)": np.float16, "tensor(double)": np.float64,
    "tensor(int64)": np.int64, "tensor(int32)": np.int32, "tensor(uint8)": np.uint8,
    "tensor(int8)": np.int8, "tensor(bool)": np.bool_,
}


def _info(arg: Any) -> TensorInfo:
    shape = tuple(d if isinstance(d, int) and d > 0 else None for d in (arg.shape or []))
    return TensorInfo(arg.name, shape, np.dtype(_ORT_TYPES.get(arg.type, np.float32)))


class Session:
    """An ONNX Runtime session with its provider really used, its card and named I/O."""

    def __init__(self, session: Any, path: Path, sha256: str, provider: str, threads: int,
                 spin: bool = False):
        self._session = session
        self.path = path
        self.sha256 = sha256
        self.provider = provider  # "cuda" or "cpu": what get_providers() reported
        self.threads = threads
        self.spin = spin  # whether its threads spin-wait between operators (spin_policy)
        self.inputs = [_info(a) for a in session.get_inputs()]
        self.outputs = [_info(a) for a in session.get_outputs()]
        from .card import remember_card

        self.card: ModelCard | None = remember_card(path, dict(session.get_modelmeta().custom_metadata_map))

    def __repr__(self) -> str:
        return (f"Session({self.path.name}, provider={self.provider}, threads={self.threads}, "
                f"spin={self.spin})")

    @property
    def input_names(self) -> list[str]:
        return [i.name for i in self.inputs]

    @property
    def output_names(self) -> list[str]:
        return [o.name for o in self.outputs]

    @property
    def input_shapes(self) -> dict[str, tuple[int | None, ...]]:
        return {i.name: i.shape for i in self.inputs}

    @property
    def output_shapes(self) -> dict[str, tuple[int | None, ...]]:
        return {o.name: o.shape for o in self.outputs}

    def _feeds(self, feeds: Mapping[str, Any] | np.ndarray) -> dict[str, np.ndarray]:
        if isinstance(feeds, np.ndarray):
            if len(self.inputs) != 1:
                raise ModelError(f"model {self.path.name} takes inputs {self.input_names}; pass a dict")
            feeds = {self.inputs[0].name: feeds}
        out = {}
        for info in self.inputs:
            if info.name not in feeds:
                raise ModelError(f"model {self.path.name} needs input '{info.name}' "
                                 f"(got {sorted(feeds)})")
            out[info.name] = np.ascontiguousarray(feeds[info.name], dtype=info.dtype)
        return out

    def run(self, feeds: Mapping[str, Any] | np.ndarray,
            outputs: list[str] | None = None) -> dict[str, np.ndarray]:
        """Run once: feeds by input name (or one array for a one-input model) → outputs by name."""
        arrays = self._feeds(feeds)
        names = outputs or self.output_names
        try:
            if self.provider == "cuda":
                return self._run_bound(arrays, names)
            values = self._session.run(names, arrays)
        except ModelError:
            raise
        except Exception as exc:  # noqa: BLE001 - onnxruntime's errors are untyped
            shapes = {k: list(v.shape) for k, v in arrays.items()}
            raise ModelError(f"model {self.path.name} failed on inputs {shapes}: "
                             f"{describe(exc, with_type=False)[:300]}") from None
        return dict(zip(names, values, strict=False))

    def _run_bound(self, arrays: dict[str, np.ndarray], names: list[str]) -> dict[str, np.ndarray]:
        """CUDA path: inputs copied once to the device, outputs allocated there by ORT."""
        binding = self._session.io_binding()
        for name, array in arrays.items():
            binding.bind_cpu_input(name, array)
        for name in names:
            binding.bind_output(name, "cuda")
        self._session.run_with_iobinding(binding)
        return dict(zip(names, binding.copy_outputs_to_cpu(), strict=False))

    def run_batched(self, feeds: Mapping[str, Any] | np.ndarray, batch_size: int | None = None,
                    outputs: list[str] | None = None) -> dict[str, np.ndarray]:
        """Run on a batch of any size, split along the first axis into runs of ``batch_size``
        (default 64; a model with a fixed batch size uses that, padding the last run)."""
        arrays = self._feeds(feeds)
        total = {int(a.shape[0]) for a in arrays.values()}
        if len(total) != 1:
            raise ModelError(f"model {self.path.name}: inputs disagree on the batch size ({sorted(total)})")
        n = total.pop()
        fixed = self.inputs[0].batch
        step = fixed or max(1, int(batch_size or DEFAULT_BATCH))
        if n == step or (fixed is None and n <= step):
            return self.run(arrays, outputs)
        parts: list[dict[str, np.ndarray]] = []
        for start in range(0, n, step):
            chunk = {k: v[start : start + step] for k, v in arrays.items()}
            real = next(iter(chunk.values())).shape[0]
            if fixed and real < fixed:
                chunk = {k: np.concatenate([v, np.repeat(v[-1:], fixed - real, axis=0)])
                         for k, v in chunk.items()}
            result = self.run(chunk, outputs)
            parts.append({k: v[:real] for k, v in result.items()})
        return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}

_sessions: dict[tuple[Any, ...], Session] = {}
_key_locks: dict[tuple[Any, ...], threading.Lock] = {}
_sessions_lock = threading.Lock()


def get_session(model: str | Path | ModelEntry, provider: str | None = "auto", *,
                sha256: str | None = None, threads: int | None = None) -> Session:
    """A cached session for a model file (path or registry entry) on the chosen provider.

    Cached per (file, sha256, provider used, threads): the file is identified by its
    :class:`~artflow.models.files.FileStamp` and hashed once per stamp when no sha256 is given.
    Safe to call from many threads (one session is built per key, and ONNX Runtime sessions may
    run concurrently).
    """
    path = expand_user(getattr(model, "path", model))
    stamp = files.FileStamp.of(path)
    sha = sha256 or getattr(model, "sha256", None) or files.sha256(stamp)
    used = choose_provider(provider)
    n_threads = threads or default_threads()
    key = (stamp.path, sha, used, n_threads)
    with _sessions_lock:
        session = _sessions.get(key)
        if session is not None:
            return session
        lock = _key_locks.setdefault(key, threading.Lock())
    with lock:
        with _sessions_lock:
            session = _sessions.get(key)
        if session is None:
            session = _open(path, sha, used, normalize_provider(provider), n_threads)
            with _sessions_lock:
                _sessions[key] = session
    return session


def _open(path: Path, sha256: str, used: str, wanted: str, threads: int) -> Session:
    ort = onnxruntime()
    providers = [ORT_NAMES["cpu"]] if used == "cpu" else [ORT_NAMES["cuda"], ORT_NAMES["cpu"]]
    options = session_options(threads)
    try:
        raw = ort.InferenceSession(str(path), options, providers=providers)
    except Exception as exc:  # noqa: BLE001
        raise ModelError(f"cannot open model '{path}': {describe(exc, with_type=False)[:300]}") from None
    really = "cuda" if ORT_NAMES["cuda"] in raw.get_providers() else "cpu"
    if wanted == "cuda" and really != "cuda":
        raise ProviderError(f"provider 'cuda' was requested but the session for {path.name} got "
                            "only the CPU; use --provider auto or cpu")
    spin = options.get_session_config_entry("session.intra_op.allow_spinning") == "1"
    return Session(raw, path, sha256, really, threads, spin)


def clear_sessions() -> None:
    """Drop every cached session (tests; after a model file changed)."""
    with _sessions_lock:
        _sessions.clear()
        _key_locks.clear()


def cached_sessions() -> list[Session]:
    """The sessions currently cached."""
    with _sessions_lock:
        return list(_sessions.values())

