"""The model layer: registry (names → verified files), files (one FileStamp record per file
state: its sha256 and card, shared by registry, cards and sessions), cards (what a model is),
providers and sessions (ONNX Runtime), adapters (IMAGE batches ↔ a model's declared input).

The engine resolves every model a run uses once while planning, opens its session, hands it to
the node (``ctx.session("model")``) and records the model's sha256 and the provider that really
ran in the run's lineage. onnxruntime is imported only when a session or card is first needed.
"""

from __future__ import annotations

from .adapter import prepare_images
from .card import InputSpec, ModelCard, read_card, write_card
from .files import FileStamp
from .providers import (
    PROVIDERS,
    ProviderError,
    choose_provider,
    cuda_available,
    default_threads,
    describe_providers,
    normalize_provider,
    onnxruntime,
    set_threads,
    spin_policy,
    usable_cores,
)
from .registry import ModelEntry, ModelRegistry, file_sha256
from .session import Session, TensorInfo, cached_sessions, clear_sessions, get_session

__all__ = [
    "prepare_images", "FileStamp", "onnxruntime", "InputSpec", "ModelCard", "read_card", "write_card",
    "PROVIDERS",
    "ProviderError", "choose_provider", "cuda_available", "default_threads", "describe_providers",
    "normalize_provider", "set_threads", "spin_policy", "usable_cores", "ModelEntry", "ModelRegistry",
    "file_sha256", "Session", "TensorInfo", "cached_sessions", "clear_sessions", "get_session",
]
