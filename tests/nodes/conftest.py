"""Helpers to call core node functions directly (validated params, a real NodeContext), no engine."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from artflow.nodes import NodeContext, NodeSpec
from artflow.registry import NodeRegistry

SPECS: dict[str, NodeSpec] = {}


def specs() -> dict[str, NodeSpec]:
    """Every core node spec by name (imported once), each passed through registration, so the
    schema checks every registered node gets (artflow.registry.check_node) hold for them too."""
    if not SPECS:
        import artflow_core

        registry = NodeRegistry()
        for spec in artflow_core.all_nodes():
            registry.add(spec, "core")
        SPECS.update({s.name: s for s in registry})
    return SPECS


def call_node(
    name: str,
    /,
    *,
    tmp: Path,
    seed: int = 1,
    node_id: str = "n",
    input_dir: Path | None = None,
    provenance: Callable[[], dict[str, str]] | None = None,
    **kwargs: Any,
) -> Any:
    """Run one node as the engine would: params validated (defaults too), missing inputs None."""
    spec = specs()[name]
    unknown = set(kwargs) - set(spec.params) - {s.name for s in spec.inputs}
    assert not unknown, f"{name} has no inputs/params {unknown}"
    params = {}
    for pname, decl in spec.params.items():
        value = kwargs.get(pname, decl.default)
        params[pname] = decl.validate(node_id, name, pname, value) if value is not None else None
    inputs = {s.name: kwargs.get(s.name) for s in spec.inputs}
    ctx = NodeContext(
        node_id=node_id,
        node_type=name,
        seed=seed,
        output_dir=tmp / "out",
        input_dir=input_dir or tmp,
        provenance_fn=provenance or (lambda: {}),
    )
    return spec.fn(ctx, **inputs, **params)


@pytest.fixture
def run(tmp_path: Path) -> Callable[..., Any]:
    """`run("color.invert", image=img, ...)` → the node's output(s)."""

    def _run(name: str, /, **kwargs: Any) -> Any:
        return call_node(name, tmp=tmp_path, **kwargs)

    return _run


def ramp(n: int = 1, h: int = 16, w: int = 24, channels: int = 3, seed: int = 0) -> np.ndarray:
    """A small, varied, deterministic IMAGE batch (gradients plus a little noise)."""
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    base = np.stack([xs / max(w - 1, 1), ys / max(h - 1, 1), 1 - xs / max(w - 1, 1)], axis=-1)
    out = np.stack([np.clip(base + rng.uniform(-0.1, 0.1, base.shape), 0, 1) for _ in range(n)])
    if channels == 4:
        out = np.concatenate([out, np.full(out.shape[:-1] + (1,), 0.8)], axis=-1)
    return out.astype(np.float32)
