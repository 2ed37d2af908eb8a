"""Registries of node types and trainers, filled by plugins (models: :mod:`artflow.models`)."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from typing import Any

from .errors import GraphError
from .nodes import NodeSpec


class NodeRegistry:
    """Node types by dotted name."""

    def __init__(self) -> None:
        self._specs: dict[str, NodeSpec] = {}

    def add(self, spec: NodeSpec, plugin: str) -> None:
        if not isinstance(spec, NodeSpec):
            raise TypeError(f"register_nodes expects node specs (use @artflow.node), got {spec!r}")
        if spec.name in self._specs:
            other = self._specs[spec.name].plugin
            raise ValueError(f"node type '{spec.name}' is already registered by '{other}'")
        spec.plugin = plugin
        self._specs[spec.name] = spec

    def get(self, name: str, *, node_id: str | None = None) -> NodeSpec:
        try:
            return self._specs[name]
        except KeyError:
            where = f"node '{node_id}': " if node_id else ""
            close = difflib.get_close_matches(name, self._specs, n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            raise GraphError(
                f"{where}unknown node type '{name}'; {hint}`artflow nodes` lists the known types"
            ) from None

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    def __iter__(self) -> Iterator[NodeSpec]:
        return iter(sorted(self._specs.values(), key=lambda s: (s.category, s.name)))

    def __len__(self) -> int:
        return len(self._specs)


Trainer = Callable[..., Any]


class TrainerRegistry:
    """Trainers by model kind (`artflow train KIND`)."""

    def __init__(self) -> None:
        self._trainers: dict[str, tuple[Trainer, str]] = {}

    def add(self, kind: str, trainer: Trainer, plugin: str = "") -> None:
        if kind in self._trainers:
            raise ValueError(f"a trainer for '{kind}' is already registered by "
                             f"'{self._trainers[kind][1]}'")
        self._trainers[kind] = (trainer, plugin)

    def get(self, kind: str) -> Trainer:
        if kind not in self._trainers:
            known = ", ".join(sorted(self._trainers)) or "none"
            raise GraphError(f"no trainer for '{kind}' (known: {known})")
        return self._trainers[kind][0]

    def kinds(self) -> list[str]:
        return sorted(self._trainers)
