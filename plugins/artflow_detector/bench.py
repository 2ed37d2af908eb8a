"""The graph `benchmarks/run.py` times for a shipped detector."""

from __future__ import annotations

from typing import Any


def node_bench(name: str, card: Any) -> tuple[Any, str, str]:
    """A 256x256 shapes image → detect.objects (graph, source id, node id)."""
    import artflow as af

    g = af.Graph(seed=1)
    src = g.add("generate.shapes", width=256, height=256)
    found = g.add("detect.objects", image=src, model=name)
    return g, src.id, found.id
