"""artflow's built-in creative image nodes, registered like any third-party plugin.

The drawing helpers in :mod:`artflow_core.draw` (shapes with exact boxes, gradients, Voronoi,
random backgrounds) and :mod:`artflow_core.noise` are plain functions other plugins may import.
"""

from __future__ import annotations

from typing import Any

from artflow import hookimpl

MODULES = (
    "nodes_io",
    "nodes_video",
    "nodes_const",
    "nodes_transform",
    "nodes_color",
    "nodes_filter",
    "nodes_composite",
    "nodes_generate",
    "nodes_annotate",
    "nodes_layout",
)


def all_nodes() -> list[Any]:
    """Every core node spec, in module order."""
    import importlib

    specs: list[Any] = []
    for name in MODULES:
        specs.extend(importlib.import_module(f"{__name__}.{name}").NODES)
    return specs


@hookimpl
def register_nodes(register: Any) -> None:
    """Register every core node type."""
    for spec in all_nodes():
        register(spec)
