"""Node declarations: a decorator on a plain function carries the schema.

A node function receives a :class:`NodeContext` first, then its inputs (batches) and params
(validated values) as keyword arguments, and returns a dict of outputs, or the value itself
when it declares one output::

    @node("color.invert", category="color", inputs={"image": IMAGE}, outputs={"image": IMAGE})
    def invert(ctx, image):
        "Invert the colours (alpha kept)."
        ...
"""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import GraphError
from .params import Param
from .paths import expand_user
from .types import SocketType

if TYPE_CHECKING:
    from .models import ModelEntry, Session
    from .paths import ReadPolicy


@dataclass(frozen=True)
class Socket:
    """A typed input or output of a node."""

    name: str
    type: SocketType
    doc: str = ""
    optional: bool = False

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "type": self.type.name, "doc": self.doc}
        if self.optional:
            out["optional"] = True
        return out


def In(type: SocketType, doc: str = "", *, optional: bool = False) -> Socket:  # noqa: A002
    """Declare an input socket with a doc line, optionally not required."""
    return Socket("", type, doc, optional)


def Out(type: SocketType, doc: str = "") -> Socket:  # noqa: A002
    """Declare an output socket with a doc line."""
    return Socket("", type, doc)


def _sockets(decl: Mapping[str, SocketType | Socket]) -> tuple[Socket, ...]:
    """Sockets by name; one declared without a doc (a bare type, or ``In(TYPE)``) gets its type's
    doc, so no socket shows blank: give your own with ``af.In(af.IMAGE, "what it is")``."""
    out = []
    for name, value in decl.items():
        if isinstance(value, SocketType):
            out.append(Socket(name, value, value.doc))
        else:
            out.append(Socket(name, value.type, value.doc or getattr(value.type, "doc", ""), value.optional))
    return tuple(out)


@dataclass
class NodeSpec:
    """Everything the engine and the registry know about a node type."""

    name: str
    category: str
    doc: str
    inputs: tuple[Socket, ...]
    outputs: tuple[Socket, ...]
    params: dict[str, Param]
    fn: Callable[..., Any]
    version: int = 1
    deterministic: bool = True
    writes_files: bool = False
    key_extra: Callable[[dict[str, Any]], str] | None = None
    plugin: str = ""
    tags: tuple[str, ...] = field(default_factory=tuple)
    #: the TEXT output listing the files the node wrote (a cache hit needs them to exist)
    files_output: str | None = None
    #: what the node needs before it runs (see :mod:`artflow.budget`); None: the default guess
    estimate: Callable[..., Any] | None = None
    #: items are independent: the engine may run a batch in chunks of items to fit the budget
    itemwise: bool = False
    #: a source whose data may not travel as one batch (see :mod:`artflow.items`)
    items: Callable[..., Any] | None = None
    #: reads ``ctx.frame``/``ctx.time``: in a run over frames it runs once per frame (see
    #: :mod:`artflow.timeline`) even when its params and inputs stay the same
    animated: bool = False
    _fingerprint: str | None = field(default=None, repr=False, compare=False)

    @property
    def fingerprint(self) -> str:
        """A digest of the node's implementation (see :mod:`artflow.fingerprint`), part of its key."""
        if self._fingerprint is None:
            from .fingerprint import code_fingerprint

            self._fingerprint = code_fingerprint(self.fn, self.key_extra)
        return self._fingerprint

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.fn(*args, **kwargs)

    def input(self, name: str) -> Socket | None:
        return next((s for s in self.inputs if s.name == name), None)

    def output(self, name: str) -> Socket | None:
        return next((s for s in self.outputs if s.name == name), None)

    @property
    def model_params(self) -> tuple[str, ...]:
        return tuple(n for n, p in self.params.items() if p.kind == "model")

    def describe(self) -> dict[str, Any]:
        """JSON description: name, category, doc, inputs, outputs, params and flags."""
        return {
            "name": self.name,
            "category": self.category,
            "doc": self.doc,
            "version": self.version,
            "deterministic": self.deterministic,
            "inputs": [s.describe() for s in self.inputs],
            "outputs": [s.describe() for s in self.outputs],
            "params": {n: p.describe() for n, p in self.params.items()},
            "plugin": self.plugin,
        }


def node(
    name: str,
    *,
    category: str,
    inputs: Mapping[str, SocketType | Socket] | None = None,
    outputs: Mapping[str, SocketType | Socket] | None = None,
    params: Mapping[str, Param] | None = None,
    doc: str | None = None,
    version: int = 1,
    deterministic: bool = True,
    writes_files: bool = False,
    key_extra: Callable[[dict[str, Any]], str] | None = None,
    files_output: str | None = None,
    estimate: Callable[..., Any] | None = None,
    itemwise: bool = False,
    items: Callable[..., Any] | None = None,
    animated: bool = False,
) -> Callable[[Callable[..., Any]], NodeSpec]:
    """Declare a node type on a plain function; the function's first docstring line is its doc.

    ``files_output`` names the TEXT output that lists the files the node writes (implies
    ``writes_files``): a cached result is used only while those files still exist.
    ``estimate(params, input_shapes, input_dir)`` returns an :class:`artflow.budget.Estimate`
    (output shapes, working bytes, work units) so the plan is checked before anything runs;
    ``itemwise`` says items are independent, so a batch may run in chunks of items.
    ``items(params, ctx)`` (sources only) returns None when the node's data travels as one
    batch, else one ``(name, param overrides)`` pair per item: the engine then runs the graph
    once per item (images of mixed sizes, each at its own size; see :mod:`artflow.items`).
    ``animated`` says the node reads ``ctx.frame``/``ctx.time``, so a run over frames runs it per frame.
    """

    def wrap(fn: Callable[..., Any]) -> NodeSpec:
        text = doc or (inspect.getdoc(fn) or "").strip().splitlines()[0:1]
        line = text if isinstance(text, str) else (text[0] if text else "")
        if not line:
            raise ValueError(f"node {name!r} needs a one-line doc")
        spec = NodeSpec(
            name=name,
            category=category,
            doc=line,
            inputs=_sockets(inputs or {}),
            outputs=_sockets(outputs or {}),
            params=dict(params or {}),
            fn=fn,
            version=version,
            deterministic=deterministic,
            writes_files=writes_files or files_output is not None,
            key_extra=key_extra,
            files_output=files_output,
            estimate=estimate,
            itemwise=itemwise,
            items=items,
            animated=animated,
        )
        _check_signature(spec)
        return spec

    return wrap


def _check_signature(spec: NodeSpec) -> None:
    """Catch declaration mistakes at import time rather than mid-run."""
    if not spec.outputs:
        raise ValueError(f"node {spec.name!r} declares no outputs")
    if spec.files_output is not None:
        socket = spec.output(spec.files_output)
        if socket is None or socket.type.name != "TEXT":
            raise ValueError(f"node {spec.name!r}: files_output {spec.files_output!r} must name a "
                             "TEXT output")
    names = [s.name for s in spec.inputs] + list(spec.params)
    if len(set(names)) != len(names):
        raise ValueError(f"node {spec.name!r} uses a name twice among inputs and params")
    sig = inspect.signature(spec.fn)
    if any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values()):
        return
    missing = [n for n in names if n not in sig.parameters]
    if missing:
        raise ValueError(f"node {spec.name!r}: function lacks arguments {missing}")


@dataclass(frozen=True)
class Item:
    """Which item of a split run this is: ``index`` of ``count``, split at node ``source``."""

    index: int
    count: int
    source: str
    name: str = ""


@dataclass
class NodeContext:
    """What a running node may use besides its inputs and params.

    Models: the engine resolves, verifies and opens every model param before the node runs;
    ``ctx.session("model")`` is the opened ONNX Runtime session of the param named ``model``,
    ``ctx.model_entry("model")`` its registry entry (card, path, sha256). The engine records
    the sha256 and the provider that ran in the run's lineage: a node reports nothing itself.
    """

    node_id: str
    node_type: str
    seed: int
    output_dir: Path
    provider: str = "auto"
    info: dict[str, Any] = field(default_factory=dict)
    input_dir: Path = field(default_factory=Path.cwd)
    sessions: dict[str, Session] = field(default_factory=dict)
    entries: dict[str, ModelEntry] = field(default_factory=dict)
    #: resolves a model value of a kind through the run's model set (see :meth:`model`)
    resolver: Callable[[str, str], ModelEntry] | None = None
    provenance_fn: Callable[[], dict[str, str]] | None = None
    #: set when the graph runs once per item of a source (:mod:`artflow.items`) and this node is
    #: downstream of it: writers name their files after ``item.index`` so items never collide
    item: Item | None = None
    #: in a run over frames (:mod:`artflow.timeline`): this frame, the frame count and the rate
    frame: int = 0
    frames: int = 1
    fps: float = 24.0

    @property
    def time(self) -> float:
        """Seconds since the first frame (``frame / fps``)."""
        return self.frame / self.fps
    #: where a graph carried by a picture may read (None: anywhere; see artflow.paths.ReadPolicy)
    read_policy: ReadPolicy | None = None

    def input_path(self, path: str) -> Path:
        """Resolve an input path: relative paths are relative to the graph file's folder (or cwd);
        a graph from a picture may not leave the folders its read policy allows."""
        if self.read_policy is not None:
            return self.read_policy.input_path(self.input_dir, path, f"node '{self.node_id}'")
        candidate = expand_user(path)
        return candidate if candidate.is_absolute() else self.input_dir / candidate

    def readable(self, path: Path, raw: str) -> Path:
        """``path`` (a glob match, a file in a folder ``raw`` named) when the read policy allows it."""
        if self.read_policy is not None:
            return self.read_policy.readable(path, raw, f"node '{self.node_id}'")
        return path

    def rng(self, item: int | str = 0) -> np.random.Generator:
        """A generator seeded from (graph seed, node id, item key): each item reproducible alone."""
        digest = hashlib.sha256(f"{self.seed}/{self.node_id}/{item}".encode()).digest()
        return np.random.default_rng(int.from_bytes(digest[:8], "little"))

    def output_path(self, relative: str) -> Path:
        """Resolve a save path under the output folder; refuse anything that escapes it."""
        from .paths import confined

        return confined(self.output_dir, relative, who=f"node '{self.node_id}'")

    def session(self, param: str = "model") -> Session:
        """The ONNX Runtime session the engine opened for the model param ``param``."""
        try:
            return self.sessions[param]
        except KeyError:
            known = ", ".join(sorted(self.sessions)) or "none"
            raise GraphError(f"node '{self.node_id}' ({self.node_type}): no model param '{param}' "
                             f"was opened for it (model params: {known}); declare it with "
                             "af.Model(kind)") from None

    def model_entry(self, param: str = "model") -> ModelEntry:
        """The verified registry entry (path, sha256, card) of the model param ``param``."""
        try:
            return self.entries[param]
        except KeyError:
            known = ", ".join(sorted(self.entries)) or "none"
            raise GraphError(f"node '{self.node_id}' ({self.node_type}): no model param '{param}' "
                             f"(model params: {known}); declare it with af.Model(kind)") from None

    def model(self, param_value: str, kind: str) -> ModelEntry:
        """Resolve a model value (registered name or .onnx path) that is not a declared param.

        Prefer declaring an ``af.Model(kind)`` param and calling :meth:`session`; a model
        resolved here is still verified and recorded in the run's lineage.
        """
        if self.resolver is None:
            raise GraphError(f"node '{self.node_id}': no model registry available")
        return self.resolver(param_value, kind)

    def provenance(self) -> dict[str, str]:
        """The PNG text chunks that make a picture this node writes renderable again."""
        return self.provenance_fn() if self.provenance_fn is not None else {}
