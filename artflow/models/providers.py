"""ONNX Runtime providers and threads: which provider really works here, how many threads a
session gets, and whether its threads spin.

Providers: ``auto`` (CUDA when a session really gets it, else CPU), ``cuda`` (an error when CUDA
does not work), ``cpu``. onnxruntime-gpu on a machine without CUDA libraries silently falls back
to CPU and logs errors; the one-time probe here is quiet and looks at ``get_providers()``.

Threads: intra-op threads come from ``threads=``, else :func:`set_threads`, else the
``ARTFLOW_THREADS`` setting, else the number of usable cores (at most 8); inter-op threads are 1
(nodes run in parallel at the engine level, not inside a session).

Spinning: ONNX Runtime's worker threads spin-wait between the operators of a run by default,
which makes a run on an idle machine a little faster (measured ~4% for a style model at 512² on
2 threads, one process per setting) but much slower when other processes want the cores (the
spinning threads take their turns; measured ~30% slower beside a training job).
``ARTFLOW_ORT_SPIN`` decides: ``1`` spins, ``0`` never does, ``auto`` (the default) spins only
for a session with 2+ threads opened while the machine is idle (1-minute load average below half
its cores). Spinning sessions stop spinning as soon as a run returns
(``session.force_spinning_stop``), so they never burn CPU between runs.

onnxruntime is imported inside functions only.
"""

from __future__ import annotations

import base64
import os
import threading
from typing import Any

from ..errors import ArtflowError, describe

PROVIDERS = ("auto", "cuda", "cpu")
# artflow's provider names → ONNX Runtime's execution providers
ORT_NAMES = {"cuda": "CUDAExecutionProvider", "cpu": "CPUExecutionProvider"}
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


def onnxruntime() -> Any:
    """The onnxruntime module, imported on first use, its default logger quieted."""
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
        ort = onnxruntime()
        if ORT_NAMES["cuda"] not in ort.get_available_providers():
            _cuda_works = False
            _cuda_reason = "this onnxruntime build has no CUDA provider (install onnxruntime-gpu)"
            return False
        options = session_options(1)
        options.log_severity_level = SILENT
        ort.set_default_logger_severity(SILENT)
        try:
            session = ort.InferenceSession(
                _PROBE_MODEL, options, providers=[ORT_NAMES["cuda"], ORT_NAMES["cpu"]]
            )
            got = session.get_providers()
            _cuda_works = ORT_NAMES["cuda"] in got
            if not _cuda_works:
                _cuda_reason = "onnxruntime-gpu could not start CUDA (CUDA/cuDNN libraries missing or no GPU)"
        except Exception as exc:  # noqa: BLE001 - any failure means: no CUDA
            _cuda_works = False
            _cuda_reason = f"CUDA probe failed: {describe(exc, with_type=False)}"
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
    ort = onnxruntime()
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
    from .. import settings

    return settings.get("ARTFLOW_THREADS") or min(usable_cores(), 8)


def session_options(threads: int) -> Any:
    ort = onnxruntime()
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
    from .. import settings

    value = settings.get("ARTFLOW_ORT_SPIN")
    if value == "1":
        return threads > 1
    if value == "0":
        return False
    if threads < 2:
        return False
    try:
        return os.getloadavg()[0] < usable_cores() / 2
    except OSError:  # no load average on this platform
        return False


