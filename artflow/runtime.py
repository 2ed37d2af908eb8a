"""ONNX Runtime layer: provider choice that is verified, cached sessions, batched inference.

    from artflow import runtime
    session = runtime.get_session(entry_or_path, provider="auto")   # cached, thread-safe
    probs = session.run({"image": batch})["probs"]                 # dict name -> ndarray
    session.provider                                               # "cuda" or "cpu": really used

Providers: ``auto`` (CUDA when a session really gets it, else CPU), ``cuda`` (an error when CUDA
does not work), ``cpu``. onnxruntime-gpu on a machine without CUDA libraries silently falls back
to CPU and logs errors; the one-time probe here is quiet and looks at ``get_providers()``.

Threads: intra-op threads come from ``threads=``, else :func:`set_threads`, else the
``ARTFLOW_THREADS`` environment variable, else the number of usable cores (at most 8); inter-op
threads are 1 (nodes run in parallel at the engine level, not inside a session).

Spinning: ONNX Runtime's worker threads spin-wait between the operators of a run by default,
which makes a run on an idle machine a little faster (measured ~4% for a style model at 512² on
2 threads, one process per setting) but much slower when other processes want the cores (the
spinning threads take their turns; measured ~30% slower beside a training job).
``ARTFLOW_ORT_SPIN`` decides: ``1`` spins, ``0`` never does, ``auto`` (the default) spins only
for a session with 2+ threads opened while the machine is idle (1-minute load average below half
its cores). Spinning sessions stop spinning as soon as a run returns
(``session.force_spinning_stop``), so they never burn CPU between runs.

onnxruntime is imported inside functions only, so ``import artflow.runtime`` is free.
"""

from __future__ import annotations

import base64
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import ArtflowError, ModelError

if TYPE_CHECKING:
    from .modelcard import InputSpec, ModelCard
    from .registry import ModelEntry

PROVIDERS = ("auto", "cuda", "cpu")
_ORT_NAMES = {"cuda": "CUDAExecutionProvider", "cpu": "CPUExecutionProvider"}
DEFAULT_BATCH = 64
QUIET = 3  # onnxruntime severity: 0 verbose, 1 info, 2 warning, 3 error, 4 fatal
SILENT = 4  # the CUDA probe logs provider-library failures at error level: hide them too

# A 74-byte ONNX model (one Relu) used to find out whether CUDA really works here.
_PROBE_MODEL = base64.b64decode(
    "CAcSB2FydGZsb3c6NwoMCgF4EgF5IgRSZWx1EgVwcm9iZVoPCgF4EgoKCAgBEgQKAggBYg8KAXkSCgoICAESBAoCCAFCBAoAEA0="
)


class ProviderError(ArtflowError):
    """The requested execution provider is unknown or does not work on this machine."""


# ---------------------------------------------------------------------------------------------
# providers


_probe_lock = threading.Lock()
_cuda_works: bool | None = None
_cuda_reason = ""
_threads_override: int | None = None


_logger_quieted = False


def _ort() -> Any:
    global _logger_quieted
    import onnxruntime as ort

    if not _logger_quieted:  # kernel warnings go to the default logger, not the session's
        ort.set_default_logger_severity(QUIET)
        _logger_quieted = True
    return ort


def normalize_provider(provider: str | None) -> str:
    """``auto``, ``cuda`` or ``cpu`` (case-insensitive; None means auto), or a ProviderError."""
    value = (provider or "auto").strip().lower()
    if value in ("gpu", "cudaexecutionprovider"):
        value = "cuda"
    if value == "cpuexecutionprovider":
        value = "cpu"
    if value not in PROVIDERS:
        raise ProviderError(f"unknown provider '{provider}': use auto, cuda or cpu")
    return value


def cuda_available() -> bool:
    """Whether a session can really run on CUDA here (probed once per process, quietly)."""
    global _cuda_works, _cuda_reason
    with _probe_lock:
        if _cuda_works is not None:
            return _cuda_works
        ort = _ort()
        if _ORT_NAMES["cuda"] not in ort.get_available_providers():
            _cuda_works = False
            _cuda_reason = "this onnxruntime build has no CUDA provider (install onnxruntime-gpu)"
            return False
        options = _options(1)
        options.log_severity_level = SILENT
        ort.set_default_logger_severity(SILENT)
        try:
            session = ort.InferenceSession(
                _PROBE_MODEL, options, providers=[_ORT_NAMES["cuda"], _ORT_NAMES["cpu"]]
            )
            got = session.get_providers()
            _cuda_works = _ORT_NAMES["cuda"] in got
            if not _cuda_works:
                _cuda_reason = "onnxruntime-gpu could not start CUDA (CUDA/cuDNN libraries missing or no GPU)"
        except Exception as exc:  # noqa: BLE001 - any failure means: no CUDA
            _cuda_works = False
            _cuda_reason = f"CUDA probe failed: {_first_line(exc)}"
        finally:
            ort.set_default_logger_severity(QUIET)
        return _cuda_works


def choose_provider(provider: str | None = "auto") -> str:
    """The provider a session will use for this request: ``cuda`` or ``cpu``.

    ``auto`` gives ``cuda`` only when it really works; ``cuda`` raises ProviderError when not.
    """
    wanted = normalize_provider(provider)
    if wanted == "cpu":
        return "cpu"
    if cuda_available():
        return "cuda"
    if wanted == "cuda":
        raise ProviderError(f"provider 'cuda' was requested but is not usable here: {_cuda_reason}; "
                            "use --provider auto or cpu")
    return "cpu"


def describe_providers() -> dict[str, Any]:
    """For `artflow doctor`: onnxruntime version, providers compiled in, providers that work."""
    ort = _ort()
    working = ["cpu"]
    cuda = cuda_available()
    if cuda:
        working.insert(0, "cuda")
    return {
        "onnxruntime": ort.__version__,
        "device": ort.get_device(),
        "available": list(ort.get_available_providers()),
        "working": working,
        "auto": "cuda" if cuda else "cpu",
        "cuda_note": "" if cuda else _cuda_reason,
        "threads": default_threads(),
    }


# ---------------------------------------------------------------------------------------------
# threads


def set_threads(threads: int | None) -> None:
    """Set the intra-op thread count for sessions opened from now on in this process (None: default).

    The gallery renderer calls this in each worker so that workers × threads ≈ cores.
    """
    global _threads_override
    if threads is not None and threads < 1:
        raise ValueError("threads must be at least 1")
    _threads_override = threads


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def default_threads() -> int:
    """Intra-op threads: set_threads(), else ARTFLOW_THREADS, else usable cores (at most 8)."""
    if _threads_override is not None:
        return _threads_override
    env = os.environ.get("ARTFLOW_THREADS", "").strip()
    if env:
        try:
            value = int(env)
            if value >= 1:
                return value
        except ValueError:
            pass
        raise ArtflowError(f"ARTFLOW_THREADS={env!r} is not a positive integer")
    return min(usable_cores(), 8)


def _options(threads: int) -> Any:
    ort = _ort()
    options = ort.SessionOptions()
    options.log_severity_level = QUIET
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    spin = spin_policy(threads)
    options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spin else "0")
    if spin:  # spin between the operators of a run, never after it
        options.add_session_config_entry("session.force_spinning_stop", "1")
    return options


def spin_policy(threads: int) -> bool:
    """Whether a session with ``threads`` intra-op threads spin-waits (see the module doc)."""
    value = os.environ.get("ARTFLOW_ORT_SPIN", "auto").strip().lower() or "auto"
    if value in ("1", "on", "true", "yes"):
        return threads > 1
    if value in ("0", "off", "false", "no"):
        return False
    if value != "auto":
        raise ArtflowError(f"ARTFLOW_ORT_SPIN={value!r} is not one of auto, 0, 1")
    if threads < 2:
        return False
    try:
        return os.getloadavg()[0] < usable_cores() / 2
    except OSError:  # no load average on this platform
        return False


# ---------------------------------------------------------------------------------------------
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
        from .modelcard import remember_card

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
                             f"{_first_line(exc)[:300]}") from None
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

    def run_tiled(self, images: np.ndarray, *, tile: int = 512, overlap: int = 32,
                  input_name: str | None = None, output_name: str | None = None) -> np.ndarray:
        """Run an image-to-image model (NHWC, any size) on big images tile by tile.

        Tiles of ``tile`` pixels overlap by ``overlap``: the outer quarter of each overlap is dropped
        (padding artefacts) and the rest blended with linear ramps, so seams do not show; the
        output may be a fixed multiple of the input size (a 2x upscaler works).
        Images no bigger than one tile run whole. Only for fully convolutional models.
        """
        name = input_name or self.input_names[0]
        out_name = output_name or self.output_names[0]
        x = np.asarray(images, dtype=np.float32)
        n, h, w, _ = x.shape
        if overlap < 4 or overlap >= tile:
            raise ValueError("overlap must be at least 4 pixels and less than the tile size")
        if h <= tile and w <= tile:
            return self.run({name: x}, [out_name])[out_name]
        step = max(1, tile - overlap)
        ys = sorted({min(y, max(0, h - tile)) for y in range(0, max(1, h - overlap), step)})
        xs = sorted({min(v, max(0, w - tile)) for v in range(0, max(1, w - overlap), step)})
        out: np.ndarray | None = None
        weight: np.ndarray | None = None
        scale = 1.0
        for y0 in ys:
            for x0 in xs:
                part = x[:, y0 : y0 + tile, x0 : x0 + tile]
                got = self.run({name: part}, [out_name])[out_name]
                if out is None:
                    scale = got.shape[1] / part.shape[1]
                    size = (n, int(round(h * scale)), int(round(w * scale)), got.shape[-1])
                    out = np.zeros(size, np.float32)
                    weight = np.zeros(out.shape[1:3] + (1,), np.float32)
                th, tw = got.shape[1:3]
                # weight 0 for the outer quarter of the overlap at inner edges (where a model's
                # padding makes pixels wrong), then a linear ramp up to 1
                pad = int(round(overlap * scale / 4))
                ramp = max(1, int(round(overlap * scale)) - 2 * pad)
                wy = np.clip((np.minimum(np.arange(th), np.arange(th)[::-1]) + 1 - pad) / ramp, 0, 1)
                wx = np.clip((np.minimum(np.arange(tw), np.arange(tw)[::-1]) + 1 - pad) / ramp, 0, 1)
                if y0 == 0:
                    wy[: th // 2] = 1.0
                if y0 + tile >= h:
                    wy[th // 2 :] = 1.0
                if x0 == 0:
                    wx[: tw // 2] = 1.0
                if x0 + tile >= w:
                    wx[tw // 2 :] = 1.0
                mask = (wy[:, None] * wx[None, :])[..., None].astype(np.float32)
                oy, ox = int(round(y0 * scale)), int(round(x0 * scale))
                out[:, oy : oy + th, ox : ox + tw] += got * mask
                weight[oy : oy + th, ox : ox + tw] += mask  # type: ignore[index]
        assert out is not None and weight is not None
        return out / np.maximum(weight, 1e-6)


_sessions: dict[tuple[Any, ...], Session] = {}
_key_locks: dict[tuple[Any, ...], threading.Lock] = {}
_sessions_lock = threading.Lock()


def get_session(model: str | Path | ModelEntry, provider: str | None = "auto", *,
                sha256: str | None = None, threads: int | None = None) -> Session:
    """A cached session for a model file (path or registry entry) on the chosen provider.

    Cached per (file, sha256, provider used, threads); safe to call from many threads (one
    session is built per key, and ONNX Runtime sessions may run concurrently).
    """
    path = Path(getattr(model, "path", model)).expanduser()
    sha = sha256 or getattr(model, "sha256", None)
    used = choose_provider(provider)
    n_threads = threads or default_threads()
    try:
        st = path.stat()
    except OSError:
        raise ModelError(f"model file '{path}' not found") from None
    key = (str(path.resolve()), sha or (st.st_mtime_ns, st.st_size), used, n_threads)
    with _sessions_lock:
        session = _sessions.get(key)
        if session is not None:
            return session
        lock = _key_locks.setdefault(key, threading.Lock())
    with lock:
        with _sessions_lock:
            session = _sessions.get(key)
        if session is None:
            session = _open(path, sha or "", used, normalize_provider(provider), n_threads)
            with _sessions_lock:
                _sessions[key] = session
    return session


def _open(path: Path, sha256: str, used: str, wanted: str, threads: int) -> Session:
    ort = _ort()
    providers = [_ORT_NAMES["cpu"]] if used == "cpu" else [_ORT_NAMES["cuda"], _ORT_NAMES["cpu"]]
    options = _options(threads)
    try:
        raw = ort.InferenceSession(str(path), options, providers=providers)
    except Exception as exc:  # noqa: BLE001
        raise ModelError(f"cannot open model '{path}': {_first_line(exc)[:300]}") from None
    really = "cuda" if _ORT_NAMES["cuda"] in raw.get_providers() else "cpu"
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


# ---------------------------------------------------------------------------------------------
# inputs


def prepare_images(images: np.ndarray, spec: InputSpec | None) -> np.ndarray:
    """An IMAGE batch (float32 NHWC in [0, 1]) in the form a model's card declares.

    Alpha is dropped; ``color``: ``gray`` → luminance (1 channel), ``bgr`` → channels reversed;
    resized to ``size`` (area averaging when shrinking, bilinear when enlarging) unless it already
    fits; values mapped from [0, 1] to ``range`` (or standardised with ``mean``/``std``); NCHW
    transposed. Without a spec the batch is returned as float32 RGB.
    """
    x = np.asarray(images, dtype=np.float32)
    if x.ndim == 3:
        x = x[None]
    if x.ndim != 4:
        raise ModelError(f"expected an NHWC image batch, got shape {list(x.shape)}")
    if x.shape[-1] == 4:
        x = x[..., :3]
    if spec is None:
        return np.ascontiguousarray(x)
    if spec.color == "gray" or spec.channels == 1:
        if x.shape[-1] == 3:
            x = x @ np.asarray([0.299, 0.587, 0.114], dtype=np.float32)
            x = x[..., None]
    elif x.shape[-1] == 1:
        x = np.repeat(x, 3, axis=-1)
    if spec.size:
        x = _resize_batch(x, int(spec.size[0]), int(spec.size[1]))
    if spec.color == "bgr":
        x = x[..., ::-1]
    if spec.mean is not None and spec.std is not None:
        x = (x - np.asarray(spec.mean, np.float32)) / np.asarray(spec.std, np.float32)
    elif spec.range and list(spec.range[:2]) != [0.0, 1.0]:
        lo, hi = float(spec.range[0]), float(spec.range[1])
        x = x * (hi - lo) + lo
    if spec.layout == "NCHW":
        x = x.transpose(0, 3, 1, 2)
    return np.ascontiguousarray(x, dtype=np.dtype(spec.dtype or "float32"))


def _resize_batch(x: np.ndarray, height: int, width: int) -> np.ndarray:
    n, h, w, c = x.shape
    if (h, w) == (height, width):
        return x
    if h % height == 0 and w % width == 0:  # exact area reduction, vectorised
        return x.reshape(n, height, h // height, width, w // width, c).mean(axis=(2, 4))
    from PIL import Image

    shrink = h >= height and w >= width
    method = Image.Resampling.BOX if shrink else Image.Resampling.BILINEAR
    out = np.empty((n, height, width, c), dtype=np.float32)
    for i in range(n):
        for j in range(c):
            plane = Image.fromarray(np.ascontiguousarray(x[i, :, :, j]))
            out[i, :, :, j] = np.asarray(plane.resize((width, height), method), dtype=np.float32)
    return out


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
