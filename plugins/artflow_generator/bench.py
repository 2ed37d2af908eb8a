"""The graph `benchmarks/run.py` times for a shipped generator."""

from __future__ import annotations

from typing import Any


def node_bench(name: str, card: Any) -> tuple[Any, str, str]:
    """One image from `gan.generate` (graph, source id: none, node id)."""
    import artflow as af

    g = af.Graph(seed=1)
    g.add("gan.generate", "gen", model=name, count=1)
    return g, "", "gen"
