"""Gallery specs in TOML: a graph, a matrix of param values, what to save, names and captions.

    title = "Stained glass"
    graph = "glass.json"            # a graph file next to the spec, or an inline [graph] table
    save = ["art"]                  # nodes whose IMAGE outputs become gallery images
    name = "{palette}-{seed}"       # file name template (made safe, kept inside the output folder)

    [matrix]
    "art.palette" = ["vivid", "pastel"]
    "photo.path" = {glob = "inputs/*.jpg"}
    seed = {from = 1, to = 8}

    [captions]
    template = "{palette}, seed {seed}"
    from = ["classify"]             # LABELS / BOXES outputs shown under each image

Every problem is collected; :class:`SpecError` carries them all, one line each.
"""

from __future__ import annotations

import functools
import math
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import tomllib

from ..errors import ArtflowError
from .matrix import MAX_JOBS, MatrixReader, Variable

if TYPE_CHECKING:
    from ..graph import Graph
    from ..plugins import PluginSet

SPEC_KEYS = {"title", "description", "graph", "matrix", "save", "name", "captions", "thumbnails", "frames",
             "fps"}
CAPTION_KEYS = {"template", "from"}
THUMB_KEYS = {"size", "format"}
THUMB_FORMATS = {"jpeg": ".jpg", "webp": ".webp", "png": ".png"}
#: deepest nesting of lists/tables in one matrix value
BUILTIN_FIELDS = ("seed", "index", "key", "name")


class GalleryError(ArtflowError):
    """A gallery render cannot go on: bad output folder, another render running, a backend failing."""


class SpecError(GalleryError):
    """A gallery spec has problems; ``problems`` lists them, one line each."""

    def __init__(self, path: Path | str, problems: list[str]):
        self.path = Path(path)
        self.problems = problems
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(f"{self.path.name}: {problems[0]}{more}")


@dataclass
class GallerySpec:
    """A checked gallery spec, ready to expand into jobs."""

    path: Path
    title: str
    graph: Graph
    input_dir: Path
    variables: list[Variable]
    save: list[str]
    name_template: str
    caption_template: str
    caption_nodes: list[str]
    description: str = ""
    thumb_size: int = 256
    thumb_format: str = "jpeg"
    notes: list[str] = field(default_factory=list)

    @property
    def size(self) -> int:
        return math.prod(len(v.values) for v in self.variables) if self.variables else 1


def template_fields(variables: list[Variable]) -> dict[str, str]:
    """Fields a template may use for the matrix: full keys, and short param names when unique."""
    out: dict[str, str] = {}
    counts: dict[str, int] = {}
    for v in variables:
        counts[v.param] = counts.get(v.param, 0) + 1
    for v in variables:
        out[v.key] = v.key
        if counts[v.param] == 1:
            out[v.param] = v.key
    return out


@functools.lru_cache(maxsize=64)
def parse_template(template: str) -> tuple[tuple[str, str | None, str], ...]:
    """Split a template into (literal, field, format spec) parts; raise ValueError when malformed.
    (Cached: a gallery fills the same two templates for every item.)"""
    parts = []
    for literal, name, spec, conversion in string.Formatter().parse(template):
        if conversion:
            raise ValueError(f"'!{conversion}' conversions are not supported")
        if name is not None and not name:
            raise ValueError("'{}' needs a field name, like {seed}")
        if spec and ("{" in spec or "}" in spec):
            raise ValueError("nested fields in a format spec are not supported")
        parts.append((literal, name, spec or ""))
    return tuple(parts)


def fill_template(template: str, values: dict[str, Any]) -> str:
    """Fill a checked template; unknown fields raise KeyError, bad format specs ValueError."""
    out = []
    for literal, name, spec in parse_template(template):
        out.append(literal)
        if name is not None:
            value = values[name]
            out.append(format(value, spec) if spec else str(value))
    return "".join(out)


def check_template(template: Any, what: str, allowed: set[str], sample: dict[str, Any]) -> list[str]:
    """Problems with a template: malformed, unknown fields, or a format spec that does not fit."""
    if not isinstance(template, str):
        return [f"{what} must be a string, got {template!r}"]
    try:
        parts = parse_template(template)
    except ValueError as exc:
        return [f"{what} {template!r} is malformed: {exc}"]
    problems = []
    for _, name, _spec in parts:
        if name is not None and name not in allowed:
            import difflib

            near = difflib.get_close_matches(name, sorted(allowed), n=1)
            hint = f" (did you mean '{{{near[0]}}}'?)" if near else ""
            problems.append(f"{what} {template!r} uses unknown field '{{{name}}}'{hint}; "
                            f"fields: {', '.join('{' + a + '}' for a in sorted(allowed))}")
    if not problems:
        try:
            fill_template(template, sample)
        except (ValueError, TypeError) as exc:
            problems.append(f"{what} {template!r} cannot be filled: {exc}")
    return problems


def load_spec(path: str | Path, plugins: PluginSet | None = None) -> GallerySpec:
    """Read and check a gallery spec; raise :class:`SpecError` listing every problem found."""
    path = Path(path)
    if path.is_dir():
        raise SpecError(path, [f"spec file '{path}' is a folder; give the spec's .toml file"])
    if not path.is_file():
        raise SpecError(path, [f"spec file '{path}' not found"])
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(path, [f"cannot read the spec ({exc})"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(path, [f"not valid TOML: {exc}"]) from None
    except RecursionError:
        raise SpecError(path, ["values are nested too deeply to read"]) from None
    if plugins is None:
        from ..plugins import get_plugins

        plugins = get_plugins()
    return _Checker(path, data, plugins).check()


class _Checker(MatrixReader):
    """Collects every problem of one spec instead of stopping at the first."""

    def __init__(self, path: Path, data: dict[str, Any], plugins: PluginSet):
        self.path = path
        self.base = path.resolve().parent
        self.data = data
        self.plugins = plugins
        self.problems: list[str] = []

    def problem(self, text: str) -> None:
        if text not in self.problems:
            self.problems.append(text)

    def check(self) -> GallerySpec:
        from ..errors import GraphError, ParamError

        data = self.data
        for key in sorted(set(data) - SPEC_KEYS):
            self.problem(f"unknown key '{key}' (allowed: {', '.join(sorted(SPEC_KEYS))})")
        title = data.get("title", self.path.stem)
        if not isinstance(title, str):
            self.problem(f"'title' must be a string, got {title!r}")
            title = self.path.stem
        description = data.get("description", "")
        if not isinstance(description, str):
            self.problem(f"'description' must be a string, got {description!r}")
            description = ""
        graph, input_dir = self._graph(data.get("graph"))
        if graph is None:
            raise SpecError(self.path, self.problems)
        if "frames" in data or "fps" in data:  # a gallery of motion: each item runs over these frames
            from ..graph import Graph

            try:
                timing = Graph(frames=data.get("frames", graph.frames), fps=data.get("fps", graph.fps))
                graph.frames, graph.fps = timing.frames, timing.fps
            except GraphError as exc:
                self.problem(str(exc))
        variables = self._matrix(data.get("matrix", {}), graph, input_dir)
        specs = self._node_specs(graph)
        save = self._save(data.get("save"), graph, specs)
        captions = data.get("captions", {})
        if not isinstance(captions, dict):
            self.problem("'captions' must be a table with 'template' and/or 'from'")
            captions = {}
        for key in sorted(set(captions) - CAPTION_KEYS):
            self.problem(f"unknown key 'captions.{key}' (allowed: template, from)")
        caption_nodes = self._caption_nodes(captions.get("from"), graph, specs)
        thumb_size, thumb_format = self._thumbnails(data.get("thumbnails", {}))

        fields = template_fields(variables)
        allowed = set(fields) | set(BUILTIN_FIELDS)
        sample: dict[str, Any] = {"seed": graph.seed, "index": 0, "key": "0" * 12, "name": "item"}
        # a matrix param called 'seed', 'index', 'key' or 'name' wins over the built-in field
        for name, key in fields.items():
            sample[name] = next(v for v in variables if v.key == key).template_value(0)
        default_name = "-".join("{" + _short_field(v, fields) + "}" for v in variables) or "item-{index}"
        name_template = data.get("name", default_name)
        for p in check_template(name_template, "'name'",
                                allowed if "name" in fields else allowed - {"name"}, sample):
            self.problem(p)
        caption_template = captions.get("template", "")
        for p in check_template(caption_template, "'captions.template'", allowed, sample):
            self.problem(p)

        # the graph with the first value of every axis must validate (values were checked one by one)
        if not self.problems:
            first = graph.copy()
            for var in variables:
                if var.key == "seed":
                    first.seed = int(var.values[0])
                else:
                    first.set(var.node, **{var.param: var.values[0]})
            try:
                first.validate(self.plugins.nodes)
            except (GraphError, ParamError) as exc:
                self.problem(f"graph: {exc}")
        if self.problems:
            raise SpecError(self.path, self.problems)
        spec = GallerySpec(
            path=self.path, title=title, graph=graph, input_dir=input_dir, variables=variables,
            save=save, name_template=name_template, caption_template=caption_template,
            caption_nodes=caption_nodes, description=description, thumb_size=thumb_size,
            thumb_format=thumb_format,
        )
        if spec.size > MAX_JOBS:
            raise SpecError(self.path, [f"the matrix makes {spec.size:,} items; the limit is {MAX_JOBS:,}"])
        return spec

    # -- parts --------------------------------------------------------------------------------
    def _graph(self, value: Any) -> tuple[Graph | None, Path]:
        from ..errors import GraphError
        from ..graph import Graph

        if value is None:
            self.problem("'graph' is missing: give a graph file (graph = \"art.json\") or an inline "
                         "[graph] table")
            return None, self.base
        try:
            if isinstance(value, str):
                file = (self.base / value) if not Path(value).is_absolute() else Path(value)
                if not file.is_file():
                    what = "is a folder" if file.is_dir() else "not found"
                    self.problem(f"graph file '{value}' {what} (looked for {file})")
                    return None, self.base
                graph = Graph.load(file)
                return graph, graph.input_dir or file.parent
            if isinstance(value, dict):
                graph = Graph.from_dict(value, source=None)
                graph.input_dir = self.base
                return graph, self.base
        except GraphError as exc:
            self.problem(f"graph: {exc}")
            return None, self.base
        self.problem(f"'graph' must be a file name or a table, got {value!r}")
        return None, self.base

    def _node_specs(self, graph: Graph) -> dict[str, Any]:
        from ..errors import GraphError

        specs = {}
        for inst in graph:
            try:
                specs[inst.id] = self.plugins.nodes.get(inst.type, node_id=inst.id)
            except GraphError as exc:
                self.problem(f"graph: {exc}")
        return specs

    def _save(self, value: Any, graph: Graph, specs: dict[str, Any]) -> list[str]:
        if value is None:
            used = {ref.node for inst in graph for ref in inst.inputs.values()}
            found = [n for n, s in specs.items() if n not in used and _image_outputs(s)]
            if not found:
                self.problem("'save' is missing and no final node gives an IMAGE; "
                             "list the nodes to save: save = [\"node\"]")
            return found
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            self.problem(f"'save' must be a list of node ids, got {value!r}")
            return []
        out = []
        for node_id in value:
            if node_id not in graph.nodes:
                self.problem(f"'save': no node '{node_id}' in the graph (nodes: {', '.join(graph.nodes)})")
            elif node_id in specs and not _image_outputs(specs[node_id]):
                self.problem(f"'save': node '{node_id}' ({specs[node_id].name}) has no IMAGE output")
            elif node_id not in out:
                out.append(node_id)
        return out

    def _caption_nodes(self, value: Any, graph: Graph, specs: dict[str, Any]) -> list[str]:
        if value is None:
            return [n for n, s in specs.items() if s.category == "model" and _caption_outputs(s)]
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.problem(f"'captions.from' must be a list of node ids, got {value!r}")
            return []
        out = []
        for node_id in value:
            if node_id not in graph.nodes:
                self.problem(f"'captions.from': no node '{node_id}' in the graph "
                             f"(nodes: {', '.join(graph.nodes)})")
            elif node_id in specs and not _caption_outputs(specs[node_id]):
                self.problem(f"'captions.from': node '{node_id}' ({specs[node_id].name}) gives no "
                             "LABELS or BOXES")
            elif node_id not in out:
                out.append(node_id)
        return out

    def _thumbnails(self, value: Any) -> tuple[int, str]:
        if not isinstance(value, dict):
            self.problem("'thumbnails' must be a table with 'size' and/or 'format'")
            return 256, "jpeg"
        for key in sorted(set(value) - THUMB_KEYS):
            self.problem(f"unknown key 'thumbnails.{key}' (allowed: size, format)")
        size = value.get("size", 256)
        if isinstance(size, bool) or not isinstance(size, int) or not 16 <= size <= 2048:
            self.problem(f"'thumbnails.size' must be an integer in [16, 2048], got {size!r}")
            size = 256
        fmt = value.get("format", "jpeg")
        if fmt not in THUMB_FORMATS:
            self.problem(f"'thumbnails.format' must be one of {', '.join(THUMB_FORMATS)}, got {fmt!r}")
            fmt = "jpeg"
        return size, fmt


def _image_outputs(spec: Any) -> list[str]:
    return [s.name for s in spec.outputs if s.type.name == "IMAGE"]


def _caption_outputs(spec: Any) -> list[str]:
    return [s.name for s in spec.outputs if s.type.name in ("LABELS", "BOXES")]


def _short_field(var: Variable, fields: dict[str, str]) -> str:
    return var.param if fields.get(var.param) == var.key else var.key
