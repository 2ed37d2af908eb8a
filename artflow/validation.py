"""Graph validation: everything that can be checked before anything runs — unknown node types,
params outside what a node declares, missing or unknown inputs, type mismatches, cycles — each
reported as one line naming the node, the socket or param, what is allowed and a close match."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import GraphError, ParamError
from .nodes import NodeSpec

if TYPE_CHECKING:
    from .graph import Graph, NodeInstance
    from .registry import NodeRegistry


@dataclass
class ValidatedGraph:
    """A graph that passed validation: specs, params in node form, resolved inputs, a topo order."""

    graph: Graph
    specs: dict[str, NodeSpec]
    params: dict[str, dict[str, Any]]
    inputs: dict[str, dict[str, tuple[str, str]]]
    order: list[str]

    def consumers(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {n: [] for n in self.order}
        for node_id, ins in self.inputs.items():
            for src, _ in ins.values():
                out[src].append(node_id)
        return out


def validate(graph: Graph, registry: NodeRegistry) -> ValidatedGraph:
    specs: dict[str, NodeSpec] = {}
    params: dict[str, dict[str, Any]] = {}
    inputs: dict[str, dict[str, tuple[str, str]]] = {}
    for inst in graph:
        spec = registry.get(inst.type, node_id=inst.id)
        specs[inst.id] = spec
        params[inst.id] = _validate_params(inst, spec)
    for inst in graph:
        spec = specs[inst.id]
        resolved: dict[str, tuple[str, str]] = {}
        for name, ref in inst.inputs.items():
            socket = spec.input(name)
            if socket is None:
                known = ", ".join(s.name for s in spec.inputs) or "none"
                hint = _close(name, [s.name for s in spec.inputs] + list(spec.params))
                raise GraphError(f"node '{inst.id}' ({inst.type}) has no input '{name}'{hint} "
                                 f"(inputs: {known})")
            if ref.node not in graph.nodes:
                raise GraphError(f"node '{inst.id}' input '{name}' refers to missing node '{ref.node}'")
            src_spec = specs[ref.node]
            out_name = ref.output or src_spec.outputs[0].name
            out = src_spec.output(out_name)
            if out is None:
                known = ", ".join(s.name for s in src_spec.outputs)
                raise GraphError(f"node '{inst.id}' input '{name}' refers to '{ref.node}.{out_name}', "
                                 f"but {src_spec.name} has no output '{out_name}' (outputs: {known})")
            if out.type != socket.type:
                raise GraphError(
                    f"type mismatch: '{ref.node}.{out_name}' ({src_spec.name}) gives {out.type} but "
                    f"'{inst.id}.{name}' ({spec.name}) takes {socket.type}"
                )
            resolved[name] = (ref.node, out_name)
        for socket in spec.inputs:
            if socket.name not in resolved and not socket.optional:
                raise GraphError(f"node '{inst.id}' ({inst.type}) is missing its input '{socket.name}' "
                                 f"({socket.type}); connect it to a node's output")
        inputs[inst.id] = resolved
    order = _topological(graph, inputs)
    return ValidatedGraph(graph, specs, params, inputs, order)


def _close(name: str, names: list[str]) -> str:
    match = difflib.get_close_matches(name, names, n=1)
    return f" (did you mean '{match[0]}'?)" if match else ""


def _validate_params(inst: NodeInstance, spec: NodeSpec) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in inst.params:
        if name not in spec.params:
            if spec.input(name) is not None:
                raise ParamError(f"node '{inst.id}' ({inst.type}): '{name}' is an input, not a param; "
                                 "connect it to a node's output")
            known = ", ".join(spec.params) or "none"
            raise ParamError(f"node '{inst.id}' ({inst.type}) has no param '{name}'"
                             f"{_close(name, list(spec.params))} (params: {known})")
    for name, decl in spec.params.items():
        if name in inst.params:
            out[name] = decl.validate(inst.id, inst.type, name, inst.params[name])
        elif decl.required:
            raise ParamError(f"node '{inst.id}' ({inst.type}) needs param '{name}': {decl.allowed()}")
        else:
            out[name] = decl.validate(inst.id, inst.type, name, decl.default) \
                if decl.default is not None else None
    return out


def _topological(graph: Graph, inputs: dict[str, dict[str, tuple[str, str]]]) -> list[str]:
    """Kahn's algorithm in insertion order; a cycle is reported with the nodes on it."""
    deps = {n: {src for src, _ in ins.values()} for n, ins in inputs.items()}
    indeg = {n: len(d) for n, d in deps.items()}
    users: dict[str, list[str]] = {n: [] for n in deps}
    for n, d in deps.items():
        for src in d:
            users[src].append(n)
    ready = [n for n in graph.nodes if indeg[n] == 0]
    order: list[str] = []
    while ready:
        n = ready.pop(0)
        order.append(n)
        for user in users[n]:
            indeg[user] -= 1
            if indeg[user] == 0:
                ready.append(user)
    if len(order) < len(deps):
        left = {n for n in deps if n not in order}
        raise GraphError(f"cycle: {' -> '.join(_find_cycle(left, deps))}; a node cannot depend on "
                         "its own output")
    return order


def _find_cycle(left: set[str], deps: dict[str, set[str]]) -> list[str]:
    start = sorted(left)[0]
    path = [start]
    seen = {start}
    node = start
    while True:
        node = sorted(d for d in deps[node] if d in left)[0]
        if node in seen:
            cycle = path[path.index(node):] + [node]
            return cycle[::-1]
        path.append(node)
        seen.add(node)
