"""Fixtures for the generator plugin: graphs that run its nodes on the shipped models."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import artflow as af


@pytest.fixture
def run_node() -> Callable[..., dict[str, Any]]:
    """Run one node in a fresh graph (cache off): returns its outputs and the node's run info."""

    def run(node_type: str, *, graph_seed: int = 7, node_id: str = "gen", **params: Any) -> dict[str, Any]:
        g = af.Graph(seed=graph_seed)
        ref = g.add(node_type, node_id, **params)
        result = g.run(use_cache=False)
        out = {name: result[ref[name]] for name in ("image", "latent")}
        out["info"] = result.info[node_id]
        return out

    return run


@pytest.fixture
def images_differ() -> Callable[[np.ndarray, np.ndarray], bool]:
    def differ(a: np.ndarray, b: np.ndarray) -> bool:
        return float(np.abs(a - b).mean()) > 1e-3

    return differ
