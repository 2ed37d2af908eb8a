"""Run what `artflow watch` watches: a graph file, or a sketch script (with the modules it imports
from its own folder), and describe the outcome as a JSON-ready snapshot for the page.

A sketch runs in this process (``runpy``) so the engine's memory cache stays warm between saves;
its ``g.run()`` calls are captured and default to the watch's output folder.
"""

from __future__ import annotations

import runpy
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ..errors import ArtflowError, describe
from .frames import has_frames, player_entry, run_with_preview

if TYPE_CHECKING:
    from ..engine import Engine, RunResult

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".gif", ".apng"}
VIDEO_SUFFIXES = {".mp4", ".webm"}


@dataclass
class RunRecord:
    """One re-run: the results it produced, or the error that stopped it."""

    results: list[RunResult] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0
    watched: set[Path] = field(default_factory=set)


class Target:
    """The file being watched and how to run it."""

    def __init__(self, path: Path, output_dir: Path, engine: Engine | None = None):
        self.path = path.resolve()
        self.output_dir = output_dir.resolve()
        self._engine = engine
        self.local_modules: set[str] = set()

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            from ..engine import default_engine

            self._engine = default_engine()
        return self._engine

    @property
    def is_sketch(self) -> bool:
        return self.path.suffix.lower() == ".py"

    def run(self) -> RunRecord:
        start = time.perf_counter()
        record = self._run_sketch() if self.is_sketch else self._run_graph()
        record.seconds = time.perf_counter() - start
        record.watched = {self.path} | self._module_files()
        return record

    # -- graph files ------------------------------------------------------------------------------
    def _run_graph(self) -> RunRecord:
        from ..graph import Graph

        record = RunRecord()
        try:
            graph = Graph.load(self.path)
            vg = graph.validate(self.engine.plugins.nodes)
            if has_frames(graph, vg):  # a looping preview; an edit re-runs only the frames it changes
                result = run_with_preview(self.engine, graph, vg, self.output_dir)
            else:
                result = self.engine.run(graph, outputs=self._shown_nodes(graph, vg),
                                         output_dir=self.output_dir, raise_errors=False, progress=False)
        except ArtflowError as exc:
            record.error = str(exc)
            return record
        except Exception as exc:  # noqa: BLE001 - shown in the page, the watch goes on
            record.error = describe(exc)
            return record
        record.results.append(result)
        record.error = _first_failure(result)
        return record

    def _shown_nodes(self, graph: Any, vg: Any) -> list[str] | None:
        """The nodes whose values the page needs: all of them (any node can be previewed), but
        for a graph that runs once per item (a glob of mixed sizes) only those that run once and
        the sinks, so no item's intermediates outlive it (as `artflow run` keeps only sinks)."""
        from ..items import find_split

        split = find_split(vg, graph.input_dir or self.path.parent)
        if split is None:
            return None
        consumers = vg.consumers()
        return [n for n in vg.order if n not in split.downstream or not consumers[n]]

    # -- sketches ---------------------------------------------------------------------------------
    def _module_files(self) -> set[Path]:
        out = set()
        for name in self.local_modules:
            mod = sys.modules.get(name)
            file = getattr(mod, "__file__", None)
            if file:
                out.add(Path(file).resolve())
        return out

    def _forget_local_modules(self) -> None:
        """Drop the sketch's sibling modules so the next run imports their saved code."""
        for name in list(self.local_modules):
            sys.modules.pop(name, None)

    def _note_local_modules(self) -> None:
        folder = self.path.parent
        for name, mod in list(sys.modules.items()):
            file = getattr(mod, "__file__", None)
            if not file:
                continue
            try:
                p = Path(file).resolve()
            except OSError:
                continue
            if p != self.path and (p.parent == folder or folder in p.parents) and p.suffix == ".py" \
                    and ".venv" not in p.parts and "site-packages" not in p.parts:
                self.local_modules.add(name)

    def _run_sketch(self) -> RunRecord:
        from ..engine import observe_runs
        from ..graph import Graph
        from ..sketch import release_arrays

        record = RunRecord()
        graphs: list[Graph] = []
        engine = self.engine
        in_dir = self.path.parent
        self._forget_local_modules()
        old_argv, old_path = sys.argv, list(sys.path)
        sys.argv = [str(self.path)]
        sys.path.insert(0, str(in_dir))
        try:  # every run the sketch makes is seen, saving under the watch's folder by default
            with observe_runs(record.results.append, output_dir=self.output_dir, input_dir=in_dir,
                              progress=False):
                namespace = runpy.run_path(str(self.path), run_name="__main__")
                graphs = [v for v in namespace.values() if isinstance(v, Graph)]
                if not record.results and graphs:  # a sketch that builds a graph but never runs it
                    engine.run(graphs[-1])
        except SystemExit as exc:
            if exc.code not in (None, 0):
                record.error = f"the sketch exited with {exc.code!r}"
        except ArtflowError as exc:
            record.error = _with_line(str(exc), exc, self.path)
        except SyntaxError as exc:
            where = f" ({Path(exc.filename or self.path).name} line {exc.lineno})" if exc.lineno else ""
            record.error = f"SyntaxError: {exc.msg}{where}"
        except Exception as exc:  # noqa: BLE001 - shown in the page, the watch goes on
            record.error = _with_line(describe(exc), exc, self.path)
        finally:
            sys.argv = old_argv
            sys.path[:] = old_path
            self._note_local_modules()
            release_arrays(graphs + [r.graph for r in record.results])  # the last run's arrays only
        del engine
        return record


def _first_failure(result: RunResult) -> str | None:
    for node_id in result.validated.order:
        if result.status.get(node_id) == "failed":
            spec = result.validated.specs[node_id]
            return f"node '{node_id}' ({spec.name}) failed: {result.errors[node_id]}"
    return None


def _with_line(message: str, exc: BaseException, script: Path) -> str:
    """The message plus the line of the sketch (or of its own modules) that raised it."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if Path(f.filename).resolve().parent == script.parent]
    if not frames or f"line {frames[-1].lineno}" in message:
        return message
    return f"{message} ({Path(frames[-1].filename).name} line {frames[-1].lineno})"


def snapshot(record: RunRecord, output_dir: Path) -> dict[str, Any]:
    """The page's view of one run: nodes with status and seconds, and the outputs to show."""
    nodes: list[dict[str, Any]] = []
    outputs: list[dict[str, Any]] = []
    for r_index, result in enumerate(record.results):
        vg = result.validated
        consumers = vg.consumers()
        player = player_entry(result, output_dir)  # a run over frames: one player, not every frame file
        if player is not None:
            outputs.append(player)
        for node_id in vg.order:
            spec = vg.specs[node_id]
            state = str(result.status.get(node_id, ""))
            entry: dict[str, Any] = {"run": r_index, "id": node_id, "type": spec.name, "status": state,
                                     "seconds": round(result.seconds.get(node_id, 0.0), 4)}
            if node_id in result.errors:
                entry["error"] = result.errors[node_id]
            has_image = any(getattr(s.type, "name", "") in ("IMAGE", "MASK") for s in spec.outputs)
            entry["preview"] = has_image and node_id in result.values
            if player is not None:
                entry["runs"] = player["runs"].get(node_id, 0)
            nodes.append(entry)
            if state not in ("ran", "cached"):
                continue
            if spec.writes_files and node_id in result.values:
                if getattr(result, "timeline", None) is not None and spec.name == "image.save":
                    continue  # a file per frame: the player (or the animation) shows them
                for socket in spec.outputs:
                    if getattr(socket.type, "name", "") != "TEXT":
                        continue
                    for file in result.values[node_id].get(socket.name, []):
                        outputs.append(_file_entry(node_id, Path(file), output_dir))
            elif has_image and not consumers[node_id] and node_id in result.values:  # shown unsaved
                outputs.append({"node": node_id, "run": r_index, "kind": "node",
                                "url": f"/node/{r_index}/{node_id}.png", "name": node_id})
    return {"nodes": nodes, "outputs": outputs}


def _file_entry(node_id: str, path: Path, output_dir: Path) -> dict[str, Any]:
    """A written file for the page: under the output folder by its relative path, elsewhere (a
    sketch that passes its own output_dir) by its place in the list of files the runs wrote."""
    suffix = path.suffix.lower()
    kind = "image" if suffix in IMAGE_SUFFIXES else "video" if suffix in VIDEO_SUFFIXES else "file"
    try:
        stamp = path.stat().st_mtime_ns
    except OSError:
        return {"node": node_id, "kind": "file", "name": path.name, "url": None}
    try:
        rel = path.resolve().relative_to(output_dir)
    except ValueError:
        return {"node": node_id, "kind": kind, "name": path.name, "path": str(path.resolve()),
                "stamp": stamp}
    url = f"/files/{quote(rel.as_posix())}?v={stamp}"  # x#1.png, 100%41.png: encoded
    return {"node": node_id, "kind": kind, "name": str(rel), "url": url}
