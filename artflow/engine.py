"""The engine: validate, key every node by content, reuse what the cache has, run the rest.

Only nodes whose key is not cached run; their inputs come from the cache or from upstream nodes
that must run too. Independent branches run concurrently in threads (numpy, Pillow and ONNX
Runtime release the GIL for their heavy work).
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import sys
import threading
import time
from collections.abc import Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .cache import Cache, Outputs, sockets_of
from .errors import ArtflowError, NodeError
from .errors import describe as describe_exception
from .graph import Graph, NodeRef, OutputRef, ValidatedGraph
from .nodes import NodeContext, NodeSpec
from .types import TEXT, check_value
from .types import to_json as value_to_json

KEY_VERSION = "1"


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, Path):
        return str(value)
    return value


@dataclass
class RunResult:
    """What a run produced: per-node status and seconds, outputs (loaded on demand), info."""

    graph: Graph
    validated: ValidatedGraph
    status: dict[str, str]
    seconds: dict[str, float]
    errors: dict[str, str]
    info: dict[str, dict[str, Any]]
    keys: dict[str, str]
    engine: Engine
    values: dict[str, Outputs] = field(default_factory=dict)
    wall_seconds: float = 0.0
    exceptions: dict[str, BaseException] = field(default_factory=dict)
    engine_output_dir: Path = Path(".")

    def outputs(self, node: NodeRef | str) -> Outputs:
        """All outputs of a node, from this run or from the cache."""
        node_id = node.id if isinstance(node, NodeRef) else node
        if node_id not in self.keys:
            raise ArtflowError(f"no node '{node_id}' in this run")
        if node_id not in self.values:
            if self.status.get(node_id) == "failed":
                raise ArtflowError(f"node '{node_id}' failed: {self.errors.get(node_id, '')}")
            spec = self.validated.specs[node_id]
            hit = self.engine.cache.get(self.keys[node_id], sockets_of(spec)) if self.engine.cache else None
            if hit is None:
                again = self.engine.run(self.graph, outputs=[node_id], output_dir=self.engine_output_dir,
                                        progress=False)
                hit = (again.outputs(node_id), {})
            self.values[node_id] = hit[0]
        return self.values[node_id]

    def __getitem__(self, ref: NodeRef | OutputRef | str | tuple[Any, str]) -> Any:
        if isinstance(ref, tuple):
            node, output = ref
            return self.outputs(node)[output]
        if isinstance(ref, OutputRef):
            outs = self.outputs(ref.node)
            return outs[ref.output] if ref.output else next(iter(outs.values()))
        outs = self.outputs(ref)
        return next(iter(outs.values()))

    @property
    def ran(self) -> list[str]:
        return [n for n in self.validated.order if self.status.get(n) == "ran"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def providers(self) -> list[str]:
        return sorted({i["provider"] for i in self.info.values() if i.get("provider")})

    def models(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for i in self.info.values():
            out.update(i.get("models", {}))
        return out

    def to_json(self) -> dict[str, Any]:
        """The `artflow run --json` object."""
        nodes = {n: {"status": self.status[n], "seconds": round(self.seconds.get(n, 0.0), 6)}
                 for n in self.validated.order}
        for n, err in self.errors.items():
            nodes[n]["error"] = err
        outputs: dict[str, Any] = {}
        for n in self.validated.order:
            # outputs materialised by this run: what ran, the wanted nodes, and cached inputs
            # of what ran; cached intermediates are not read back from disk just to print them
            if self.status[n] not in ("ran", "cached") or n not in self.values:
                continue
            spec = self.validated.specs[n]
            values = self.values[n]
            outputs[n] = {s.name: value_to_json(s.type, values[s.name]) for s in spec.outputs
                          if s.name in values}
        return {"nodes": nodes, "outputs": outputs}


class Engine:
    """Runs graphs with a cache; one engine can serve many runs (and threads)."""

    def __init__(self, cache: Cache | None = None, *, workers: int | None = None,
                 provider: str = "auto", plugins: Any = None):
        self.cache = cache if cache is not None else Cache()
        self.workers = workers or min(8, os.cpu_count() or 2)
        self.provider = provider
        self._plugins = plugins

    @property
    def plugins(self) -> Any:
        if self._plugins is None:
            from .plugins import get_plugins

            return get_plugins()
        return self._plugins

    # -- keys -----------------------------------------------------------------------------------
    def keys(self, vg: ValidatedGraph, output_dir: Path, input_dir: Path) -> dict[str, str]:
        """The content key of every node, in topological order."""
        keys: dict[str, str] = {}
        models = self.plugins.models
        for node_id in vg.order:
            spec = vg.specs[node_id]
            params = vg.params[node_id]
            material: dict[str, Any] = {
                "k": KEY_VERSION,
                "type": spec.name,
                "version": spec.version,
                "params": _jsonable(params),
                "inputs": {name: [keys[src], out] for name, (src, out) in sorted(vg.inputs[node_id].items())},
            }
            shas = {}
            for name in spec.model_params:
                if params.get(name) is not None:
                    shas[name] = models.resolve(params[name], spec.params[name].model_kind or "").sha256
            if shas:
                material["models"] = shas
            if not spec.deterministic:
                material["seed"] = [vg.graph.seed, node_id]
            if spec.writes_files:
                material["output_dir"] = str(output_dir.resolve())
            if spec.key_extra is not None:
                material["extra"] = _call_key_extra(spec, params, node_id, vg.graph.seed, input_dir)
            blob = json.dumps(material, sort_keys=True, separators=(",", ":"))
            keys[node_id] = hashlib.sha256(blob.encode()).hexdigest()
        return keys

    # -- running --------------------------------------------------------------------------------
    def run(self, graph: Graph, *, outputs: Iterable[str | NodeRef] | None = None,
            output_dir: str | Path | None = None, input_dir: str | Path | None = None,
            use_cache: bool = True, provider: str | None = None, progress: bool | None = None,
            raise_errors: bool = True) -> RunResult:
        """Run a graph; raise the first node failure (with ``.result`` attached) unless told not to."""
        start = time.perf_counter()
        vg = graph.validate(self.plugins.nodes)
        out_dir = Path(output_dir) if output_dir is not None else Path.cwd()
        in_dir = Path(input_dir) if input_dir is not None else (graph.input_dir or Path.cwd())
        keys = self.keys(vg, out_dir, in_dir)
        provider = provider or self.provider
        consumers = vg.consumers()
        if outputs is None:
            wanted = [n for n in vg.order if not consumers[n]]
        else:
            wanted = [o.id if isinstance(o, NodeRef) else o for o in outputs]
        status: dict[str, str] = {}
        values: dict[str, Outputs] = {}
        info: dict[str, dict[str, Any]] = {}
        to_run: list[str] = []
        self._plan(vg, keys, wanted, use_cache, status, values, info, to_run)
        for n in vg.order:
            status.setdefault(n, "cached" if use_cache and self.cache.has(keys[n]) else "skipped")
        result = RunResult(graph, vg, status, {}, {}, info, keys, self, values)
        result.engine_output_dir = out_dir
        self._execute(vg, keys, to_run, result, use_cache, out_dir, in_dir, provider, progress)
        result.wall_seconds = time.perf_counter() - start
        if result.errors and raise_errors:
            first = next(n for n in vg.order if n in result.errors and status[n] == "failed")
            err = NodeError(first, vg.specs[first].name, result.errors[first])
            err.result = result  # type: ignore[attr-defined]
            raise err from result.exceptions.get(first)
        return result

    def _plan(self, vg: ValidatedGraph, keys: dict[str, str], wanted: list[str], use_cache: bool,
              status: dict[str, str], values: dict[str, Outputs], info: dict[str, dict[str, Any]],
              to_run: list[str]) -> None:
        """Walk up from the wanted nodes: a cache hit stops the walk, a miss must run."""

        def visit(node_id: str) -> None:
            if node_id in status:
                return
            spec = vg.specs[node_id]
            if use_cache:
                hit = self.cache.get(keys[node_id], sockets_of(spec))
                if hit is not None and (not spec.writes_files or _files_exist(spec, hit[0])):
                    status[node_id] = "cached"
                    values[node_id], info[node_id] = hit
                    return
            status[node_id] = "pending"
            for src, _ in vg.inputs[node_id].values():
                visit(src)

        for node_id in wanted:
            visit(node_id)
        to_run.extend(n for n in vg.order if status.get(n) == "pending")

    def _execute(self, vg: ValidatedGraph, keys: dict[str, str], to_run: list[str], result: RunResult,
                 use_cache: bool, out_dir: Path, in_dir: Path, provider: str,
                 progress: bool | None) -> None:
        if not to_run:
            return
        deps = {n: {src for src, _ in vg.inputs[n].values() if src in to_run} for n in to_run}
        done: set[str] = set()
        lock = threading.Lock()
        bar = None
        if progress or (progress is None and sys.stderr.isatty()):
            from tqdm import tqdm

            bar = tqdm(total=len(to_run), desc="artflow", unit="node", delay=1.0, leave=False,
                       file=sys.stderr)

        def provenance() -> dict[str, str]:
            from .provenance import provenance_text

            with lock:
                infos = dict(result.info)
            for node_id in vg.order:  # cached nodes this run never visited still used models
                if node_id not in infos and use_cache:
                    infos[node_id] = self.cache.info(keys[node_id]) or {}
            return provenance_text(vg.graph, in_dir, infos, self.plugins)

        def work(node_id: str) -> tuple[Outputs, dict[str, Any], float]:
            spec = vg.specs[node_id]
            ctx = NodeContext(node_id=node_id, node_type=spec.name, seed=vg.graph.seed,
                              output_dir=out_dir, provider=provider, models=self.plugins.models,
                              input_dir=in_dir, provenance=provenance)
            kwargs: dict[str, Any] = dict(vg.params[node_id])
            for name, (src, out) in vg.inputs[node_id].items():
                kwargs[name] = result.values[src][out]
            for socket in spec.inputs:
                kwargs.setdefault(socket.name, None)
            t0 = time.perf_counter()
            produced = spec.fn(ctx, **kwargs)
            seconds = time.perf_counter() - t0
            return _check_outputs(spec, node_id, produced), ctx.info, seconds

        failed_or_skipped: set[str] = set()
        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="artflow") as pool:
            running: dict[Future[Any], str] = {}

            def submit_ready() -> None:
                for n in to_run:
                    if n in done or n in failed_or_skipped or n in running.values():
                        continue
                    if deps[n] & failed_or_skipped:
                        failed_or_skipped.add(n)
                        result.status[n] = "skipped"
                        result.errors[n] = "an upstream node failed"
                        done.add(n)
                        continue
                    if deps[n] <= done:
                        running[pool.submit(work, n)] = n

            submit_ready()
            while running:
                finished, _ = wait(list(running), return_when=FIRST_COMPLETED)
                for fut in finished:
                    node_id = running.pop(fut)
                    spec = vg.specs[node_id]
                    try:
                        outputs, node_info, seconds = fut.result()
                    except Exception as exc:  # noqa: BLE001 - reported with node id and type
                        failed_or_skipped.add(node_id)
                        result.status[node_id] = "failed"
                        result.errors[node_id] = describe_exception(exc)
                        result.exceptions[node_id] = exc
                    else:
                        with lock:
                            result.values[node_id] = outputs
                            result.info[node_id] = node_info
                        result.status[node_id] = "ran"
                        result.seconds[node_id] = seconds
                        if use_cache:
                            self.cache.put(keys[node_id], outputs, sockets_of(spec), node_info)
                    done.add(node_id)
                    if bar is not None:
                        bar.update(1)
                submit_ready()
        if bar is not None:
            bar.close()


def _check_outputs(spec: NodeSpec, node_id: str, produced: Any) -> Outputs:
    if not isinstance(produced, dict) or (len(spec.outputs) == 1 and spec.outputs[0].name not in produced):
        if len(spec.outputs) != 1:
            raise ArtflowError(f"returned {type(produced).__name__}, expected a dict of outputs "
                               f"{[s.name for s in spec.outputs]}")
        produced = {spec.outputs[0].name: produced}
    out: Outputs = {}
    for socket in spec.outputs:
        if socket.name not in produced:
            raise ArtflowError(f"did not return its output '{socket.name}'")
        value = produced[socket.name]
        if isinstance(value, np.ndarray) and socket.type.name in ("IMAGE", "MASK", "LATENT") \
                and value.dtype != np.float32:
            value = value.astype(np.float32)
        problem = check_value(socket.type, value)
        if problem:
            raise ArtflowError(f"output '{socket.name}': {problem}")
        if isinstance(value, np.ndarray):
            value.setflags(write=False)
        out[socket.name] = value
    return out


def _files_exist(spec: NodeSpec, outputs: Outputs) -> bool:
    for socket in spec.outputs:
        if socket.type is TEXT:
            for path in outputs.get(socket.name, []):
                if not Path(path).is_file():
                    return False
    return True


def _call_key_extra(spec: NodeSpec, params: dict[str, Any], node_id: str, seed: int,
                    input_dir: Path) -> Any:
    fn = spec.key_extra
    assert fn is not None
    try:
        n_args = len(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        n_args = 1
    try:
        if n_args >= 2:
            ctx = NodeContext(node_id=node_id, node_type=spec.name, seed=seed, output_dir=Path.cwd(),
                              input_dir=input_dir)
            return fn(params, ctx)
        return fn(params)
    except ArtflowError as exc:
        if node_id in str(exc):
            raise
        raise NodeError(node_id, spec.name, exc) from exc
    except Exception as exc:  # noqa: BLE001
        raise NodeError(node_id, spec.name, exc) from exc


_default: Engine | None = None
_default_lock = threading.Lock()


def default_engine() -> Engine:
    """The engine `Graph.run` uses: one per process, with the shared memory + disk cache."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Engine()
        return _default
