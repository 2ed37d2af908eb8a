"""Checking a TF.js package (model.json + weight shards) before anything big is read or allocated.

Pure Python and NumPy-free: every field an import relies on is checked here, so a malformed or
hostile model.json gives one line (exit 2) before TensorFlow is imported, a shard is read, or a
tensor is allocated:

- the model.json is read with a size limit (gzip too), and must be a graph or layers model;
- weight shard paths stay inside the model.json's folder (no absolute path, no ``..``, no
  symlink out, each listed once) and are regular files whose sizes match what the manifest
  declares, byte for byte;
- every weight has a unique name, a known dtype and a shape of small non-negative integers, and
  the memory the weights and declared constants need fits ``ARTFLOW_MAX_MEMORY_MB``;
- the topology is a graph: unique names, inputs that name nodes (layers), no cycles; a layers
  model's classes are Keras' own or declared by a plugin (``register_import_layers``).
"""

from __future__ import annotations

import json
import os
import stat
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .tfjs_topology import (
    KERAS_LAYERS,
    TfjsError,
    check_graph,
    check_layer_sizes,
    check_layers,
    check_shape,
    q,
)

#: model.json files larger than this are refused before reading (the biggest npm ones are ~1 MB)
MAX_MODEL_JSON = 64 * 2**20
ITEMSIZE = {"float32": 4, "int32": 4, "bool": 1, "float16": 2, "uint8": 1, "uint16": 2, "int64": 8,
            "complex64": 8}
QUANTIZED = ("float16", "uint8", "uint16")


@dataclass
class Weight:
    """One manifest entry, checked: ``nbytes`` stored in the shard, ``count`` values decoded."""

    name: str
    shape: tuple[int, ...]
    dtype: str
    quantization: dict[str, Any] | None
    count: int
    nbytes: int


@dataclass
class ShardGroup:
    """One ``weightsManifest`` group: its shards (inside the package) and the weights they hold."""

    shards: list[tuple[str, Path, int]]  # (name as listed, resolved path, size on disk)
    weights: list[Weight]
    nbytes: int


@dataclass
class TfjsPackage:
    """A model.json and its shards, every field checked (see the module doc)."""

    path: Path
    model: dict[str, Any]
    zipped: bool
    raw: bytes
    format: str  # "graph" or "layers"
    groups: list[ShardGroup] = field(default_factory=list)
    decoded_bytes: int = 0
    layers: list[dict[str, Any]] = field(default_factory=list)  # layers models: in run order


def check_package(path: str | Path, *, layer_classes: frozenset[str] | set[str] = frozenset(),
                  budget_bytes: int | None = None) -> TfjsPackage:
    """Read and check a TF.js model.json and its shards' sizes (nothing else is read)."""
    path = Path(path)
    model, zipped, raw = read_model_json(path)
    topology = model["modelTopology"]
    fmt = _format(path, model, topology)
    pkg = TfjsPackage(path, model, zipped, raw, fmt)
    pkg.groups = _manifest(path, model["weightsManifest"], zipped)
    pkg.decoded_bytes = sum(w.count * ITEMSIZE[w.dtype] for g in pkg.groups for w in g.weights)
    const_bytes = 0
    if fmt == "graph":
        const_bytes = check_graph(path, topology, model.get("signature") or topology.get("signature"))
    else:
        pkg.layers = check_layers(path, topology, set(KERAS_LAYERS) | set(layer_classes))
        check_layer_sizes(path, pkg.layers, {w.name: w.shape for g in pkg.groups for w in g.weights})
    need = 2 * pkg.decoded_bytes + const_bytes  # weights read, then copied into the graph
    if budget_bytes is None:
        from .. import settings

        budget_bytes = int(settings.get("ARTFLOW_MAX_MEMORY_MB")) * 2**20
    if need > budget_bytes:
        raise TfjsError(f"{path}: the weights and constants need {need / 2**20:.0f} MB, over the memory "
                        f"budget of {budget_bytes / 2**20:.0f} MB; raise ARTFLOW_MAX_MEMORY_MB if the "
                        "model is meant to be this big")
    return pkg


def read_model_json(path: Path) -> tuple[dict[str, Any], bool, bytes]:
    """The parsed model.json (a dict with a topology and a manifest), whether it was gzipped, its bytes."""
    try:
        st = path.stat()
    except (OSError, ValueError):
        st = None
    if st is None or not stat.S_ISREG(st.st_mode):
        raise TfjsError(f"{q(path)}: no such file; give the model.json of a TF.js model")
    if st.st_size > MAX_MODEL_JSON:
        raise TfjsError(f"{path}: {st.st_size} bytes, too big for a model.json (limit {MAX_MODEL_JSON}); "
                        "give the model.json of a TF.js model")
    with open(path, "rb") as fh:
        raw = fh.read(MAX_MODEL_JSON + 1)
    zipped = raw[:2] == b"\x1f\x8b"
    try:
        text = _gunzip(raw, MAX_MODEL_JSON) if zipped else raw
        model = json.loads(text)
    except (ValueError, OSError, EOFError, zlib.error, RecursionError) as exc:
        raise TfjsError(f"{path}: not a TF.js model.json ({exc.__class__.__name__}); "
                        "give the model.json written by tensorflowjs_converter") from None
    if not isinstance(model, dict) or not isinstance(model.get("modelTopology"), dict) \
            or not isinstance(model.get("weightsManifest"), list):
        raise TfjsError(f"{path}: no modelTopology object and weightsManifest list; give a TF.js "
                        "model's model.json")
    return model, zipped, raw


def _gunzip(data: bytes, limit: int) -> bytes:
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    out = d.decompress(data, limit + 1)
    if len(out) > limit:
        raise OSError("decompresses past the size limit")
    return out


def _format(path: Path, model: dict[str, Any], topology: dict[str, Any]) -> str:
    fmt = model.get("format", topology.get("format"))
    layers = fmt == "layers-model" or any(k in topology for k in ("keras_version", "model_config",
                                                                  "class_name"))
    if fmt not in (None, "graph-model", "layers-model"):
        raise TfjsError(f"{path}: format {q(fmt)} is neither 'graph-model' nor 'layers-model'")
    if layers and fmt != "graph-model":
        return "layers"
    if "node" not in topology:
        raise TfjsError(f"{path}: modelTopology has neither 'node' (a graph model) nor 'model_config' "
                        "(a layers model)")
    return "graph"


def _manifest(path: Path, groups: list[Any], zipped: bool) -> list[ShardGroup]:
    folder = path.parent.resolve()
    seen_paths: dict[Path, str] = {}
    seen_weights: set[str] = set()
    out = []
    for gi, group in enumerate(groups):
        where = f"{path}: weightsManifest[{gi}]"
        if not isinstance(group, dict) or not isinstance(group.get("paths", []), list) \
                or not isinstance(group.get("weights", []), list):
            raise TfjsError(f"{where} is not an object with a 'paths' list and a 'weights' list")
        shards = []
        for name in group.get("paths", []):
            shard = _shard_path(where, folder, name)
            if shard in seen_paths:
                raise TfjsError(f"{where}: shard {q(name)} is listed more than once (also as "
                                f"{q(seen_paths[shard])}); list each shard once")
            seen_paths[shard] = name
            shards.append((name, shard, shard.stat().st_size))
        weights = [_weight(where, i, w, seen_weights) for i, w in enumerate(group.get("weights", []))]
        need = sum(w.nbytes for w in weights)
        have = sum(size for _, _, size in shards)
        if not zipped and have != need:
            sizes = ", ".join(f"{n} {size} bytes" for n, _, size in shards)
            culprit = _odd_shard(shards) or (shards[-1][0] if shards else "(none)")
            raise TfjsError(f"{path}: weight shard {q(culprit)} has the wrong size ({sizes or 'no shards'}; "
                            f"the manifest needs {need} bytes in all): the download is truncated or "
                            "from another model version; fetch the package again")
        out.append(ShardGroup(shards, weights, need))
    return out


def _shard_path(where: str, folder: Path, name: Any) -> Path:
    """The shard's real path, refused unless it is a regular file inside the model's folder."""
    if not isinstance(name, str) or not name or "\x00" in name:
        raise TfjsError(f"{where}: shard path {q(name)} is not a file name")
    parts = Path(name).parts
    if os.path.isabs(name) or ".." in parts or name.startswith("~"):
        raise TfjsError(f"{where}: shard path {q(name)} leaves the model's folder; a TF.js package "
                        "lists its shards beside the model.json")
    candidate = folder / name
    try:
        return _inside(where, folder, name, candidate)
    except OSError as exc:
        raise TfjsError(f"{where}: weight shard {q(name)} cannot be opened ({exc.strerror or exc}); list "
                        "shard files by their names beside the model.json") from None


def _inside(where: str, folder: Path, name: str, candidate: Path) -> Path:
    if not candidate.exists() and not candidate.is_symlink():
        raise TfjsError(f"{where}: weight shard {q(name)} is missing (expected at {q(candidate, 160)}); copy "
                        "every file listed in weightsManifest beside the model.json")
    try:
        real = candidate.resolve(strict=True)
    except (OSError, RuntimeError):
        raise TfjsError(f"{where}: weight shard {q(name)} is a broken or looping link") from None
    if real != folder and folder not in real.parents:
        raise TfjsError(f"{where}: weight shard {q(name)} is a link to {q(real)}, outside the model's "
                        "folder; copy the file itself beside the model.json")
    if not stat.S_ISREG(real.stat().st_mode):
        raise TfjsError(f"{where}: weight shard {q(name)} is not a regular file")
    return real


def _weight(where: str, i: int, w: Any, seen: set[str]) -> Weight:
    if not isinstance(w, dict):
        raise TfjsError(f"{where}: weight {i} is not an object with name, shape and dtype")
    name = w.get("name")
    if not isinstance(name, str) or not name:
        raise TfjsError(f"{where}: weight {i} has no name")
    if name in seen:
        raise TfjsError(f"{where}: weight {q(name)} is listed twice")
    seen.add(name)
    shape = check_shape(f"{where}: weight {q(name)}", w.get("shape"))
    dtype = w.get("dtype")
    if not isinstance(dtype, str) or dtype not in ITEMSIZE:
        raise TfjsError(f"{where}: weight {q(name)} has dtype {q(dtype)}; artflow reads "
                        f"{', '.join(ITEMSIZE)}")
    quant = w.get("quantization")
    stored = dtype
    if quant is not None:
        if not isinstance(quant, dict) or quant.get("dtype") not in QUANTIZED:
            raise TfjsError(f"{where}: weight {q(name)} has a quantization that is not one of "
                            f"{', '.join(QUANTIZED)}")
        stored = quant["dtype"]
        if "scale" in quant and not all(_finite(quant.get(k)) for k in ("scale", "min")):
            raise TfjsError(f"{where}: weight {q(name)} has a quantization scale/min that are not numbers")
    count = 1
    for d in shape:
        count *= d
    return Weight(name, shape, dtype, quant, count, count * ITEMSIZE[stored])


def _finite(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and abs(v) < float("inf")


def _odd_shard(shards: list[tuple[str, Path, int]]) -> str | None:
    """TF.js writes equal shards but the last: name the first that breaks the pattern."""
    if len(shards) < 2:
        return None
    size = shards[0][2]
    for name, _, s in shards[1:-1]:
        if s != size:
            return name
    return shards[-1][0] if shards[-1][2] > size else None


def read_shards(pkg: TfjsPackage) -> list[bytes]:
    """Each group's bytes, read from the checked shards (never more than was checked)."""
    out = []
    for group in pkg.groups:
        parts = []
        for name, shard, size in group.shards:
            with open(shard, "rb") as fh:
                data = fh.read(size + 1)
            if pkg.zipped:
                try:
                    data = _gunzip(data, group.nbytes)
                except (OSError, EOFError, zlib.error):
                    raise TfjsError(f"{pkg.path}: weight shard {q(name)} is not gzip data of at most "
                                    f"{group.nbytes} bytes; fetch the package again") from None
            parts.append(data)
        data = b"".join(parts)
        if len(data) != group.nbytes:
            raise TfjsError(f"{pkg.path}: weight shard {q(group.shards[-1][0] if group.shards else '?')} "
                            f"changed size while being read or does not hold the {group.nbytes} bytes "
                            "the manifest needs; fetch the package again")
        out.append(data)
    return out

