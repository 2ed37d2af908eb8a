"""Provenance: every PNG artflow writes carries the graph that made it, so it can be made again.

``provenance_text`` is a pure function of the graph and the run's lineage records (see
:mod:`artflow.lineage`): which models (sha256) the nodes upstream of the picture used and the
provider that really ran them. :mod:`artflow.graph_files` reads the graph a PNG carries.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import GraphError

if TYPE_CHECKING:
    from .graph import Graph
    from .lineage import NodeLineage
    from .plugins import PluginSet

KEY = "artflow"


def provenance_record(graph: Mapping[str, Any], lineage: Mapping[str, NodeLineage], *,
                      input_dir: str | Path, plugin_versions: Mapping[str, str],
                      artflow_version: str, extras: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The record a picture carries: graph, where its inputs were, versions, models, provider.

    ``lineage`` holds the records of the nodes the picture depends on (the engine passes the
    ancestors of the node that writes it); ``extras`` what a sketch adds (the scripts its node
    types come from, its constant arrays: :func:`artflow.sketch.provenance_extras`).
    """
    models: dict[str, dict[str, str]] = {}  # by node id: a generator and a classifier may share a name
    providers: set[str] = set()
    for node_id in sorted(lineage):
        record = lineage[node_id]
        shas = record.model_shas()
        if shas:
            models[node_id] = dict(sorted(shas.items()))
        if record.provider:
            providers.add(record.provider)
        providers.update(record.upstream_providers)
    record = {
        "graph": dict(graph),
        "input_dir": str(Path(input_dir).resolve()),
        "versions": {"artflow": artflow_version, "plugins": dict(plugin_versions)},
        "models": models,
        "provider": sorted(providers)[0] if len(providers) == 1 else sorted(providers),
    }
    record.update(extras or {})
    return record


def provenance_text(graph: Mapping[str, Any], lineage: Mapping[str, NodeLineage], *,
                    input_dir: str | Path, plugin_versions: Mapping[str, str],
                    artflow_version: str, extras: Mapping[str, Any] | None = None) -> dict[str, str]:
    """The PNG text chunks for a picture (see :func:`provenance_record`)."""
    record = provenance_record(graph, lineage, input_dir=input_dir, plugin_versions=plugin_versions,
                               artflow_version=artflow_version, extras=extras)
    return {KEY: json.dumps(record, sort_keys=True)}


def picture_provenance(graph: Graph, lineage: Mapping[str, NodeLineage], *, input_dir: str | Path,
                       plugins: PluginSet) -> dict[str, str]:
    """The text chunks of a picture (or animation) written from ``graph``: what
    :func:`provenance_text` records, with artflow's and the loaded plugins' versions and what a
    sketch adds. The engine, a run over frames and the gallery all write through this one call."""
    from . import __version__
    from .sketch import provenance_extras

    versions = {p.name: p.version for p in plugins.plugins.values() if not p.error}
    return provenance_text(graph.to_dict(), lineage, input_dir=input_dir, plugin_versions=versions,
                           artflow_version=__version__, extras=provenance_extras(graph))


def read_provenance(path: str | Path) -> dict[str, Any]:
    """The provenance record of a PNG written by artflow."""
    from .imaging import read_png_text

    text = read_png_text(path).get(KEY)
    if text is None:
        raise GraphError(f"'{path}' carries no artflow graph (it was not written by artflow's "
                         "image.save, or its metadata was stripped)")
    try:
        record = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        raise GraphError(f"'{path}': its artflow metadata is not valid JSON") from None
    if not isinstance(record, dict) or "graph" not in record:
        raise GraphError(f"'{path}': its artflow metadata has no graph")
    return record
