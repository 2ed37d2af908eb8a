"""Provenance: every PNG artflow writes carries the graph that made it, so it can be made again."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .errors import GraphError

KEY = "artflow"


def provenance_text(graph: Any, input_dir: Path, infos: dict[str, dict[str, Any]],
                    plugins: Any = None) -> dict[str, str]:
    """The PNG text chunks for an image written by a run of ``graph``."""
    from . import __version__

    models: dict[str, dict[str, str]] = {}  # by node id: a generator and a classifier may share a name
    providers: set[str] = set()
    for node_id, info in sorted(infos.items()):
        if info.get("models"):
            models[node_id] = dict(info["models"])
        if info.get("provider"):
            providers.add(info["provider"])
    plugin_versions = {}
    if plugins is not None:
        plugin_versions = {p.name: p.version for p in plugins.plugins.values() if not p.error}
    record = {
        "graph": graph.to_dict(),
        "input_dir": str(Path(input_dir).resolve()),
        "versions": {"artflow": __version__, "plugins": plugin_versions},
        "models": models,
        "provider": sorted(providers)[0] if len(providers) == 1 else sorted(providers),
    }
    return {KEY: json.dumps(record, sort_keys=True)}


def read_provenance(path: str | Path) -> dict[str, Any]:
    """The provenance record of a PNG written by artflow."""
    from .imaging import read_png_text

    text = read_png_text(path).get(KEY)
    if text is None:
        raise GraphError(f"'{path}' carries no artflow graph (it was not written by artflow's "
                         "image.save, or its metadata was stripped)")
    try:
        record = json.loads(text)
    except json.JSONDecodeError:
        raise GraphError(f"'{path}': its artflow metadata is not valid JSON") from None
    if not isinstance(record, dict) or "graph" not in record:
        raise GraphError(f"'{path}': its artflow metadata has no graph")
    return record


def graph_from_png(path: str | Path) -> Any:
    """The graph a PNG carries, ready to run again (inputs resolve where they did first)."""
    from .graph import Graph

    record = read_provenance(path)
    graph = Graph.from_dict(record["graph"], source=None)
    graph.input_dir = Path(record.get("input_dir", "."))
    return graph
