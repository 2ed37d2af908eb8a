"""Hand-offs up the layers, wired by the package root: the graph hands a run to the engine and
itself to the display and diagram front ends; a run's result hands itself to the display.

The graph and result layers call :func:`call` with a hand-off's name; ``artflow/__init__.py``
says which function serves each name (:func:`provide`), imported on first use. So no module
imports a layer below its own (docs/architecture.md), and ``import artflow`` stays light.
"""

from __future__ import annotations

import importlib
from typing import Any

_TARGETS: dict[str, str] = {}


def provide(name: str, target: str) -> None:
    """Serve hand-off ``name`` with ``"module:function"`` (a later call replaces it)."""
    _TARGETS[name] = target


def call(name: str, *args: Any, **kwargs: Any) -> Any:
    """Call the function serving hand-off ``name``."""
    module, _, attr = _TARGETS[name].partition(":")
    return getattr(importlib.import_module(module), attr)(*args, **kwargs)
