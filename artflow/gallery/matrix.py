"""The matrix of a gallery spec: each axis (``seed`` or ``node.param``) with its values — a list,
an inclusive range, or the files a glob matches — checked against the node's declared param."""

from __future__ import annotations

import glob as globlib
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..graph import nested_deeper_than

if TYPE_CHECKING:
    from ..graph import Graph
    from ..plugins import PluginSet

MAX_JOBS = 100_000
#: deepest nesting of a matrix value (lists of lists …)
MAX_VALUE_DEPTH = 8
_GLOB_CHARS = set("*?[")


@dataclass
class Variable:
    """One axis of the matrix: ``seed`` or ``node.param``, with its values in order."""

    key: str
    values: list[Any]
    #: how each value reads in captions and filters (a glob value: its path relative to the spec)
    shown: list[str]
    #: what each value gives a name/caption template (a glob value: the file's stem)
    text: list[str]
    kind: str = "list"  # list | range | glob
    #: each value as the node receives it (checked once, while reading the spec)
    node_values: list[Any] | None = None

    @property
    def numeric(self) -> bool:
        """Whether every value is a number (the page offers a range filter for it)."""
        return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in self.values)

    @property
    def node(self) -> str | None:
        return None if self.key == "seed" else self.key.split(".", 1)[0]

    @property
    def param(self) -> str:
        return self.key if self.key == "seed" else self.key.split(".", 1)[1]

    def template_value(self, i: int) -> Any:
        """What value ``i`` gives a template: numbers as they are (so ``{seed:03d}`` works), a
        file path its stem, strings, lists and flags as they read."""
        value = self.values[i]
        if self.kind == "glob" or isinstance(value, (str, bool, list, tuple, dict)):
            return self.text[i]
        return value


class MatrixReader:
    """Reads the ``[matrix]`` table for the spec checker, which collects every problem."""

    plugins: PluginSet
    base: Path

    def problem(self, text: str) -> None:
        raise NotImplementedError

    def _matrix(self, matrix: Any, graph: Graph, input_dir: Path) -> list[Variable]:
        if not isinstance(matrix, dict):
            self.problem("'matrix' must be a table of \"node.param\" = [values]")
            return []
        out = []
        for key, raw in matrix.items():
            var = self._variable(key, raw, graph, input_dir)
            if var is not None:
                out.append(var)
        return out

    def _variable(self, key: str, raw: Any, graph: Graph, input_dir: Path) -> Variable | None:
        from ..errors import GraphError, ParamError

        where = f"matrix '{key}'"
        decl = None
        node_id = param = ""
        if key != "seed":
            node_id, dot, param = key.partition(".")
            if not dot or not node_id or not param:
                self.problem(f"{where}: write keys as \"node.param\" (or 'seed')")
                return None
            if node_id not in graph.nodes:
                known = ", ".join(graph.nodes)
                self.problem(f"{where}: no node '{node_id}' in the graph (nodes: {known})")
                return None
            inst = graph.nodes[node_id]
            try:
                spec = self.plugins.nodes.get(inst.type, node_id=node_id)
            except GraphError as exc:
                self.problem(f"graph: {exc}")
                return None
            decl = spec.params.get(param)
            if decl is None:
                import difflib

                near = difflib.get_close_matches(param, list(spec.params), n=1)
                hint = f" (did you mean '{near[0]}'?)" if near else ""
                what = "an input, not a param" if spec.input(param) else "no such param"
                self.problem(f"{where}: node '{node_id}' ({inst.type}) has {what} '{param}'{hint} "
                             f"(params: {', '.join(spec.params) or 'none'})")
                return None
        kind = "list"
        shown: list[str] | None = None
        text: list[str] | None = None
        if isinstance(raw, dict) and "glob" in raw:
            kind = "glob"
            extra = set(raw) - {"glob"}
            pattern = raw["glob"]
            if extra or not isinstance(pattern, str) or not pattern:
                self.problem(f"{where}: write a glob as {{glob = \"inputs/*.png\"}}")
                return None
            values, shown, text = self._glob(where, pattern, input_dir)
            if not values:
                return None
        elif isinstance(raw, dict):
            kind = "range"
            values = self._range(where, raw)
            if values is None:
                return None
        elif isinstance(raw, list):
            values = list(raw)
        else:
            values = [raw]
        if nested_deeper_than(values, MAX_VALUE_DEPTH, start=0):
            self.problem(f"{where}: values are nested more than {MAX_VALUE_DEPTH} levels deep")
            return None
        odd = [v for v in values if isinstance(v, float) and not math.isfinite(v)]
        if odd:
            self.problem(f"{where}: values must be finite numbers, got {odd[0]!r}")
            return None
        if not values:
            self.problem(f"{where}: the list of values is empty")
            return None
        ok = True
        node_values: list[Any] = []
        for value in values:
            if key == "seed":
                if isinstance(value, bool) or not isinstance(value, int):
                    self.problem(f"{where}: seeds must be integers, got {value!r}")
                    ok = False
                node_values.append(value)
                continue
            assert decl is not None
            try:
                node_values.append(decl.validate(node_id, graph.nodes[node_id].type, param, value))
            except ParamError as exc:
                self.problem(f"{where}: {exc}")
                ok = False
        if not ok:
            return None
        if shown is None:
            shown = [show_value(v) for v in values]
        if text is None:
            is_path = decl is not None and decl.kind == "path"
            text = [Path(s).stem if is_path else s for s in shown]
        return Variable(key, values, shown, text, kind, node_values)

    def _glob(self, where: str, pattern: str, input_dir: Path) -> tuple[list[Any], list[str], list[str]]:
        import os

        full = Path(pattern) if Path(pattern).is_absolute() else self.base / pattern
        found = sorted(Path(p) for p in globlib.glob(str(full), recursive=True) if Path(p).is_file())
        if not found:
            self.problem(f"{where}: glob '{pattern}' matches no files (looked in {full.parent})")
            return [], [], []
        values, shown, text = [], [], []
        for f in found:
            try:
                str(f).encode("utf-8")
            except UnicodeEncodeError:
                self.problem(f"{where}: glob '{pattern}' matches {f.name!r}, a file name that is not valid "
                             "UTF-8 (names go into the manifest and the page): rename it")
                continue
            rel = Path(os.path.relpath(f.resolve(), input_dir.resolve())).as_posix()
            if _GLOB_CHARS & set(rel):
                rel = globlib.escape(rel)  # image.load reads glob characters as a pattern
            values.append(rel)
            try:
                shown.append(f.resolve().relative_to(self.base).as_posix())
            except ValueError:
                shown.append(f.name)
            text.append(f.stem)
        return values, shown, text

    def _range(self, where: str, raw: dict[str, Any]) -> list[Any] | None:
        extra = set(raw) - {"from", "to", "step"}
        start, stop, step = raw.get("from"), raw.get("to"), raw.get("step", 1)
        nums = (start, stop, step)
        if extra or any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in nums):
            self.problem(f"{where}: write a range as {{from = 1, to = 8}} (optional step), inclusive")
            return None
        if not all(math.isfinite(v) for v in nums):
            self.problem(f"{where}: range from {start} to {stop} by {step}: from, to and step must be "
                         "finite numbers (not nan or inf)")
            return None
        if step <= 0 or stop < start:
            self.problem(f"{where}: range from {start} to {stop} by {step} is empty")
            return None
        count = int(math.floor((stop - start) / step + 1e-9)) + 1
        if count > MAX_JOBS:
            self.problem(f"{where}: range has {count:,} values; the limit is {MAX_JOBS:,}")
            return None
        if all(isinstance(v, int) for v in nums):
            return [start + i * step for i in range(count)]
        return [round(start + i * step, 10) for i in range(count)]


def show_value(value: Any) -> str:
    """How a param value reads in a caption, a filter or a file name."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "-".join(show_value(v) for v in value)
    if isinstance(value, dict):
        import json

        return json.dumps(value, sort_keys=True)
    return str(value)
