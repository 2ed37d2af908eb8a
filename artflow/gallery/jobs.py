"""The matrix expanded into jobs: one item graph each, a stable key, a safe name, a caption."""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ArtflowError
from ..paths import MAX_NAME, safe_name
from .spec import GallerySpec, fill_template, template_fields

if TYPE_CHECKING:
    from ..plugins import PluginSet

#: bump when the files a job writes change for the same graph (encoding, layout)
RENDER_VERSION = "1"
__all__ = ["MAX_NAME", "Expansion", "Job", "affinity_order", "expand_jobs", "safe_name"]


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
        """The job as plain data for a worker (shallow: the graph dict is shared, never mutated)."""
        return {name: getattr(self, name) for name in _FIELDS}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Job:
        return cls(**data)


_FIELDS = [f.name for f in fields(Job)]


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


class Expansion:
    """The matrix of a spec, item by item: the graph is validated once (with the first value of
    every axis); each combination only swaps in values the spec checker already checked, so
    no item graph is validated again here. Jobs are produced one at a time (a generator), in
    matrix order, so a 100,000-item gallery is never held in memory."""

    def __init__(self, spec: GallerySpec, plugins: PluginSet | None = None, *, provider: str = "auto"):
        if plugins is None:
            from ..plugins import get_plugins

            plugins = get_plugins()
        self.spec = spec
        self.plugins = plugins
        self.provider = provider
        self.fields = template_fields(spec.variables)
        self.wanted = list(dict.fromkeys(spec.save + spec.caption_nodes))
        first = spec.graph.copy()
        first.input_dir = spec.input_dir
        for var in spec.variables:
            if var.key == "seed":
                first.seed = int(var.values[0])
            else:
                first.set(var.node, **{var.param: var.values[0]})
        self.first = first
        self.base = first.to_dict()
        self.input_dir = str(spec.input_dir.resolve())
        self.error = ""
        self.vg: Any = None
        try:
            self.vg = first.validate(plugins.nodes)
        except ArtflowError as exc:  # every item fails with this one line
            self.error = str(exc)
        # Nodes that read anything beyond their params (files: key_extra; models: sha256) need
        # their content keys per item; for all others the item's graph decides everything, and
        # one digest of the node types' versions and code stands for the content keys.
        self.external = self.vg is not None and any(
            s.key_extra is not None or s.model_params for s in self.vg.specs.values())
        self.prefix = self._prefix()
        self.clashes = self._clashing_names()

    def _prefix(self) -> str:
        """The key material every item shares: the graph without the matrix's params and seed,
        the node types' versions and code, what is saved, names, captions, thumbnails. It
        leaves out the axes' first values, so an item keeps its key when the matrix grows."""
        spec = self.spec
        base = copy.deepcopy(self.base)
        base.pop("seed", None)
        for var in spec.variables:
            if var.key != "seed":
                base["nodes"][var.node].get("params", {}).pop(var.param, None)
        code = {} if self.vg is None else {n: [s.name, s.version, s.fingerprint]
                                           for n, s in sorted(self.vg.specs.items())}
        return canonical_json({"v": RENDER_VERSION, "graph": base, "code": code, "save": spec.save,
                               "captions": spec.caption_nodes, "name": spec.name_template,
                               "thumb": [spec.thumb_size, spec.thumb_format]})

    def __len__(self) -> int:
        return self.spec.size

    def __iter__(self) -> Iterator[Job]:
        spec = self.spec
        axes = [range(len(v.values)) for v in spec.variables]
        for index, combo in enumerate(itertools.product(*axes)):
            yield self.job(index, combo)

    def job(self, index: int, combo: tuple[int, ...]) -> Job:
        spec = self.spec
        seed = self.first.seed
        nodes = dict(self.base["nodes"])
        changed: dict[str, dict[str, Any]] = {}
        params: dict[str, str] = {}
        values: dict[str, Any] = {}
        for var, i in zip(spec.variables, combo, strict=True):
            if var.key == "seed":
                seed = int(var.values[i])
            else:
                node = nodes[var.node] = dict(nodes[var.node])
                node["params"] = {**node.get("params", {}), var.param: var.values[i]}
                assert var.node_values is not None
                changed.setdefault(var.node, {})[var.param] = var.node_values[i]
            params[var.key] = var.shown[i]
            values[var.key] = var.template_value(i)
        graph_dict = {**self.base, "seed": seed, "nodes": nodes}
        note, content, models = "", None, []
        if self.error or self.external:
            note, content, models = self._content(seed, changed)
        axes = {var.key: var.values[i] for var, i in zip(spec.variables, combo, strict=True)}
        item = canonical_json({"axes": axes, "seed": seed, "content": content})
        key = hashlib.sha256(f"{self.prefix}\n{item}".encode()).hexdigest()
        name = self._name(index, seed, values, key)
        caption = ""
        if spec.caption_template:
            fill = self._fill(index, seed, values, key)
            fill.setdefault("name", name)
            caption = fill_template(spec.caption_template, fill)
        return Job(index=index, key=key, name=name, seed=seed, params=params, graph=graph_dict,
                   input_dir=self.input_dir, save=spec.save, caption_nodes=spec.caption_nodes,
                   caption=caption, thumb_size=spec.thumb_size, thumb_format=spec.thumb_format,
                   provider=self.provider, key_note=note, models=models)

    def _content(self, seed: int, changed: dict[str, dict[str, Any]]) -> tuple[str, Any, list[str]]:
        """(why keys failed, content keys of the wanted nodes, models) for one combination."""
        if self.error:
            return self.error, {"error": self.error}, []
        from ..cache import NullCache
        from ..plan import make_plan
        from ..validation import ValidatedGraph

        vg0 = self.vg
        graph = copy.copy(self.first)
        graph.seed = seed
        node_params = {n: ({**p, **changed[n]} if n in changed else p) for n, p in vg0.params.items()}
        vg = ValidatedGraph(graph, vg0.specs, node_params, vg0.inputs, vg0.order)
        try:
            plan = make_plan(vg, NullCache(), self.plugins.models, [], output_dir=Path("."),
                             input_dir=self.spec.input_dir, provider=self.provider)
        except ArtflowError as exc:
            return str(exc), {"error": str(exc)}, []
        models = [str(node_params[n][p]) for n in vg.order for p in vg.specs[n].model_params
                  if node_params[n].get(p) is not None]
        return "", {n: plan.keys[n] for n in self.wanted}, models

    def _fill(self, index: int, seed: int, values: dict[str, Any], key: str) -> dict[str, Any]:
        fill: dict[str, Any] = {"seed": seed, "index": index, "key": key[:12]}
        for name, var_key in self.fields.items():
            fill[name] = values[var_key]
        return fill

    def _name(self, index: int, seed: int, values: dict[str, Any], key: str) -> str:
        name = quick_safe_name(fill_template(self.spec.name_template, self._fill(index, seed, values, key)))
        if name.lower() in self.clashes:
            name = safe_name(f"{name[:MAX_NAME - 13]}-{key[:12]}")
        return name

    def _clashing_names(self) -> set[str]:
        """Names the template gives to more than one item (those get their short key appended)."""
        spec = self.spec
        if "{key" in spec.name_template:
            return set()
        counts: dict[str, int] = {}
        shown = [[(var.key, var.template_value(i)) for i in range(len(var.values))] for var in spec.variables]
        seeds = next(([int(v) for v in var.values] for var in spec.variables if var.key == "seed"), None)
        at = next((k for k, var in enumerate(spec.variables) if var.key == "seed"), -1)
        axes = [range(len(v.values)) for v in spec.variables]
        for index, combo in enumerate(itertools.product(*axes)):
            seed = seeds[combo[at]] if seeds is not None else self.first.seed
            values = dict(shown[k][i] for k, i in enumerate(combo))
            raw = fill_template(spec.name_template, self._fill(index, seed, values, ""))
            name = quick_safe_name(raw).lower()
            counts[name] = counts.get(name, 0) + 1
        clashes = {name for name, n in counts.items() if n > 1}
        if clashes:
            n = sum(counts[name] for name in clashes)
            note = (f"the name template gives {n} items the same name as another; their short "
                    "keys were appended (add more fields to 'name')")
            if note not in spec.notes:
                spec.notes.append(note)
        return clashes


_PLAIN = re.compile(r"[A-Za-z0-9]+(?:[-.][A-Za-z0-9]+)*")


def quick_safe_name(raw: str) -> str:
    """:func:`safe_name`, skipped for a plain name it would return unchanged (ASCII letters and
    digits joined by single '-' or '.', not a Windows device name): most gallery names."""
    if len(raw) <= MAX_NAME and _PLAIN.fullmatch(raw) and raw[:3].lower() not in _DEVICES:
        return raw
    return safe_name(raw)


_DEVICES = {"con", "prn", "aux", "nul", "com", "lpt"}


def expand_jobs(spec: GallerySpec, plugins: PluginSet | None = None, *, provider: str = "auto") -> list[Job]:
    """Every combination of the matrix, in spec order (the last axis varies fastest)."""
    return list(Expansion(spec, plugins, provider=provider))


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
