"""Runs over time: a graph evaluated once per frame, each node only as often as it changes.

``g.run(frames=96, fps=24)``, ``artflow run graph.json --frames 96 --fps 24`` or a graph file's
own ``"frames"``/``"fps"`` run the graph frame by frame:

* every schedule (:mod:`artflow.schedule`) is evaluated at the frame, so each frame is an
  ordinary planned run whose content keys say what changed: a node whose params and inputs stay
  the same over the frames (a *static* node) has one key and runs once — its outputs are kept
  for the other frames — while the nodes downstream of a schedule or of an ``animated`` node
  (one that reads ``ctx.frame``/``ctx.time``) run per frame;
* ``image.save_animation`` nodes stay open over the run: each frame that reaches one is
  appended (MP4 streams into H.264 as it goes; GIF, WebP and APNG keep 8-bit frames until the
  end, so they are checked against the memory budget before anything runs), and
  ``image.save`` writes one file per frame with ``{frame:04d}`` in its path;
* frames go in chunks: a chunk of frames is rendered (``workers`` at once, in threads — numpy,
  Pillow and ONNX Runtime release the GIL), appended in order, and dropped, so memory stays
  flat in the number of frames and the budget applies to one frame's run;
* a PNG frame carries the graph with its schedules, ``frames``, ``fps`` and its ``frame``:
  ``artflow run frame_0007.png`` renders that frame again, pixel for pixel.
"""

from __future__ import annotations

import copy
import time as clock
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import GraphError
from .lineage import NodeStatus
from .schedule import at_frame, has_curves

if TYPE_CHECKING:
    from .engine import Engine
    from .graph import Graph
    from .result import RunResult
    from .validation import ValidatedGraph

DEFAULT_FPS = 24.0
STREAMED = "image.save_animation"


@dataclass(frozen=True)
class FrameTime:
    """Which frame a run renders; ``keyed``: the nodes whose content key includes the frame."""

    frame: int
    frames: int
    fps: float
    keyed: frozenset[str] = frozenset()

    @classmethod
    def first(cls, graph: Graph) -> FrameTime:
        return cls(graph.frame or 0, graph.frames or 1, graph.fps or DEFAULT_FPS)

    def view(self, vg: ValidatedGraph) -> ValidatedGraph:
        """``vg`` at this frame: schedules evaluated; its graph (for provenance) names the frame."""
        from .validation import ValidatedGraph

        graph = copy.copy(vg.graph)
        graph.frames, graph.fps, graph.frame = self.frames, self.fps, self.frame
        params = {n: (at_frame(p, self.frame) if has_curves(p) else p) for n, p in vg.params.items()}
        return ValidatedGraph(graph, vg.specs, params, vg.inputs, vg.order)


def has_schedules(vg: ValidatedGraph) -> bool:
    return any(has_curves(p) for p in vg.params.values())


@dataclass
class Timeline:
    """What a run over frames did: how often each node ran, the files, and seconds."""

    frames: int
    fps: float
    rendered: list[int]
    runs: dict[str, int] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    seconds: float = 0.0
    chunk: int = 1
    workers: int = 1

    def to_json(self) -> dict[str, Any]:
        return {"frames": self.frames, "fps": self.fps, "rendered": len(self.rendered), "runs": self.runs,
                "files": self.files, "seconds": round(self.seconds, 3)}

    def summary(self, shown: int = 3) -> str:
        """What `artflow run` prints: frames, how often each node ran, the files (a few of them)."""
        runs = ", ".join(f"{n} x{k}" for n, k in self.runs.items())
        lines = [f"{len(self.rendered)} of {self.frames} frames at {self.fps:g} fps in {self.seconds:.2f}s; "
                 f"runs: {runs}"]
        lines += [f"  {p}" for p in self.files[:shown]]
        if len(self.files) > shown:
            lines.append(f"  ... {len(self.files) - shown} more files, the last {self.files[-1]}")
        return "\n".join(lines)


def animated_nodes(vg: ValidatedGraph) -> set[str]:
    """Nodes whose output can change from frame to frame: a schedule among their params, an
    ``animated`` spec, a path naming the frame, or an input from such a node."""
    moving = {n for n in vg.order if has_curves(vg.params[n]) or vg.specs[n].animated
              or "{frame" in str(vg.params[n].get("path", ""))}
    for n in vg.order:  # topological: inputs come first
        if any(src in moving for src, _ in vg.inputs[n].values()):
            moving.add(n)
    return moving


def _max_frames() -> int:
    from . import settings

    return int(settings.get("ARTFLOW_MAX_FRAMES"))


def _check_frames(frames: Any, fps: Any) -> tuple[int, float]:
    if isinstance(frames, bool) or not isinstance(frames, int) or frames < 1:
        raise GraphError(f"frames must be a whole number >= 1, got {frames!r}")
    limit = _max_frames()
    if frames > limit:
        raise GraphError(f"{frames} frames is over the budget of {limit} (ARTFLOW_MAX_FRAMES); "
                         "render fewer frames or raise the setting")
    if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not 0 < fps <= 1000:
        raise GraphError(f"fps must be a number in (0, 1000], got {fps!r}")
    return frames, float(fps)


class _FrameCache:
    """The run's cache as the frames see it: static outputs kept (and stored as usual), per-frame
    outputs not stored (they would pile up) unless ``keep_frames``."""

    def __init__(self, base: Any, static_keys: set[str], keep_frames: bool):
        self.base = base
        self.root = getattr(base, "root", None)
        self.disk = getattr(base, "disk", None)
        self.static_keys = static_keys
        self.keep_frames = keep_frames
        self.kept: dict[str, tuple[Any, dict[str, Any]]] = {}
        self.hold_all = False  # while the first frame is probed: keep everything it computes

    def get(self, key: str, sockets: Any) -> Any:
        return self.kept.get(key) or self.base.get(key, sockets)

    def has(self, key: str) -> bool:
        return key in self.kept or self.base.has(key)

    def info(self, key: str) -> Any:
        return self.kept[key][1] if key in self.kept else self.base.info(key)

    def put(self, key: str, outputs: Any, sockets: Any, info: dict[str, Any]) -> None:
        if key in self.static_keys or self.hold_all:
            self.kept[key] = (outputs, info)
        if key in self.static_keys or self.keep_frames:
            self.base.put(key, outputs, sockets, info)


def run_frames(engine: Engine, graph: Graph, vg: ValidatedGraph, *, frames: int | None = None,
               fps: float | None = None, workers: int = 1, raise_errors: bool = True,
               outputs: Any = None, output_dir: str | Path | None = None,
               input_dir: str | Path | None = None, use_cache: bool = True, provider: str | None = None,
               progress: bool | None = None, keep_computed: bool = False, keep_frames: bool = False,
               chunk: int | None = None, on_frame: Any = None) -> RunResult:
    """Run ``graph`` (validated as ``vg``) over ``frames`` frames (see the module doc).

    ``on_frame(frame, values)`` sees each frame's wanted values in order (the watch page's
    preview); ``keep_frames`` stores per-frame outputs in the cache too."""
    from .animation import AnimationSink
    from .cache import NullCache
    from .nodes import NodeContext

    start = clock.perf_counter()
    n, rate = _check_frames(frames if frames is not None else (graph.frames or 1),
                            fps if fps is not None else (graph.fps or DEFAULT_FPS))
    if graph.frame is not None and graph.frame >= n:
        raise GraphError(f"graph 'frame' {graph.frame} is past its last frame ({n - 1})")
    rendered = [graph.frame] if graph.frame is not None else list(range(n))
    out_dir = Path(output_dir) if output_dir is not None else Path.cwd()
    from .items import find_split

    split = find_split(vg, Path(input_dir) if input_dir is not None else (graph.input_dir or Path.cwd()))
    if split is not None:
        raise GraphError(f"node '{split.source}' loads images of mixed sizes, which run one at a time; a run "
                         f"over frames needs one batch: set fit='first' on '{split.source}'")
    moving = animated_nodes(vg)
    # one frame again (from its PNG): no animation file is written
    streamed = [m for m in vg.order if vg.specs[m].name == STREAMED and graph.frame is None]
    for m in vg.order:
        spec = vg.specs[m]
        if len(rendered) > 1 and m in moving and spec.writes_files and spec.name != STREAMED and not (
                spec.name == "image.save" and "{frame" in str(vg.params[m].get("path", ""))):
            raise GraphError(f"node '{m}' ({spec.name}) writes files on every frame: use image.save with "
                             "{frame:04d} in its path, or image.save_animation for one file")
    keyed = frozenset(m for m in moving if vg.specs[m].animated or vg.specs[m].writes_files)
    feeds = {m: next(iter(vg.inputs[m].values())) for m in streamed}
    asked = [getattr(o, "id", o) for o in outputs] if outputs is not None else list(vg.order)
    wanted = sorted({m for m in asked if vg.specs[m].name != STREAMED} | {src for src, _ in feeds.values()},
                    key=vg.order.index)
    base_cache = engine.cache if use_cache else NullCache()
    first = FrameTime(rendered[0], n, rate, keyed)
    keys = engine.plan(graph, outputs=[], output_dir=out_dir, input_dir=input_dir, use_cache=False,
                       provider=provider, validated=vg, frame_time=first).keys
    cache = _FrameCache(base_cache, {keys[m] for m in vg.order if m not in moving}, keep_frames)
    runner = type(engine)(cache, workers=engine.workers, provider=engine.provider,
                         plugins=engine._plugins, budget=engine.budget)
    sinks = {m: AnimationSink(NodeContext(node_id=m, node_type=STREAMED, seed=graph.seed, output_dir=out_dir),
                              vg.params[m], len(rendered), float(graph.nodes[m].params.get("fps", rate)))
             for m in streamed}
    timeline = Timeline(n, rate, rendered, runs={m: 0 for m in vg.order}, workers=max(1, workers))
    options = dict(output_dir=out_dir, input_dir=input_dir, use_cache=True, provider=provider,
                   progress=False, raise_errors=False, keep_computed=keep_computed, validated=vg)

    def render(frame: int, names: list[str]) -> RunResult:
        return runner.run_item(graph, {}, outputs=names, frame_time=replace(first, frame=frame), **options)

    merged: RunResult | None = None
    if sinks:  # the first frame's feeds alone: the held frames' memory is checked before any file
        cache.hold_all = True
        probe = render(rendered[0], sorted({src for src, _ in feeds.values()}))
        cache.hold_all = False
        probe.raise_first_failure()
        merged = _merge(None, probe, timeline, rendered[0])
        for m, sink in sinks.items():
            src, out = feeds[m]
            sink.check_budget(probe.values[src][out])
    per_chunk = chunk or max(2, 2 * timeline.workers)
    timeline.chunk = per_chunk
    bar = _progress_bar(len(rendered), progress)
    try:
        with ThreadPoolExecutor(max_workers=timeline.workers, thread_name_prefix="frame") as pool:
            for at in range(0, len(rendered), per_chunk):
                part = rendered[at:at + per_chunk]
                if at == 0:  # the first frame alone: static nodes run once, the others find them
                    results = [render(part[0], wanted)]
                    cache.keep_frames = keep_frames
                    cache.static_keys = {keys[m] for m in vg.order if m not in moving}
                    cache.kept = {k: v for k, v in cache.kept.items() if k in cache.static_keys}
                    results += list(pool.map(lambda f: render(f, wanted), part[1:]))
                else:
                    results = list(pool.map(lambda f: render(f, wanted), part))
                for frame, result in zip(part, results, strict=True):
                    merged = _merge(merged, result, timeline, frame)
                    if not result.ok:
                        break
                    for m, sink in sinks.items():
                        src, out = feeds[m]
                        if not sink.provenance:
                            sink.provenance = _frame_provenance(runner, merged, vg, m, first)
                        sink.append(result.values[src][out])
                    if on_frame is not None:
                        on_frame(frame, result.values)
                    if bar is not None:
                        bar.update(1)
                del results
                if merged is not None and not merged.ok:
                    break
        assert merged is not None
        if merged.ok:
            for m, sink in sinks.items():
                t0 = clock.perf_counter()
                path = sink.close()
                record = merged.lineage[m]
                record.status, record.seconds = NodeStatus.RAN, clock.perf_counter() - t0 + sink.seconds
                merged.values[m] = {"path": [path]}
                timeline.runs[m] = 1
                timeline.files.append(path)
    finally:
        for sink in sinks.values():
            sink.abort()
        if bar is not None:
            bar.close()
    timeline.seconds = clock.perf_counter() - start
    merged.wall_seconds = timeline.seconds
    merged.timeline = timeline  # type: ignore[attr-defined]
    if raise_errors:
        merged.raise_first_failure()
    return merged


def _merge(merged: RunResult | None, result: RunResult, timeline: Timeline, frame: int) -> RunResult:
    """Fold one frame's result in: statuses (ran beats cached), seconds summed, files listed."""
    for m, record in result.lineage.items():
        if record.status is NodeStatus.RAN:
            timeline.runs[m] += 1
    for m, values in result.values.items():
        spec = result.validated.specs[m]
        if spec.files_output and spec.files_output in values:
            timeline.files.extend(values[spec.files_output])
    if merged is None:
        result.items = []
        return result
    for m, record in result.lineage.items():
        old = merged.lineage[m]
        seconds = old.seconds + (record.seconds if record.status is NodeStatus.RAN else 0.0)
        if record.status is NodeStatus.FAILED or (record.status is NodeStatus.RAN
                                                  and old.status is not NodeStatus.FAILED):
            merged.lineage[m] = record
        merged.lineage[m].seconds = seconds
    for m, values in result.values.items():
        spec = result.validated.specs[m]
        if spec.files_output and spec.files_output in values and m in merged.values:
            joined = list(merged.values[m][spec.files_output]) + list(values[spec.files_output])
            merged.values[m] = {**values, spec.files_output: joined}
        else:
            merged.values[m] = values  # the latest frame's value
    for m, exc in result.exceptions.items():
        merged.exceptions.setdefault(m, exc)
    return merged


def _frame_provenance(runner: Engine, merged: RunResult, vg: ValidatedGraph, node_id: str,
                      first: FrameTime) -> dict[str, str]:
    """The provenance an animation file carries: the graph with its schedules, frames and fps."""
    from .provenance import picture_provenance

    graph = copy.copy(vg.graph)
    graph.frames, graph.fps, graph.frame = first.frames, first.fps, None
    ancestors = {node_id}
    for m in reversed(vg.order):
        if m in ancestors:
            ancestors.update(src for src, _ in vg.inputs[m].values())
    lineage = {m: merged.lineage[m] for m in vg.order if m in ancestors}
    return picture_provenance(graph, lineage, input_dir=Path(vg.graph.input_dir or Path.cwd()),
                              plugins=runner.plugins)


def _progress_bar(total: int, progress: bool | None) -> Any:
    import sys

    if progress or (progress is None and sys.stderr.isatty()):
        from tqdm import tqdm

        return tqdm(total=total, desc="artflow", unit="frame", delay=1.0, leave=False, file=sys.stderr)
    return None
