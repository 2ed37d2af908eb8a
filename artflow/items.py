"""Runs split into items: a source whose data cannot travel as one batch runs the graph once per item.

An ``image.load`` glob that matches images of different sizes cannot be one (N, H, W, C) batch.
Rather than failing (or resizing them all, which ``fit='first'`` still does on request), the
engine asks the source node's ``items`` hook for one set of param overrides per item and runs the
graph once per item, each at its own size, exactly as the gallery runs one job per item:

* every item is planned, budget-checked, cached and keyed on its own (editing one photo re-runs
  that photo's item only);
* nodes downstream of the source learn which item they serve (``ctx.item``), so writers name
  files as a batch would (``out_0000.png``, ``out_0001.png``, ``{index}`` = the item's index);
  a writer that needs the whole batch in one file (an animation) says so and how to fix it;
* nodes not downstream of the source run once (the later items find them in the cache);
* a failing item does not stop the others; the run then raises the first failure, as a batch does.

The result is one :class:`artflow.result.RunResult` over the whole graph: statuses merged,
seconds summed, list outputs (saved paths, names) joined in item order, batches joined where
their sizes agree; ``result.items`` holds each item's own result.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import GraphError, NodeError
from .lineage import NodeLineage, NodeStatus
from .nodes import Item, NodeContext
from .result import RunResult

if TYPE_CHECKING:
    from .engine import Engine
    from .graph import Graph
    from .validation import ValidatedGraph


@dataclasses.dataclass
class Split:
    """A source node whose items run one at a time, with each item's param overrides."""

    source: str
    overrides: list[dict[str, Any]]
    names: list[str]
    downstream: set[str]


def find_split(vg: ValidatedGraph, input_dir: Path) -> Split | None:
    """The one source of this graph that asks to run per item, or None; two is an error."""
    found: list[tuple[str, list[tuple[str, dict[str, Any]]]]] = []
    for node_id in vg.order:
        spec = vg.specs[node_id]
        if spec.items is None:
            continue
        ctx = NodeContext(node_id=node_id, node_type=spec.name, seed=vg.graph.seed,
                          output_dir=Path.cwd(), input_dir=input_dir,
                          read_policy=getattr(vg.graph, "read_policy", None))
        try:
            overrides = spec.items(dict(vg.params[node_id]), ctx)
        except NodeError:
            raise
        except Exception as exc:  # noqa: BLE001 - named with the node, like any node failure
            raise NodeError(node_id, spec.name, exc) from exc
        if overrides:
            found.append((node_id, list(overrides)))
    if not found:
        return None
    if len(found) > 1:
        names = ", ".join(f"'{n}'" for n, _ in found)
        raise GraphError(f"nodes {names} each need to run one item at a time (images of mixed sizes); "
                         "only one source may split a run: set fit='first' on all but one of them")
    source, items = found[0]
    return Split(source, [dict(o) for _, o in items], [str(n) for n, _ in items],
                 downstream(vg, source) | {source})


def run_split(engine: Engine, graph: Graph, vg: ValidatedGraph, split: Split, *,
              raise_errors: bool = True, **options: Any) -> RunResult:
    """Run ``graph`` (validated as ``vg``) once per item of ``split`` (options as
    :meth:`Engine.run`) and merge."""
    start = time.perf_counter()
    results: list[RunResult] = []
    count = len(split.overrides)
    for index, override in enumerate(split.overrides):
        part = graph.copy()
        part.set(split.source, **override)
        item = Item(index=index, count=count, source=split.source, name=split.names[index])
        results.append(engine.run_item(part, {n: item for n in split.downstream},
                                       raise_errors=False, **options))
    merged = merge(graph, vg, results, split)
    merged.wall_seconds = time.perf_counter() - start
    if raise_errors:
        for index, part in enumerate(results):
            part.raise_first_failure(f"item {index} ('{split.names[index]}'): ", report=merged)
    return merged


def merge(graph: Graph, vg: ValidatedGraph, results: list[RunResult], split: Split) -> RunResult:
    """One result over the whole graph from the items' results (see the module doc)."""
    lineage: dict[str, NodeLineage] = {}
    values: dict[str, Any] = {}
    for node_id in vg.order:
        records = [r.lineage[node_id] for r in results]
        lineage[node_id] = _merge_records(records)
        present = [r.values[node_id] for r in results if node_id in r.values]
        if not present:
            continue
        if node_id not in split.downstream:
            values[node_id] = present[0]
        elif len(present) == len(results):
            values[node_id] = _join(present)
    merged = RunResult(graph, vg, lineage, values, output_dir=results[0].output_dir)
    merged.items = results
    merged.per_item = frozenset(split.downstream)
    for part in results:
        for node_id, exc in part.exceptions.items():
            merged.exceptions.setdefault(node_id, exc)
    return merged


_RANK = {NodeStatus.FAILED: 0, NodeStatus.RAN: 1, NodeStatus.PENDING: 2, NodeStatus.CACHED: 3,
         NodeStatus.SKIPPED: 4}


def _merge_records(records: list[NodeLineage]) -> NodeLineage:
    """The most telling record (failed, else ran, else cached), with the items' seconds summed."""
    best = min(records, key=lambda r: _RANK[r.status])
    return dataclasses.replace(best, seconds=sum(r.seconds for r in records),
                               models=dict(best.models), notes=dict(best.notes))


def _join(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """Outputs joined in item order: lists concatenated, arrays where their shapes agree."""
    out: dict[str, Any] = {}
    for name, first in parts[0].items():
        values = [p.get(name) for p in parts]
        if all(isinstance(v, list) for v in values):
            out[name] = [x for v in values for x in v]
        elif all(isinstance(v, np.ndarray) and v.ndim >= 1 and v.shape[1:] == first.shape[1:]
                 and v.dtype == first.dtype for v in values):
            joined = np.concatenate(values)
            joined.flags.writeable = False
            out[name] = joined
    return out


def downstream(vg: ValidatedGraph, source: str) -> set[str]:
    """Every node that reads, directly or not, an output of ``source`` (not ``source`` itself)."""
    users = vg.consumers()
    seen: set[str] = set()
    stack = [source]
    while stack:
        for user in users[stack.pop()]:
            if user not in seen:
                seen.add(user)
                stack.append(user)
    return seen
