"""artflow's built-in creative image nodes, registered like any third-party plugin."""

from __future__ import annotations

from typing import Any

from artflow import hookimpl


@hookimpl
def register_nodes(register: Any) -> None:
    """Register every core node type."""
    from . import nodes_io

    for module in (nodes_io,):
        for spec in module.NODES:
            register(spec)
