"""What a run produced: per-node lineage (status, seconds, key, models, provider) and the
outputs of the nodes the run computed or took from the cache. Indexing a result never runs
anything and never reads the disk."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import handoff
from .cache import Outputs
from .errors import ArtflowError, NodeError
from .lineage import NodeLineage, NodeStatus

if TYPE_CHECKING:
    from .graph import Graph
    from .validation import ValidatedGraph


@dataclass
class RunResult:
    """The outcome of one run of a graph."""

    graph: Graph
    validated: ValidatedGraph
    lineage: dict[str, NodeLineage]
    values: dict[str, Outputs] = field(default_factory=dict)
    wall_seconds: float = 0.0
    exceptions: dict[str, BaseException] = field(default_factory=dict)
    output_dir: Path = Path(".")
    #: a run split per item (:mod:`artflow.items`): each item's own result, and the nodes that
    #: ran once per item (their list outputs are joined; batches only where sizes agree)
    items: list[RunResult] = field(default_factory=list)
    per_item: frozenset[str] = frozenset()

    # -- per-node views -------------------------------------------------------------------------
    @property
    def status(self) -> dict[str, NodeStatus]:
        return {n: r.status for n, r in self.lineage.items()}

    @property
    def seconds(self) -> dict[str, float]:
        return {n: r.seconds for n, r in self.lineage.items() if r.status is NodeStatus.RAN}

    @property
    def errors(self) -> dict[str, str]:
        return {n: r.error for n, r in self.lineage.items() if r.error}

    @property
    def keys(self) -> dict[str, str]:
        return {n: r.key for n, r in self.lineage.items()}

    @property
    def info(self) -> dict[str, dict[str, Any]]:
        """Per node: the provider that ran it, its models (value → sha256) and its own notes."""
        out: dict[str, dict[str, Any]] = {}
        for n, r in self.lineage.items():
            item = dict(r.notes)
            if r.provider:
                item["provider"] = r.provider
            if r.models:
                item["models"] = r.model_shas()
            out[n] = item
        return out

    @property
    def ran(self) -> list[str]:
        return [n for n in self.validated.order if self.lineage[n].status is NodeStatus.RAN]

    @property
    def ok(self) -> bool:
        return not any(r.error for r in self.lineage.values())

    def providers(self) -> list[str]:
        found: set[str] = set()
        for r in self.lineage.values():
            if r.provider:
                found.add(r.provider)
            found.update(r.upstream_providers)
        return sorted(found)

    def models(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for r in self.lineage.values():
            out.update(r.model_shas())
        return out

    def lineage_of(self, *node_ids: str) -> dict[str, NodeLineage]:
        """The lineage records of the given nodes and everything upstream of them."""
        seen: set[str] = set()
        stack = list(node_ids)
        while stack:
            n = stack.pop()
            if n not in seen:
                seen.add(n)
                stack.extend(src for src, _ in self.validated.inputs[n].values())
        return {n: self.lineage[n] for n in self.validated.order if n in seen}

    def raise_first_failure(self, prefix: str = "", report: RunResult | None = None) -> None:
        """Raise a :class:`NodeError` for the first failed node in graph order, if any, with
        ``.result`` set to ``report`` (default: this result); ``prefix`` goes before its error."""
        failed = [n for n in self.validated.order if self.lineage[n].status is NodeStatus.FAILED]
        if failed:
            first = failed[0]
            message = prefix + (self.lineage[first].error or "")
            err = NodeError(first, self.validated.specs[first].name, message)
            err.result = report or self  # type: ignore[attr-defined]
            raise err from self.exceptions.get(first)

    # -- outputs --------------------------------------------------------------------------------
    def outputs(self, node: Any) -> Outputs:
        """All outputs of a node that this run computed or took from the cache."""
        node_id = getattr(node, "id", node)
        if node_id not in self.lineage:
            raise ArtflowError(f"no node '{node_id}' in this run")
        if node_id in self.values:
            return self.values[node_id]
        if node_id in self.per_item:
            raise ArtflowError(f"node '{node_id}' ran once per item ({len(self.items)} images of mixed "
                               f"sizes); take each item's value from result.items[i]['{node_id}']")
        record = self.lineage[node_id]
        if record.status is NodeStatus.FAILED:
            raise ArtflowError(f"node '{node_id}' failed: {record.error}")
        if record.error:
            raise ArtflowError(f"node '{node_id}' did not run: {record.error}")
        raise ArtflowError(f"node '{node_id}' was not computed by this run (its consumers were "
                           f"cached); run again with outputs=['{node_id}'] to get its value")

    def __getitem__(self, ref: Any) -> Any:
        if isinstance(ref, tuple):
            node, output = ref
        else:
            output = getattr(ref, "output", None)
            node = getattr(ref, "node", None)
            if not isinstance(node, str):  # a NodeRef or a node id: its first output
                node = getattr(ref, "id", ref)
                spec = self.validated.specs.get(node)
                output = spec.outputs[0].name if spec is not None else None
        outs = self.outputs(node)
        if output is None:
            return next(iter(outs.values()))
        if output not in outs and node in self.per_item:
            raise ArtflowError(f"'{node}.{output}' differs in size between the {len(self.items)} items "
                               f"of this run; take each from result.items[i]['{node}', '{output}']")
        return outs[output]

    def __repr__(self) -> str:
        counts: dict[str, int] = {}
        for r in self.lineage.values():
            counts[r.status.value] = counts.get(r.status.value, 0) + 1
        text = ", ".join(f"{v} {k}" for k, v in sorted(counts.items()))
        return f"<RunResult {len(self.lineage)} nodes: {text}; {self.wall_seconds:.3f} s>"

    def _repr_html_(self) -> str:
        """Notebook view: thumbnails of the image outputs with node names, statuses and seconds."""
        return handoff.call("result.html", self)  # artflow.display

    def show(self) -> Any:
        """Display the outputs inline in a notebook, or open them in the browser elsewhere."""
        return handoff.call("result.show", self)

    def to_json(self) -> dict[str, Any]:
        """The `artflow run --json` object."""
        nodes = {}
        for n in self.validated.order:
            r = self.lineage[n]
            nodes[n] = {"status": r.status.value, "seconds": round(r.seconds, 6)}
            if r.error:
                nodes[n]["error"] = r.error
        outputs: dict[str, Any] = {}
        for n in self.validated.order:
            if n not in self.values:
                continue
            spec = self.validated.specs[n]
            values = self.values[n]
            outputs[n] = {s.name: s.type.summary(values[s.name]) for s in spec.outputs if s.name in values}
        data: dict[str, Any] = {"nodes": nodes, "outputs": outputs}
        if self.items:
            data["items"] = len(self.items)
        return data
