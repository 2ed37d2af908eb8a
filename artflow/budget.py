"""Resource budgets, checked before any pixel is computed.

Every node gives an :class:`Estimate` from its params and its inputs' shapes: the shapes of its
outputs, the working memory it needs besides them, and work units for iterative generators.
Shapes propagate through the plan from params (a generator's width × height × count) and image
headers (``image.load``); a node that declares no estimate keeps its first image input's shape.
The plan is refused, with one line naming the node, the estimate and the limit, when its
memory at the worst moment exceeds the run's memory budget (``ARTFLOW_MAX_MEMORY_MB``, by
default half of physical memory, divided among gallery workers) or a node's work exceeds
``ARTFLOW_MAX_WORK``. A node declared ``itemwise`` whose working memory would not fit runs in
chunks of items instead. Intermediates nobody asked for are dropped as soon as their last
consumer has run, and the estimate counts memory the same way.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ArtflowError
from .settings import DEFAULT_MAX_WORK

if TYPE_CHECKING:
    from .nodes import NodeSpec
    from .plan import Plan

Shape = tuple[int, ...]
MB = 1024 * 1024


class BudgetError(ArtflowError):
    """A run would need more memory or work than its budget allows."""


@dataclass
class Estimate:
    """What one node needs: output shapes (None: unknown), working bytes, work units."""

    outputs: dict[str, Shape | None] = field(default_factory=dict)
    working_bytes: int = 0
    work: int = 0


#: ``estimate(params, input_shapes, input_dir)``: what a node needs, before it runs
EstimateFn = Callable[[dict[str, Any], dict[str, "Shape | None"], Path], Estimate]


def nbytes(shape: Shape | None, itemsize: int = 4) -> int:
    """Bytes of an array of this shape (0 when unknown)."""
    return 0 if shape is None else int(math.prod(shape)) * itemsize


def image_shape(params: dict[str, Any], channels: int = 4) -> Shape:
    """(count, height, width, channels) from a generator's params."""
    return (int(params.get("count") or 1), int(params["height"]), int(params["width"]), channels)


def generator(channels: int = 4, working: float = 2.0) -> EstimateFn:
    """An estimate for a node that draws ``count`` images of ``width`` × ``height``."""

    def estimate(params: dict[str, Any], inputs: dict[str, Shape | None], input_dir: Path) -> Estimate:
        shape = image_shape(params, channels)
        per_item = nbytes((1,) + shape[1:])
        return Estimate({"image": shape}, working_bytes=int(working * per_item))

    return estimate


def default_estimate(spec: NodeSpec, params: dict[str, Any], inputs: dict[str, Shape | None]) -> Estimate:
    """No declaration: array outputs keep the first image input's size; numpy temporaries
    are taken as twice the inputs and outputs."""
    arrays = [s for s in inputs.values() if s is not None and len(s) == 4]
    base = arrays[0] if arrays else None
    count = max((s[0] for s in inputs.values() if s), default=None)
    if base is None and isinstance(params.get("width"), int) and isinstance(params.get("height"), int):
        base = image_shape(params)  # a generator: count × height × width from its params
        count = base[0]
    out: dict[str, Shape | None] = {}
    for socket in spec.outputs:
        kind = socket.type.name
        if kind in ("IMAGE", "MASK", "LATENT_MAP") and base is not None:
            out[socket.name] = (count or base[0], base[1], base[2], 1 if kind == "MASK" else max(base[3], 3))
        elif kind not in ("IMAGE", "MASK", "LATENT_MAP", "LATENT") and count is not None:
            out[socket.name] = (count,)
        else:
            out[socket.name] = None
    size = sum(nbytes(s) for s in arrays) + sum(nbytes(s) for s in out.values() if s and len(s) == 4)
    return Estimate(out, working_bytes=2 * size)


@dataclass
class Budget:
    """The limits a run is checked against."""

    memory_bytes: int
    max_work: int = DEFAULT_MAX_WORK

    @classmethod
    def from_settings(cls, workers: int = 1) -> Budget:
        from . import settings

        memory_mb = int(settings.get("ARTFLOW_MAX_MEMORY_MB"))
        return cls(memory_mb * MB // max(1, workers), int(settings.get("ARTFLOW_MAX_WORK")))


def estimate_node(spec: NodeSpec, params: dict[str, Any], inputs: dict[str, Shape | None],
                  input_dir: Path) -> Estimate:
    fn = spec.estimate
    try:
        return fn(params, inputs, input_dir) if fn is not None else default_estimate(spec, params, inputs)
    except ArtflowError:
        raise
    except Exception:  # noqa: BLE001 - an estimate never breaks a run: unknown instead
        return Estimate({s.name: None for s in spec.outputs})


def check_plan(plan: Plan, budget: Budget, wanted: set[str]) -> dict[str, int]:
    """Refuse a plan over budget; returns the item chunk size for itemwise nodes that need one.

    Memory is simulated in execution order: cached inputs and every output stay alive until
    their last consumer ran (wanted outputs until the end), plus the running node's working
    memory. A plan with nothing to run (a cached re-run) is not estimated at all: estimates
    may read image headers, and a re-run should touch nothing.
    """
    if not plan.to_run:
        return {}
    vg = plan.vg
    shapes: dict[tuple[str, str], Shape | None] = {}
    estimates: dict[str, Estimate] = {}
    for node_id in vg.order:
        spec = vg.specs[node_id]
        inputs = {name: shapes.get((src, out)) for name, (src, out) in vg.inputs[node_id].items()}
        est = estimate_node(spec, vg.params[node_id], inputs, plan.input_dir)
        estimates[node_id] = est
        for socket in spec.outputs:
            shapes[(node_id, socket.name)] = est.outputs.get(socket.name)
    for node_id in plan.to_run:
        est = estimates[node_id]
        if est.work > budget.max_work:
            spec = vg.specs[node_id]
            raise BudgetError(f"node '{node_id}' ({spec.name}) would do about {est.work:,} units of work, "
                              f"over the limit of {budget.max_work:,} (ARTFLOW_MAX_WORK); lower its "
                              "count, size or iterations")
    consumers = {n: 0 for n in vg.order}
    for node_id in plan.to_run:
        for src, _ in vg.inputs[node_id].values():
            consumers[src] += 1
    alive: dict[str, int] = {}
    for node_id in vg.order:  # cached values the run reads
        if node_id not in plan.to_run and consumers[node_id]:
            alive[node_id] = _outputs_bytes(estimates[node_id])
    chunks: dict[str, int] = {}
    for node_id in plan.to_run:
        spec = vg.specs[node_id]
        est = estimates[node_id]
        out_bytes = _outputs_bytes(est)
        held = sum(alive.values())
        need = held + out_bytes + est.working_bytes
        if need > budget.memory_bytes:
            items = max((s[0] for s in est.outputs.values() if s), default=1)
            per_item = est.working_bytes / max(1, items)
            room = budget.memory_bytes - held - out_bytes
            if spec.itemwise and items > 1 and room > per_item:
                chunks[node_id] = max(1, int(room // max(1.0, per_item)))
            else:
                raise BudgetError(
                    f"node '{node_id}' ({spec.name}) needs about {_mb(out_bytes + est.working_bytes)} "
                    f"({_mb(out_bytes)} output, {_mb(est.working_bytes)} working) with "
                    f"{_mb(held)} held by other nodes, over the memory budget of {_mb(budget.memory_bytes)} "
                    "(ARTFLOW_MAX_MEMORY_MB); lower its size or count, or raise the budget")
        alive[node_id] = out_bytes
        for src, _ in vg.inputs[node_id].values():
            consumers[src] -= 1
            if consumers[src] == 0 and src not in wanted:
                alive.pop(src, None)
    return chunks


def _outputs_bytes(est: Estimate) -> int:
    return sum(nbytes(s) for s in est.outputs.values() if s is not None and len(s) >= 2)


def _mb(value: float) -> str:
    return f"{value / MB:,.0f} MB"
