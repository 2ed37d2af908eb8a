"""Reading a graph from a file: a graph JSON, or the graph a PNG written by artflow carries."""

from __future__ import annotations

from pathlib import Path

from .graph import Graph
from .provenance import read_provenance


def graph_from_png(path: str | Path) -> Graph:
    """The graph a PNG carries, ready to run again (inputs resolve where they did first)."""
    from .sketch import restore_from_provenance

    record = read_provenance(path)
    restore_from_provenance(record, Path(path).parent)  # arrays it embeds; says which sketch it needs
    graph = Graph.from_dict(record["graph"], source=None)
    graph.input_dir = Path(str(record.get("input_dir", ".")))
    return graph


def load_graph(path: str | Path) -> Graph:
    """A graph file (JSON), or the graph a PNG written by artflow carries."""
    path = Path(path)
    if path.suffix.lower() == ".png" and path.is_file():
        return graph_from_png(path)
    return Graph.load(path)
