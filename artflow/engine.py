"""The engine: validate, plan (keys, models, cache), run what must run, record the lineage.

Only nodes whose key is not cached run; their inputs come from the cache or from upstream nodes
that must run too. Independent branches run concurrently in threads (numpy, Pillow and ONNX
Runtime release the GIL for their heavy work). Every node's lineage — key, status, seconds,
models (sha256) and the provider that really ran them — is filled here, while planning and
running; nodes report nothing themselves.
"""

from __future__ import annotations

import contextvars
import functools
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec

from .budget import Budget, check_plan
from .cache import Cache, NullCache, Outputs, sockets_of
from .errors import ArtflowError, NodeError, describe
from .items import find_split, run_split
from .lineage import ModelUse, NodeStatus, merge_providers
from .nodes import Item, NodeContext, NodeSpec
from .plan import Plan, make_plan
from .result import RunResult
from .timeline import FrameTime, has_schedules, run_frames

if TYPE_CHECKING:
    from .graph import Graph
    from .models import ModelEntry
    from .validation import ValidatedGraph

#: the calling thread's observer of runs (see observe_runs): a callback, defaults for unset options
_observer: contextvars.ContextVar[tuple[Callable[[RunResult], Any], dict[str, Any]] | None] = \
    contextvars.ContextVar("artflow_run_observer", default=None)
_P = ParamSpec("_P")


@contextmanager
def observe_runs(report: Callable[[RunResult], Any], **defaults: Any) -> Iterator[None]:
    """Within the block, in this thread, every :meth:`Engine.run` takes ``defaults`` for the
    options its caller left unset and hands its result to ``report``, a failed run's too (how
    `artflow watch` sees a sketch's runs). Runs nested in an observed run are not reported."""
    token = _observer.set((report, defaults))
    try:
        yield
    finally:
        _observer.reset(token)


def _observable(run: Callable[_P, RunResult]) -> Callable[_P, RunResult]:
    """:meth:`Engine.run` as :func:`observe_runs` sees it (a plain call when nobody observes)."""

    @functools.wraps(run)
    def observed(*args: _P.args, **options: _P.kwargs) -> RunResult:
        watcher = _observer.get()
        if watcher is None:
            return run(*args, **options)
        report, defaults = watcher
        for name, value in defaults.items():
            if options.get(name) is None:
                options[name] = value
        token = _observer.set(None)
        try:
            result = run(*args, **options)
        except NodeError as exc:
            if getattr(exc, "result", None) is not None:
                report(exc.result)  # type: ignore[attr-defined]
            raise
        finally:
            _observer.reset(token)
        report(result)
        return result

    return observed


class Engine:
    """Runs graphs with a cache; one engine can serve many runs (and threads)."""

    def __init__(self, cache: Cache | NullCache | None = None, *, workers: int | None = None,
                 provider: str = "auto", plugins: Any = None, budget: Budget | None = None):
        self.cache = cache if cache is not None else Cache()
        self.workers = workers or min(8, os.cpu_count() or 2)
        self.provider = provider
        self._plugins = plugins
        #: memory and work limits every plan is checked against (None: from the settings)
        self.budget = budget

    @property
    def plugins(self) -> Any:
        if self._plugins is None:
            from .plugins import get_plugins

            return get_plugins()
        return self._plugins

    def plan(self, graph: Graph, *, outputs: Iterable[Any] | None = None,
             output_dir: str | Path | None = None, input_dir: str | Path | None = None,
             use_cache: bool = True, provider: str | None = None,
             items: dict[str, Item] | None = None, validated: ValidatedGraph | None = None,
             frame_time: FrameTime | None = None) -> Plan:
        """Validate and plan a run without running anything (keys, models, what would run);
        a graph with schedules is planned at ``frame_time`` (default: its first frame)."""
        vg = validated or graph.validate(self.plugins.nodes)
        if frame_time is None and has_schedules(vg):
            frame_time = FrameTime.first(graph)
        if frame_time is not None:
            vg = frame_time.view(vg)
        out_dir = Path(output_dir) if output_dir is not None else Path.cwd()
        in_dir = self._input_dir(graph, input_dir)
        wanted = list(vg.order) if outputs is None else [getattr(o, "id", o) for o in outputs]
        for node_id in wanted:
            if node_id not in vg.specs:
                raise ArtflowError(f"no node '{node_id}' in this graph (asked for as an output)")
        cache = self.cache if use_cache else NullCache()
        return make_plan(vg, cache, self.plugins.models, wanted, output_dir=out_dir, input_dir=in_dir,
                         provider=provider or self.provider, items=items, time=frame_time)

    @staticmethod
    def _input_dir(graph: Graph, input_dir: str | Path | None) -> Path:
        return Path(input_dir) if input_dir is not None else (graph.input_dir or Path.cwd())

    def keys(self, graph: Graph, *, output_dir: str | Path = ".",
             input_dir: str | Path | None = None) -> dict[str, str]:
        """Every node's content key (models resolved and verified; no cache lookup, no session)."""
        return self.plan(graph, outputs=[], output_dir=output_dir, input_dir=input_dir,
                         use_cache=False).keys

    @_observable
    def run(self, graph: Graph, *, outputs: Iterable[Any] | None = None,
            output_dir: str | Path | None = None, input_dir: str | Path | None = None,
            use_cache: bool = True, provider: str | None = None, progress: bool | None = None,
            raise_errors: bool = True, keep_computed: bool = False, frames: int | None = None,
            fps: float | None = None, frame_workers: int = 1) -> RunResult:
        """Run a graph; raise the first node failure (with ``.result`` attached) unless told not to.

        ``outputs``: the nodes whose values the result must hold (default: every node; the CLI
        asks for the sinks only); ``keep_computed`` also keeps the value of every node that ran.
        ``use_cache=False`` runs with a :class:`NullCache`. ``frames``/``fps`` (or the graph's own)
        run it over time, ``frame_workers`` frames at once (see :mod:`artflow.timeline`).
        """
        options = dict(outputs=outputs, output_dir=output_dir, input_dir=input_dir, use_cache=use_cache,
                       provider=provider, progress=progress, keep_computed=keep_computed)
        vg = graph.validate(self.plugins.nodes)
        if frames is not None or graph.frames is not None or has_schedules(vg):
            return run_frames(self, graph, vg, frames=frames, fps=fps, workers=frame_workers,
                              raise_errors=raise_errors, **options)
        split = find_split(vg, self._input_dir(graph, input_dir))
        if split is not None:  # a source whose items cannot be one batch: one run per item
            return run_split(self, graph, vg, split, raise_errors=raise_errors, **options)
        return self.run_item(graph, {}, raise_errors=raise_errors, validated=vg, **options)

    def run_item(self, graph: Graph, items: dict[str, Item], *, outputs: Iterable[Any] | None = None,
                 output_dir: str | Path | None = None, input_dir: str | Path | None = None,
                 use_cache: bool = True, provider: str | None = None, progress: bool | None = None,
                 raise_errors: bool = True, keep_computed: bool = False,
                 validated: ValidatedGraph | None = None, frame_time: FrameTime | None = None) -> RunResult:
        """One planned run; ``items`` tells the nodes downstream of a split source which item
        this run is (see :mod:`artflow.items`; empty for an ordinary run)."""
        start = time.perf_counter()
        plan = self.plan(graph, outputs=outputs, output_dir=output_dir, input_dir=input_dir,
                         use_cache=use_cache, provider=provider, items=items, validated=validated,
                         frame_time=frame_time)
        keep = set(plan.wanted) | (set(plan.to_run) if keep_computed else set())
        chunks = check_plan(plan, self.budget or Budget.from_settings(), keep)
        result = RunResult(graph, plan.vg, plan.lineage, plan.values, output_dir=plan.output_dir)
        _Execution(self, plan, result, plan.cache, chunks, keep).run(progress)
        result.wall_seconds = time.perf_counter() - start
        if raise_errors:
            result.raise_first_failure()
        return result


class _Execution:
    """One run's execution: a thread pool over the planned nodes, lineage filled as they end."""

    def __init__(self, engine: Engine, plan: Plan, result: RunResult, cache: Any,
                 chunks: dict[str, int] | None = None, keep: set[str] | None = None):
        self.engine = engine
        self.plan = plan
        self.result = result
        self.cache = cache
        self.chunks = chunks or {}
        self.lock = threading.Lock()
        self.keep = keep if keep is not None else set(plan.wanted)
        self.readers = {n: 0 for n in plan.vg.order}  # consumers still to run, per node
        for node_id in plan.to_run:
            for src, _ in plan.vg.inputs[node_id].values():
                self.readers[src] += 1

    def run(self, progress: bool | None) -> None:
        plan = self.plan
        to_run = plan.to_run
        if not to_run:
            return
        deps = {n: {src for src, _ in plan.vg.inputs[n].values() if src in to_run} for n in to_run}
        done: set[str] = set()
        stopped: set[str] = set()
        bar = None
        if progress or (progress is None and sys.stderr.isatty()):
            from tqdm import tqdm

            bar = tqdm(total=len(to_run), desc="artflow", unit="node", delay=1.0, leave=False,
                       file=sys.stderr)
        with ThreadPoolExecutor(max_workers=self.engine.workers, thread_name_prefix="artflow") as pool:
            running: dict[Future[Any], str] = {}

            def submit_ready() -> None:
                for n in to_run:
                    if n in done or n in running.values():
                        continue
                    if deps[n] & stopped:
                        stopped.add(n)
                        record = plan.lineage[n]
                        record.status = NodeStatus.SKIPPED
                        record.error = "an upstream node failed"
                        done.add(n)
                        continue
                    if deps[n] <= done:
                        running[pool.submit(self.work, n)] = n

            submit_ready()
            while running:
                finished, _ = wait(list(running), return_when=FIRST_COMPLETED)
                for fut in finished:
                    node_id = running.pop(fut)
                    try:
                        outputs, ctx, seconds = fut.result()
                    except Exception as exc:  # noqa: BLE001 - reported with node id and type
                        stopped.add(node_id)
                        record = plan.lineage[node_id]
                        record.status = NodeStatus.FAILED
                        record.error = describe(exc)
                        self.result.exceptions[node_id] = exc
                    else:
                        self.finish(node_id, outputs, ctx, seconds)
                    done.add(node_id)
                    if bar is not None:  # the progress line names the last node and its time
                        record = plan.lineage[node_id]
                        bar.set_postfix_str(f"{node_id} {record.status.value} {record.seconds:.1f}s",
                                            refresh=False)
                        bar.update(1)
                submit_ready()
        if bar is not None:
            bar.close()

    def work(self, node_id: str) -> tuple[Outputs, NodeContext, float]:
        plan = self.plan
        spec = plan.vg.specs[node_id]
        ctx = self.context(node_id, spec)
        kwargs: dict[str, Any] = dict(plan.vg.params[node_id])
        for name, (src, out) in plan.vg.inputs[node_id].items():
            kwargs[name] = plan.values[src][out]
        for socket in spec.inputs:
            kwargs.setdefault(socket.name, None)
        t0 = time.perf_counter()
        if node_id in self.chunks:
            outputs = _run_in_chunks(spec, ctx, kwargs, self.chunks[node_id])
        else:
            outputs = check_outputs(spec, spec.fn(ctx, **kwargs))
        return outputs, ctx, time.perf_counter() - t0

    def context(self, node_id: str, spec: NodeSpec) -> NodeContext:
        plan = self.plan
        params = plan.vg.params[node_id]
        record = plan.lineage[node_id]
        ctx = NodeContext(node_id=node_id, node_type=spec.name, seed=plan.vg.graph.seed,
                          output_dir=plan.output_dir, provider=plan.models.provider,
                          input_dir=plan.input_dir, item=plan.items.get(node_id),
                          read_policy=plan.models.read_policy)
        for param in record.models:
            entry = plan.models.resolve(params[param], spec.params[param].model_kind or "")
            ctx.entries[param] = entry
            ctx.sessions[param] = plan.models.session(entry)

        def resolver(value: str, kind: str) -> ModelEntry:
            entry = plan.models.resolve(value, kind)
            with self.lock:
                record.models.setdefault(str(value), ModelUse(str(value), entry.name, entry.kind,
                                                              entry.sha256, str(entry.path)))
            return entry

        ctx.resolver = resolver
        ctx.provenance_fn = lambda: self.provenance(node_id)
        if plan.time is not None:
            ctx.frame, ctx.frames, ctx.fps = plan.time.frame, plan.time.frames, plan.time.fps
        return ctx

    def finish(self, node_id: str, outputs: Outputs, ctx: NodeContext, seconds: float) -> None:
        plan = self.plan
        record = plan.lineage[node_id]
        notes = dict(ctx.info)
        notes.pop("provider", None)  # the engine records providers; a node's own claim is ignored
        notes.pop("models", None)
        providers = {s.provider for s in ctx.sessions.values()}
        own = sorted(providers)[0] if providers else None
        with self.lock:
            plan.values[node_id] = outputs
            record.status = NodeStatus.RAN
            record.seconds = seconds
            record.provider = own
            record.notes = notes
            record.upstream_providers = merge_providers(
                own, (plan.lineage[src].upstream_providers for src, _ in plan.vg.inputs[node_id].values()))
        self.cache.put(plan.keys[node_id], outputs, sockets_of(plan.vg.specs[node_id]), record.cache_info())
        for src, _ in plan.vg.inputs[node_id].values():  # drop intermediates nobody needs any more
            with self.lock:
                self.readers[src] -= 1
                if self.readers[src] == 0 and src not in self.keep:
                    plan.values.pop(src, None)

    def provenance(self, node_id: str) -> dict[str, str]:
        """Provenance of a picture node ``node_id`` writes: a pure function of the lineage."""
        from .provenance import picture_provenance

        plan = self.plan
        with self.lock:
            lineage = {n: plan.lineage[n] for n in plan.ancestors(node_id)}
        return picture_provenance(plan.vg.graph, lineage, input_dir=plan.input_dir,
                                  plugins=self.engine.plugins)


def check_outputs(spec: NodeSpec, produced: Any) -> Outputs:
    """A node's return value as a dict of checked, canonical, read-only outputs."""
    if not isinstance(produced, dict) or (len(spec.outputs) == 1 and spec.outputs[0].name not in produced):
        if len(spec.outputs) != 1:
            raise ArtflowError(f"returned {type(produced).__name__}, expected a dict of outputs "
                               f"{[s.name for s in spec.outputs]}")
        produced = {spec.outputs[0].name: produced}
    out: Outputs = {}
    for socket in spec.outputs:
        if socket.name not in produced:
            raise ArtflowError(f"did not return its output '{socket.name}'")
        value = socket.type.normalize(produced[socket.name])
        problem = socket.type.check(value)
        if problem:
            raise ArtflowError(f"output '{socket.name}': {problem}")
        out[socket.name] = value
    return out


def _run_in_chunks(spec: NodeSpec, ctx: NodeContext, kwargs: dict[str, Any], size: int) -> Outputs:
    """Run an itemwise node on slices of its batch and join the outputs (memory budget)."""
    import numpy as np

    batch = max((len(v) for k, v in kwargs.items() if spec.input(k) is not None and v is not None),
                default=1)
    parts: list[Outputs] = []
    for start in range(0, batch, size):
        part = dict(kwargs)
        for socket in spec.inputs:
            value = kwargs.get(socket.name)
            if value is not None and len(value) == batch:
                part[socket.name] = value[start:start + size]
        parts.append(check_outputs(spec, spec.fn(ctx, **part)))
    joined: Outputs = {}
    for socket in spec.outputs:
        values = [p[socket.name] for p in parts]
        value = np.concatenate(values) if isinstance(values[0], np.ndarray) else sum(values, [])
        joined[socket.name] = socket.type.normalize(value)
    return joined


_default: Engine | None = None
_default_lock = threading.Lock()


def default_engine() -> Engine:
    """The engine `Graph.run` uses: one per process, with the shared memory + disk cache."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Engine()
        return _default


def run_graph(graph: Graph, **options: Any) -> RunResult:
    """What `Graph.run` hands to (artflow.handoff): the graph run by the default engine."""
    return default_engine().run(graph, **options)
