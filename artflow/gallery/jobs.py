"""The matrix expanded into jobs: one item graph each, a stable key, a safe name, a caption."""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from ..paths import MAX_NAME, safe_name
from .spec import GallerySpec, fill_template, template_fields

if TYPE_CHECKING:
    from ..plugins import PluginSet

#: bump when the files a job writes change for the same graph (encoding, layout)
RENDER_VERSION = "1"
__all__ = ["MAX_NAME", "Job", "affinity_order", "expand_jobs", "safe_name"]


@dataclass
class Job:
    """One gallery item: everything a worker needs to render it, as plain JSON-able data."""

    index: int
    key: str
    name: str
    seed: int
    #: matrix key → the value as it reads (captions, filters)
    params: dict[str, str]
    graph: dict[str, Any]
    input_dir: str
    save: list[str]
    caption_nodes: list[str]
    caption: str = ""
    thumb_size: int = 256
    thumb_format: str = "jpeg"
    provider: str = "auto"
    #: why the key could not include the nodes' content keys (the job will fail and say why)
    key_note: str = ""
    #: the models the item's nodes load (model params, in node order): workers are handed items
    #: that share models, so each loads fewer of them
    models: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Job:
        return cls(**data)


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def expand_jobs(spec: GallerySpec, plugins: PluginSet | None = None, *, provider: str = "auto") -> list[Job]:
    """Every combination of the matrix, in spec order (the last axis varies fastest)."""
    from ..cache import Cache
    from ..engine import Engine
    from ..errors import ArtflowError

    if plugins is None:
        from ..plugins import get_plugins

        plugins = get_plugins()
    keyer = Engine(Cache(disk=False, max_memory_mb=0), plugins=plugins, workers=1)
    fields = template_fields(spec.variables)
    wanted = list(dict.fromkeys(spec.save + spec.caption_nodes))
    axes = [range(len(v.values)) for v in spec.variables]
    jobs: list[Job] = []
    for index, combo in enumerate(itertools.product(*axes)):
        graph = spec.graph.copy()
        graph.input_dir = spec.input_dir
        params: dict[str, str] = {}
        values: dict[str, Any] = {}
        for var, i in zip(spec.variables, combo, strict=True):
            if var.key == "seed":
                graph.seed = int(var.values[i])
            else:
                graph.set(var.node, **{var.param: var.values[i]})
            params[var.key] = var.shown[i]
            values[var.key] = var.template_value(i)
        graph_dict = graph.to_dict()
        note = ""
        models: list[str] = []
        try:
            vg = graph.validate(plugins.nodes)
            node_keys = keyer.keys(graph, input_dir=spec.input_dir)
            content = {n: node_keys[n] for n in wanted}
            models = [str(vg.params[n][p]) for n in vg.order for p in vg.specs[n].model_params
                      if vg.params[n].get(p) is not None]
        except ArtflowError as exc:
            note = str(exc)
            content = {"error": note}
        material = {
            "v": RENDER_VERSION, "graph": graph_dict, "content": content, "save": spec.save,
            "captions": spec.caption_nodes, "name": spec.name_template,
            "thumb": [spec.thumb_size, spec.thumb_format],
        }
        key = hashlib.sha256(canonical_json(material).encode()).hexdigest()
        fill: dict[str, Any] = {"seed": graph.seed, "index": index, "key": key[:12]}
        for name, var_key in fields.items():
            fill[name] = values[var_key]
        name = safe_name(fill_template(spec.name_template, fill))
        fill.setdefault("name", name)
        caption = fill_template(spec.caption_template, fill) if spec.caption_template else ""
        jobs.append(Job(
            index=index, key=key, name=name, seed=graph.seed, params=params, graph=graph_dict,
            input_dir=str(spec.input_dir.resolve()), save=list(spec.save),
            caption_nodes=list(spec.caption_nodes), caption=caption, thumb_size=spec.thumb_size,
            thumb_format=spec.thumb_format, provider=provider, key_note=note, models=models,
        ))
    _dedupe_names(jobs, spec)
    return jobs


def _dedupe_names(jobs: list[Job], spec: GallerySpec) -> None:
    """Items whose names collide get their short key appended (deterministically)."""
    seen: dict[str, int] = {}
    for job in jobs:
        seen[job.name.lower()] = seen.get(job.name.lower(), 0) + 1
    clashes = sum(1 for job in jobs if seen[job.name.lower()] > 1)
    if clashes:
        for job in jobs:
            if seen[job.name.lower()] > 1:
                job.name = safe_name(f"{job.name[:MAX_NAME - 13]}-{job.key[:12]}")
        note = (f"the name template gives {clashes} items the same name as another; their short "
                "keys were appended (add more fields to 'name')")
        if note not in spec.notes:
            spec.notes.append(note)


def affinity_order(jobs: list[dict[str, Any]], workers: int) -> list[dict[str, Any]]:
    """The order to hand jobs to ``workers`` pool processes so each tends to load few models.

    Jobs sorted by the models they use are cut into one contiguous run per worker, and the runs
    are interleaved: with items of similar cost, the k-th worker to ask keeps taking from the
    k-th run. (A worker that runs ahead takes from the others' runs; order never changes what
    an item renders.)
    """
    if workers <= 1 or len(jobs) <= workers:
        return list(jobs)
    ordered = sorted(jobs, key=lambda job: (job.get("models") or [], job["index"]))
    size = -(-len(ordered) // workers)
    runs = [ordered[i:i + size] for i in range(0, len(ordered), size)]
    return [run[i] for i in range(size) for run in runs if i < len(run)]
