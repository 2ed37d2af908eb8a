"""Planning a run: content keys, models resolved once, cache lookups, what must run.

For every node of a validated graph the planner computes its content key — node type, version
and code fingerprint, validated params, the keys of its inputs, the sha256 of each model it uses
(resolved and verified once per run, whatever the number of nodes that share a model), the graph
seed for stochastic nodes, the output folder for nodes that write files — then walks up from
the wanted nodes: a cache hit stops the walk, a miss must run. Models of the nodes that will run
are opened (one ONNX Runtime session per model and provider) before anything runs.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .cache import Outputs, sockets_of
from .errors import ArtflowError, ModelError, NodeError
from .lineage import ModelUse, NodeLineage, NodeStatus
from .nodes import Item, NodeContext, NodeSpec

if TYPE_CHECKING:
    from .models import ModelEntry, ModelRegistry, Session
    from .paths import ReadPolicy
    from .validation import ValidatedGraph

KEY_VERSION = "2"  # 2: code fingerprints, models resolved against the graph's folder


class RunModels:
    """The models of one run: each (value, kind) resolved and verified once, each session opened
    once; thread-safe, so a node may still resolve an undeclared model while others run."""

    def __init__(self, registry: ModelRegistry, input_dir: Path, provider: str,
                 read_policy: ReadPolicy | None = None):
        self.registry = registry
        self.input_dir = input_dir
        self.provider = provider
        #: a graph carried by a picture reads model files only where its policy allows
        self.read_policy = read_policy
        self.entries: dict[tuple[str, str], ModelEntry] = {}
        self.sessions: dict[tuple[str, str], Session] = {}
        self.resolutions = 0  # how many registry resolutions this run made (tests count them)
        self._lock = threading.Lock()

    def resolve(self, value: str, kind: str) -> ModelEntry:
        key = (str(value), kind)
        with self._lock:
            entry = self.entries.get(key)
            if entry is None:
                self.resolutions += 1
                if self.read_policy is not None:
                    self.read_policy.model(self.registry, str(value), kind, self.input_dir, "a model")
                entry = self.registry.resolve(str(value), kind, base_dir=self.input_dir)
                self.entries[key] = entry
            return entry

    def session(self, entry: ModelEntry) -> Session:
        from .models import get_session

        key = (str(entry.path), entry.sha256)
        with self._lock:
            session = self.sessions.get(key)
            if session is None:
                session = get_session(entry, self.provider)
                self.sessions[key] = session
            return session


@dataclass
class Plan:
    """Keys, lineage skeletons and cache hits of one run, and the nodes that must run."""

    vg: ValidatedGraph
    keys: dict[str, str]
    lineage: dict[str, NodeLineage]
    models: RunModels
    output_dir: Path
    input_dir: Path
    values: dict[str, Outputs] = field(default_factory=dict)
    to_run: list[str] = field(default_factory=list)
    wanted: list[str] = field(default_factory=list)
    cache: Any = None  # where hits were looked up and results go (a NullCache with use_cache=False)
    #: per node downstream of a split source: which item this run is (see :mod:`artflow.items`)
    items: dict[str, Item] = field(default_factory=dict)
    #: in a run over frames: which frame this plan is (an :class:`artflow.timeline.FrameTime`)
    time: Any = None

    def ancestors(self, node_id: str) -> list[str]:
        """The node and everything upstream of it, in topological order."""
        seen: set[str] = set()
        stack = [node_id]
        while stack:
            n = stack.pop()
            if n not in seen:
                seen.add(n)
                stack.extend(src for src, _ in self.vg.inputs[n].values())
        return [n for n in self.vg.order if n in seen]


def make_plan(vg: ValidatedGraph, cache: Any, registry: ModelRegistry, wanted: list[str], *,
              output_dir: Path, input_dir: Path, provider: str,
              items: dict[str, Item] | None = None, time: Any = None) -> Plan:
    """Key every node, resolve its models, look up the cache from the wanted nodes upwards."""
    items = items or {}
    models = RunModels(registry, input_dir, provider, getattr(vg.graph, "read_policy", None))
    keys: dict[str, str] = {}
    lineage: dict[str, NodeLineage] = {}
    for node_id in vg.order:
        spec = vg.specs[node_id]
        uses = _resolve_models(spec, vg.params[node_id], models, node_id)
        keys[node_id] = _key(vg, node_id, keys, uses, output_dir, input_dir, items.get(node_id), time)
        lineage[node_id] = NodeLineage(node_id, spec.name, keys[node_id], models=uses)
    plan = Plan(vg, keys, lineage, models, output_dir, input_dir, wanted=list(wanted), cache=cache,
                items=items, time=time)
    _walk(plan, cache, wanted)
    for node_id in vg.order:
        record = lineage[node_id]
        if node_id in plan.to_run or record.status is NodeStatus.CACHED:
            continue
        record.status = NodeStatus.CACHED if cache.has(keys[node_id]) else NodeStatus.SKIPPED
    for node_id in plan.to_run:  # open every model that will run (its card checked), before anything runs
        spec = vg.specs[node_id]
        for param in spec.model_params:
            if param in lineage[node_id].models:
                value = vg.params[node_id][param]
                session = models.session(models.resolve(value, _kind(spec, param)))
                _check_card(spec, param, node_id, value, session.card)
    return plan


#: the model kind of `onnx.model`: any ONNX file, whatever its card says
ANY_MODEL = "onnx"


def _check_card(spec: NodeSpec, param: str, node_id: str, value: Any, card: Any) -> None:
    """The one check of a model's card against its ``af.Model(kind)``: a card of another kind is
    refused, and so is a file without one where the param says ``card=True``."""
    kind, declared = _kind(spec, param), spec.params[param]
    if kind == ANY_MODEL or (card is None and not declared.extra.get("card")):
        return
    where = f"node '{node_id}' ({spec.name}) param '{param}': model '{value}'"
    if card is None:
        raise ModelError(f"{where} has no artflow card: export it with `artflow export` or "
                         "`artflow train`, or run it with the onnx.model node")
    if card.kind and card.kind != kind:
        raise ModelError(f"{where} is a {card.kind} model, not a {kind} model")


def _kind(spec: NodeSpec, param: str) -> str:
    return spec.params[param].model_kind or ""


def _resolve_models(spec: NodeSpec, params: dict[str, Any], models: RunModels,
                    node_id: str) -> dict[str, ModelUse]:
    uses: dict[str, ModelUse] = {}
    for param in spec.model_params:
        value = params.get(param)
        if value is None:
            continue
        try:
            entry = models.resolve(value, _kind(spec, param))
        except ModelError as exc:
            raise ModelError(f"node '{node_id}' ({spec.name}) param '{param}': {exc}") from None
        uses[param] = ModelUse(str(value), entry.name, entry.kind, entry.sha256, str(entry.path))
    return uses


def _key(vg: ValidatedGraph, node_id: str, keys: dict[str, str], uses: dict[str, ModelUse],
         output_dir: Path, input_dir: Path, item: Item | None = None, time: Any = None) -> str:
    spec = vg.specs[node_id]
    params = vg.params[node_id]
    material: dict[str, Any] = {
        "k": KEY_VERSION,
        "type": spec.name,
        "version": spec.version,
        "code": spec.fingerprint,
        "params": _jsonable(params),
        "inputs": {name: [keys[src], out] for name, (src, out) in sorted(vg.inputs[node_id].items())},
    }
    if uses:
        material["models"] = {param: use.sha256 for param, use in uses.items()}
    if not spec.deterministic:
        material["seed"] = [vg.graph.seed, node_id]
    if spec.writes_files:
        material["output_dir"] = str(output_dir.resolve())
        if item is not None:  # a writer names its files after the item
            material["item"] = [item.index, item.count]
    if time is not None and node_id in time.keyed:  # reads the frame, or names its files after it
        material["frame"] = [time.frame, time.frames, time.fps]
    if spec.key_extra is not None:
        material["extra"] = _call_key_extra(spec, params, node_id, vg.graph.seed, input_dir,
                                            getattr(vg.graph, "read_policy", None))
    blob = json.dumps(material, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


def _walk(plan: Plan, cache: Any, wanted: list[str]) -> None:
    """From the wanted nodes upwards: a usable cache hit stops the walk, a miss must run.

    Iterative (no nested recursive function: that would make a reference cycle keeping the
    plan's arrays alive until the garbage collector runs)."""
    vg = plan.vg
    visited: set[str] = set()
    pending: set[str] = set()
    stack = list(reversed(wanted))
    while stack:
        node_id = stack.pop()
        if node_id in visited:
            continue
        visited.add(node_id)
        spec = vg.specs[node_id]
        record = plan.lineage[node_id]
        hit = cache.get(plan.keys[node_id], sockets_of(spec))
        if hit is not None and _files_exist(spec, hit[0]):
            record.status = NodeStatus.CACHED
            plan.values[node_id] = hit[0]
            record.restore(hit[1])
            continue
        record.status = NodeStatus.PENDING
        pending.add(node_id)
        stack.extend(src for src, _ in vg.inputs[node_id].values())
    plan.to_run.extend(n for n in vg.order if n in pending)


def _files_exist(spec: NodeSpec, outputs: Outputs) -> bool:
    if spec.files_output is None:
        return True
    return all(Path(p).is_file() for p in outputs.get(spec.files_output, []))


def _jsonable(value: Any) -> Any:
    if isinstance(value, (tuple, list)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "to_data"):  # a schedule (artflow.schedule.Curve) keys as its plain data
        return _jsonable(value.to_data())
    return value


def _call_key_extra(spec: NodeSpec, params: dict[str, Any], node_id: str, seed: int,
                    input_dir: Path, read_policy: ReadPolicy | None = None) -> Any:
    fn: Callable[..., Any] | None = spec.key_extra
    assert fn is not None
    try:
        n_args = len(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        n_args = 1
    try:
        if n_args >= 2:
            ctx = NodeContext(node_id=node_id, node_type=spec.name, seed=seed, output_dir=Path.cwd(),
                              input_dir=input_dir, read_policy=read_policy)
            return fn(params, ctx)
        return fn(params)
    except ArtflowError as exc:
        if node_id in str(exc):
            raise
        raise NodeError(node_id, spec.name, exc) from exc
    except Exception as exc:  # noqa: BLE001
        raise NodeError(node_id, spec.name, exc) from exc
