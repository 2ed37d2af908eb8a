"""What a run knows about each node: its content key, what happened to it, how long it took,
which models it used (name, kind, sha256) and the ONNX Runtime provider that really ran them.

The engine fills a :class:`NodeLineage` for every node while it plans and runs; nothing is
pulled back from nodes or from disk afterwards. Provenance (`artflow.provenance`) is a pure
function of the graph and these records.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class NodeStatus(str, Enum):
    """What happened to a node in a run (compares equal to its lower-case name)."""

    PENDING = "pending"  # planned to run, not finished yet
    RAN = "ran"
    CACHED = "cached"  # its outputs came from the cache (or are there, unvisited)
    SKIPPED = "skipped"  # not needed, or an upstream node failed
    FAILED = "failed"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class ModelUse:
    """One model a node uses, as the engine resolved and verified it while planning."""

    value: str  # the param value as given: a registered name or an .onnx path
    name: str
    kind: str
    sha256: str
    path: str

    def to_json(self) -> dict[str, str]:
        return {"value": self.value, "name": self.name, "kind": self.kind, "sha256": self.sha256}


@dataclass
class NodeLineage:
    """Everything the run records about one node."""

    node_id: str
    type: str
    key: str
    status: NodeStatus = NodeStatus.SKIPPED
    seconds: float = 0.0
    models: dict[str, ModelUse] = field(default_factory=dict)  # by model param (or value)
    provider: str | None = None  # the provider that really ran this node's models
    #: providers used by this node and everything upstream of it (cached subtrees included)
    upstream_providers: tuple[str, ...] = ()
    error: str | None = None
    notes: dict[str, Any] = field(default_factory=dict)  # what the node put in ctx.info

    def cache_info(self) -> dict[str, Any]:
        """What a cache entry keeps of this record, so a later cache hit knows it too."""
        out: dict[str, Any] = {"models": self.model_shas()}
        if self.provider:
            out["provider"] = self.provider
        if self.upstream_providers:
            out["upstream_providers"] = list(self.upstream_providers)
        if self.notes:
            out["notes"] = self.notes
        return out

    def restore(self, info: Mapping[str, Any]) -> None:
        """Take provider facts from a cache entry's info (the node did not run this time)."""
        self.provider = info.get("provider") or None
        self.upstream_providers = tuple(info.get("upstream_providers") or ())
        notes = info.get("notes")
        if isinstance(notes, dict):
            self.notes = dict(notes)

    def model_shas(self) -> dict[str, str]:
        """Model value (name or path, as given) → sha256."""
        return {use.value: use.sha256 for use in self.models.values()}

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type, "key": self.key, "status": self.status.value,
                               "seconds": round(self.seconds, 6)}
        if self.models:
            out["models"] = {p: m.to_json() for p, m in self.models.items()}
        if self.provider:
            out["provider"] = self.provider
        if self.error:
            out["error"] = self.error
        return out


def merge_providers(own: str | None, upstream: Iterable[Iterable[str]]) -> tuple[str, ...]:
    """The sorted set of providers a node and its inputs' subtrees used."""
    found = {own} if own else set()
    for group in upstream:
        found.update(group)
    return tuple(sorted(found))
