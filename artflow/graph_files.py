"""Reading a graph from a file: a graph JSON, or the graph a PNG written by artflow carries.

A JSON graph or sketch you run is code you chose. A PNG is data that may come from anyone, so the
graph it carries gets a :class:`~artflow.paths.ReadPolicy`: it reads inputs, frame folders,
arrays and model files only beside the picture (plus registered models and the folders passed
as ``allow``), checked here before anything runs and again by every node that reads.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from .errors import GraphError
from .graph import Graph
from .paths import ReadPolicy, expand_user, glob_files, is_glob
from .provenance import read_provenance


def allowed_folders(extra: Iterable[str | Path] = ()) -> tuple[Path, ...]:
    """Folders a picture's graph may read besides its own: ``extra`` (``--allow-path``) and the
    ``ARTFLOW_ALLOW_PATHS`` setting."""
    from . import settings

    return tuple(expand_user(p) for p in extra) + tuple(settings.get("ARTFLOW_ALLOW_PATHS"))


def graph_from_png(path: str | Path, allow: Iterable[str | Path] = ()) -> Graph:
    """The graph a PNG carries, ready to run again under a read policy (see the module doc):
    its inputs resolve where they did first when that folder is allowed, else beside the PNG."""
    from .sketch import restore_from_provenance

    path = Path(path)
    record = read_provenance(path)
    policy = ReadPolicy.for_picture(path, allowed_folders(allow))
    restore_from_provenance(record, path.parent)  # arrays it embeds; says which sketch it needs
    graph = Graph.from_dict(record["graph"], source=None)
    recorded = record.get("input_dir") or ""
    if not isinstance(recorded, str) or "\x00" in recorded:
        raise GraphError(f"'{path}': its artflow metadata has an input_dir that is not a folder name")
    recorded = recorded if Path(recorded).is_absolute() else ""  # artflow records absolute folders
    if recorded and policy.allows(Path(recorded)) and Path(recorded).is_dir():
        graph.input_dir = Path(recorded)
    else:
        graph.input_dir = path.resolve().parent
        if recorded and Path(recorded).resolve() != graph.input_dir:
            policy = ReadPolicy(policy.roots, policy.origin, recorded=_shown(recorded))
    graph.read_policy = policy
    check_reads(graph)
    return graph


def _shown(text: str) -> str:
    return text if text.isprintable() else ascii(text)[1:-1]


def check_reads(graph: Graph) -> None:
    """Refuse, before anything runs, every path a graph under a read policy would read outside it:
    input paths and globs (each match, symlinks resolved), the files of a frame folder, models."""
    from .plugins import get_plugins

    policy = graph.read_policy
    if policy is None:
        return
    plugins = get_plugins()
    base = graph.input_dir or Path.cwd()
    for inst in graph:
        if inst.type not in plugins.nodes:
            continue  # validation names the unknown type
        spec = plugins.nodes.get(inst.type)
        who = f"node '{inst.id}' ({inst.type})"
        for name, param in spec.params.items():
            value = inst.params.get(name)
            if not isinstance(value, str):
                continue
            if param.model_kind is not None:
                policy.model(plugins.models, value, param.model_kind, base, who)
            elif param.kind == "path" and not spec.writes_files:
                _check_input(policy, base, value, who)


def _check_input(policy: ReadPolicy, base: Path, raw: str, who: str) -> None:
    full = policy.input_path(base, raw, who)
    if is_glob(raw):
        files: list[Path] = glob_files(full)
    elif full.is_dir():
        files = [p for p in full.iterdir() if not p.name.startswith(".")]
    elif full.exists() or full.is_symlink():
        files = [full]
    else:
        if policy.recorded:  # the file was beside the graph the picture was made from
            raise policy.missing(who, raw)
        return  # the node says what is missing
    for f in files:
        policy.readable(f, raw, who)


def load_graph(path: str | Path, allow: Iterable[str | Path] = ()) -> Graph:
    """A graph file (JSON), or the graph a PNG written by artflow carries (read only beside it and
    in the ``allow`` folders)."""
    path = Path(path)
    if path.suffix.lower() == ".png" and path.is_file():
        return graph_from_png(path, allow)
    graph = Graph.load(path)
    nodes = graph.meta.get("sketch_nodes")
    if isinstance(nodes, dict) and all(isinstance(v, str) for v in nodes.values()):
        from .sketch import check_sketch_nodes

        check_sketch_nodes(nodes, f"the graph {path.name}")
    return graph

