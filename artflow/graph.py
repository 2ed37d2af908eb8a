"""Graphs of typed nodes: a Python API that reads well in a sketch, and JSON format version 1.

    g = Graph(seed=7)
    photo = g.add("image.load", path="cat.jpg")
    small = g.add("image.resize", image=photo, width=256)
    g.add("image.save", image=small, path="out/cat.png")
    result = g.run()
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import handoff
from .errors import GraphError

if TYPE_CHECKING:
    from .paths import ReadPolicy
    from .registry import NodeRegistry
    from .result import RunResult
    from .validation import ValidatedGraph

FORMAT_VERSION = 1
#: deepest nesting of lists/objects a graph may hold (graph, nodes, node, params, value = 5)
MAX_DEPTH = 32
_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")


@dataclass(frozen=True)
class OutputRef:
    """One output socket of one node: what an input connects to."""

    node: str
    output: str | None = None

    def to_json(self) -> str:
        return self.node if self.output is None else f"{self.node}.{self.output}"

    @classmethod
    def parse(cls, text: Any, where: str) -> OutputRef:
        if not isinstance(text, str) or not text:
            raise GraphError(f"{where}: an input must be \"node\" or \"node.output\", got {text!r}")
        node, _, output = text.partition(".")
        return cls(node, output or None)


@dataclass
class NodeInstance:
    """A node in a graph: its type, where its inputs come from, and its param values as given."""

    id: str
    type: str
    inputs: dict[str, OutputRef] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type}
        if self.inputs:
            out["inputs"] = {k: v.to_json() for k, v in self.inputs.items()}
        if self.params:
            out["params"] = copy.deepcopy(self.params)
        return out


class NodeRef:
    """A handle on a node of a graph, returned by :meth:`Graph.add`.

    Pass it as another node's input (its first output), or ``ref["output"]`` for a named one.
    """

    def __init__(self, graph: Graph, node_id: str):
        self.graph = graph
        self.id = node_id

    def __getitem__(self, output: str) -> OutputRef:
        return OutputRef(self.id, output)

    def __repr__(self) -> str:
        return f"<node {self.id} ({self.graph.nodes[self.id].type})>"

    @property
    def params(self) -> dict[str, Any]:
        return self.graph.nodes[self.id].params

    def set(self, **params: Any) -> NodeRef:
        """Change params of this node; the next run re-runs only what depends on them."""
        self.graph.set(self, **params)
        return self


class Graph:
    """A typed node graph with a seed; build it in Python or load it from JSON."""

    def __init__(self, seed: int = 0, *, meta: Mapping[str, Any] | None = None,
                 source: str | Path | None = None, frames: int | None = None, fps: float | None = None):
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise GraphError(f"graph seed must be an integer, got {seed!r}")
        self.seed = seed
        #: run over time (artflow.timeline): how many frames, at what rate; ``frame``: only that one
        self.frames, self.fps = _time_field("frames", frames), _time_field("fps", fps)
        self.frame: int | None = None
        self.nodes: dict[str, NodeInstance] = {}
        self.meta: dict[str, Any] = dict(meta or {})
        self.source = Path(source) if source else None
        #: where relative input paths (image.load) resolve: the graph file's folder, else cwd
        self.input_dir: Path | None = self.source.parent if self.source else None
        #: set on a graph read from a picture: where it may read (artflow.paths.ReadPolicy)
        self.read_policy: ReadPolicy | None = None

    # -- building -------------------------------------------------------------------------------
    def add(self, type: str, node_id: str | None = None, /, **kwargs: Any) -> NodeRef:  # noqa: A002
        """Add a node. Keyword arguments that are node refs become inputs, the rest params."""
        if node_id is None:
            base = type.split(".")[-1]
            n = 1
            while f"{base}{n}" in self.nodes:
                n += 1
            node_id = f"{base}{n}"
        _check_id(node_id)
        if node_id in self.nodes:
            raise GraphError(f"node id '{node_id}' is already used in this graph")
        inst = NodeInstance(node_id, type)
        for name, value in kwargs.items():
            ref = _as_ref(_array_input(self, value))
            if ref is not None:
                if isinstance(value, NodeRef) and value.graph is not self:
                    raise GraphError(f"node '{node_id}': input '{name}' refers to a node of another graph")
                inst.inputs[name] = ref
            else:
                inst.params[name] = value
        self.nodes[node_id] = inst
        return NodeRef(self, node_id)

    def set(self, node: NodeRef | str, **params: Any) -> None:
        """Set params of a node (by ref or id)."""
        inst = self._instance(node)
        for name, value in params.items():
            ref = _as_ref(value)
            if ref is not None:
                inst.inputs[name] = ref
            else:
                inst.params[name] = value

    def connect(self, source: NodeRef | OutputRef | str, target: NodeRef | str, input: str) -> None:  # noqa: A002
        """Connect an output to an input (replacing what was there)."""
        ref = _as_ref(source) if not isinstance(source, str) else OutputRef.parse(source, "connect")
        assert ref is not None
        self._instance(target).inputs[input] = ref

    def remove(self, node: NodeRef | str) -> None:
        """Remove a node; inputs that pointed at it are left dangling (validation reports them)."""
        del self.nodes[self._instance(node).id]

    def node(self, node_id: str) -> NodeRef:
        self._instance(node_id)
        return NodeRef(self, node_id)

    def __iter__(self) -> Iterator[NodeInstance]:
        return iter(self.nodes.values())

    def __len__(self) -> int:
        return len(self.nodes)

    def __repr__(self) -> str:
        return handoff.call("graph.repr", self)  # artflow.display

    def _repr_svg_(self) -> str:  # the layered diagram of artflow.diagram, in notebooks
        return handoff.call("graph.svg", self)

    def sinks(self) -> list[str]:
        """Ids of the nodes no other node reads from (what a run is usually for)."""
        used = {ref.node for inst in self.nodes.values() for ref in inst.inputs.values()}
        return [n for n in self.nodes if n not in used]

    def copy(self) -> Graph:
        twin = Graph.from_dict(self.to_dict(), source=self.source)
        twin.input_dir = self.input_dir
        twin.read_policy = self.read_policy
        return twin

    def _instance(self, node: NodeRef | str) -> NodeInstance:
        node_id = node.id if isinstance(node, NodeRef) else node
        try:
            return self.nodes[node_id]
        except KeyError:
            raise GraphError(f"no node '{node_id}' in this graph") from None

    # -- JSON -----------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"artflow": FORMAT_VERSION, "seed": self.seed}
        for name in ("frames", "fps", "frame"):
            if getattr(self, name, None) is not None:
                out[name] = getattr(self, name)
        if self.meta:
            out["meta"] = copy.deepcopy(self.meta)
        out["nodes"] = {i: n.to_dict() for i, n in self.nodes.items()}
        return out

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def save(self, path: str | Path) -> Path:
        from .imaging import atomic_write_bytes
        from .sketch import recorded_sketch_nodes, save_arrays

        path = Path(path)
        data = self.to_dict()
        sketches = recorded_sketch_nodes(self)  # a run elsewhere can then name the sketch it needs
        if sketches:
            data["meta"] = {**data.get("meta", {}), "sketch_nodes": sketches}
        atomic_write_bytes(path, (json.dumps(data, indent=2) + "\n").encode())
        if any(n.type == "const.image" for n in self):
            save_arrays(self, path.parent)
        return path

    @classmethod
    def from_dict(cls, data: Any, *, source: str | Path | None = None) -> Graph:
        where = str(source) if source else "graph"
        if not isinstance(data, dict):
            raise GraphError(f"{where}: a graph must be a JSON object with 'artflow', 'seed' and 'nodes'")
        if nested_deeper_than(data, MAX_DEPTH):
            raise GraphError(f"{where}: values are nested more than {MAX_DEPTH} levels deep; "
                             "no node takes params like that")
        version = data.get("artflow")
        if version != FORMAT_VERSION:
            raise GraphError(f"{where}: unsupported graph format {version!r}; this artflow reads "
                             f"\"artflow\": {FORMAT_VERSION}")
        unknown = set(data) - {"artflow", "seed", "nodes", "meta", "frames", "fps", "frame"}
        if unknown:
            raise GraphError(f"{where}: unknown top-level key(s) {sorted(unknown)}; "
                             "allowed: artflow, seed, nodes, meta, frames, fps")
        seed = data.get("seed", 0)
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise GraphError(f"{where}: 'seed' must be an integer, got {seed!r}")
        meta = data.get("meta", {})
        if not isinstance(meta, dict):
            raise GraphError(f"{where}: 'meta' must be an object")
        g = cls(seed, meta=meta, source=source, frames=data.get("frames"), fps=data.get("fps"))
        g.frame = _time_field("frame", data.get("frame"))
        nodes = data.get("nodes")
        if not isinstance(nodes, dict) or not nodes:
            raise GraphError(f"{where}: 'nodes' must be a non-empty object of node id -> node")
        for node_id, body in nodes.items():
            _check_id(node_id)
            if not isinstance(body, dict) or not isinstance(body.get("type"), str):
                raise GraphError(f"node '{node_id}': needs a \"type\" string")
            extra = set(body) - {"type", "inputs", "params"}
            if extra:
                raise GraphError(f"node '{node_id}': unknown key(s) {sorted(extra)}; "
                                 "allowed: type, inputs, params")
            inputs = body.get("inputs", {})
            params = body.get("params", {})
            if not isinstance(inputs, dict) or not isinstance(params, dict):
                raise GraphError(f"node '{node_id}': 'inputs' and 'params' must be objects")
            inst = NodeInstance(node_id, body["type"], params=copy.deepcopy(params))
            for name, text in inputs.items():
                inst.inputs[name] = OutputRef.parse(text, f"node '{node_id}' input '{name}'")
            g.nodes[node_id] = inst
        return g

    @classmethod
    def from_json(cls, text: str, *, source: str | Path | None = None) -> Graph:
        where = str(source) if source else "graph"
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise GraphError(f"{where}: not valid JSON (line {exc.lineno}, column {exc.colno}: "
                             f"{exc.msg})") from None
        except RecursionError:
            raise GraphError(f"{where}: values are nested more than {MAX_DEPTH} levels deep; "
                             "no node takes params like that") from None
        return cls.from_dict(data, source=source)

    @classmethod
    def load(cls, path: str | Path) -> Graph:
        """Load a graph file (JSON). The graph a PNG carries: ``artflow.graph_files.load_graph``."""
        path = Path(path)
        if path.is_dir():
            raise GraphError(f"graph file '{path}' is a folder; give the graph's .json file")
        if not path.is_file():
            raise GraphError(f"graph file '{path}' not found")
        if path.suffix.lower() == ".png":
            raise GraphError(f"'{path}' is a picture: read the graph it carries with "
                             "artflow.graph_files.load_graph (`artflow run` does this)")
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise GraphError(f"cannot read graph file '{path}' ({exc})") from None
        return cls.from_json(text, source=path)

    # -- checking and running ---------------------------------------------------------------------
    def validate(self, registry: NodeRegistry | None = None) -> ValidatedGraph:
        """Check everything that can be checked before running; raise one clear error otherwise."""
        if registry is None:
            from .plugins import get_plugins

            registry = get_plugins().nodes
        from .validation import validate

        return validate(self, registry)

    def run(self, **options: Any) -> RunResult:
        """Run the graph with the shared default engine (see :class:`artflow.engine.Engine`)."""
        return handoff.call("graph.run", self, **options)


def nested_deeper_than(data: Any, limit: int, *, start: int = 1) -> bool:
    """Whether lists/objects in ``data`` nest deeper than ``limit`` (checked without recursion;
    ``data`` itself counts as level ``start``)."""
    stack: list[tuple[Any, int]] = [(data, start)]
    while stack:
        value, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, (list, tuple)):
            stack.extend((v, depth + 1) for v in value)
    return False


def _time_field(name: str, value: Any) -> Any:
    """A graph's frames (whole, >= 1), fps (> 0) or frame (whole, >= 0), or None."""
    if value is None:
        return None
    ok = not isinstance(value, bool) and isinstance(value, (int, float))
    if name == "fps":
        if not ok or not 0 < value <= 1000:
            raise GraphError(f"graph 'fps' must be a number in (0, 1000], got {value!r}")
        return float(value)
    if not ok or not float(value).is_integer() or value < (1 if name == "frames" else 0):
        least = 1 if name == "frames" else 0
        raise GraphError(f"graph '{name}' must be a whole number >= {least}, got {value!r}")
    return int(value)


def _check_id(node_id: Any) -> None:
    if not isinstance(node_id, str) or not _ID.match(node_id):
        raise GraphError(f"invalid node id {node_id!r}: use letters, digits, '_' or '-', "
                         "starting with a letter or '_' (no dots)")


def _array_input(graph: Graph, value: Any) -> Any:
    """A numpy array or PIL image given as an input becomes a const.image node (artflow.sketch)."""
    from .sketch import constant, is_image_value

    return constant(graph, value) if is_image_value(value) else value


def _as_ref(value: Any) -> OutputRef | None:
    if isinstance(value, NodeRef):
        return OutputRef(value.id)
    if isinstance(value, OutputRef):
        return value
    return None
