"""Sketch conveniences: nodes defined in the script itself, and arrays or PIL images as inputs.

- :func:`node` (``@af.node`` plus registration) or :func:`register_node` registers a node
  declared in a script for this process (plugin
  ``sketch:<script>``); defining it again (a reload under `artflow watch`) replaces it, but a
  built-in's or a plugin's node type is never replaced.
- :func:`constant` turns a numpy array (H×W×C or N×H×W×C, uint8 or float in [0, 1]) or a PIL
  image into a ``const.image`` node keyed by the sha256 of its content. The array lives in this
  process; :func:`save_arrays` writes it beside a saved graph as ``<sha256>.npy``, which the node
  reads (and checks against its name) when the graph runs elsewhere.
"""

from __future__ import annotations

import hashlib
import inspect
import io
import re
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import GraphError, ImageError

if TYPE_CHECKING:
    from .graph import Graph, NodeRef
    from .nodes import NodeSpec

CONST_TYPE = "const.image"
SKETCH_PREFIX = "sketch:"
_STORE: dict[str, np.ndarray] = {}
_LOCK = threading.Lock()


# -- nodes defined in a script ------------------------------------------------------------------
def _calling_script() -> str:
    for frame in inspect.stack()[1:]:
        if frame.frame.f_globals.get("__name__") == "__main__":
            return Path(frame.filename).name
    return "<sketch>"


def register_node(spec: NodeSpec, script: str | None = None) -> NodeSpec:
    """Register a node a script declares; a redefinition from a sketch replaces the old one."""
    from .plugins import get_plugins

    registry = get_plugins().nodes
    owner = registry.owner(spec.name)
    if owner is not None and not owner.startswith(SKETCH_PREFIX):
        raise GraphError(f"node type '{spec.name}' belongs to plugin '{owner}'; a sketch cannot replace "
                         f"it: give your node another name (e.g. 'my.{spec.name.split('.')[-1]}')")
    registry.add(spec, SKETCH_PREFIX + (script or _calling_script()), replace=True)
    return spec


def node(name: str, **declaration: Any) -> Any:
    """``@af.node`` for a script: declares the node and registers it for this process at once."""
    from .nodes import node as declare

    script = _calling_script()

    def wrap(fn: Any) -> NodeSpec:
        return register_node(declare(name, **declaration)(fn), script)

    return wrap


def sketch_nodes() -> dict[str, str]:
    """Node types registered by sketches in this process, with the script each came from."""
    from .plugins import get_plugins

    return {s.name: s.plugin[len(SKETCH_PREFIX):] for s in get_plugins().nodes
            if s.plugin.startswith(SKETCH_PREFIX)}


# -- arrays as inputs ---------------------------------------------------------------------------
def is_image_value(value: Any) -> bool:
    """Whether ``value`` is something :func:`constant` takes (a numpy array or a PIL image)."""
    if isinstance(value, np.ndarray):
        return True
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow is a dependency
        return False
    return isinstance(value, Image.Image)


def as_image_batch(value: Any) -> np.ndarray:
    """The canonical IMAGE batch (float32 NHWC in [0, 1]) of an array or a PIL image."""
    if not isinstance(value, np.ndarray):
        from .imaging import from_pil

        return from_pil(value)[None].astype(np.float32)
    arr = value
    if arr.ndim == 3:
        arr = arr[None]
    if arr.ndim != 4 or arr.shape[-1] not in (1, 3, 4):
        raise ImageError(f"an array input must be H×W×C or N×H×W×C with 1, 3 or 4 channels, got shape "
                         f"{value.shape}")
    if arr.dtype == np.uint8:
        return arr.astype(np.float32) / np.float32(255)
    if not np.issubdtype(arr.dtype, np.floating):
        raise ImageError(f"an array input must be uint8 or float (values in [0, 1]), got {arr.dtype}")
    arr = arr.astype(np.float32)
    if not np.isfinite(arr).all() or arr.min() < 0 or arr.max() > 1:
        raise ImageError("a float array input must hold values in [0, 1] (no nan or inf); scale it, "
                         "or pass uint8")
    return arr


def npy_bytes(batch: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(batch), allow_pickle=False)
    return buf.getvalue()


def content_sha256(batch: np.ndarray) -> str:
    """The sha256 of a batch's .npy bytes: the name of the file it is saved as."""
    return hashlib.sha256(npy_bytes(batch)).hexdigest()


def constant(graph: Graph, value: Any, node_id: str | None = None) -> NodeRef:
    """A ``const.image`` node holding ``value``; the same content in a graph is one node."""
    batch = as_image_batch(value)
    sha = content_sha256(batch)
    batch.setflags(write=False)
    with _LOCK:
        _STORE[sha] = batch
    for inst in graph:
        if inst.type == CONST_TYPE and inst.params.get("sha256") == sha and node_id in (None, inst.id):
            return graph.node(inst.id)
    return graph.add(CONST_TYPE, node_id or f"array_{sha[:8]}", sha256=sha)


_SHA = re.compile(r"^[0-9a-f]{64}$")
#: arrays a picture refers to by hash, found beside it when its graph was read (sha -> .npy file)
_BESIDE: dict[str, Path] = {}


def check_sha(sha: object, who: str = "array") -> str:
    """``sha`` when it is a sha256 in hex (64 characters 0-9a-f): an array's only possible name."""
    if not isinstance(sha, str) or not _SHA.match(sha):
        shown = ascii(sha)[:80]
        raise GraphError(f"{who}: {shown} is not a sha256 (64 hex digits); an array is named by the "
                         "sha256 of its .npy bytes only")
    return sha


def array_file(sha: str, folder: Path) -> Path:
    """Where the array of ``sha`` is read from when it is not in this process: beside the picture
    whose graph named it, else ``<folder>/<sha>.npy``."""
    check_sha(sha)
    with _LOCK:
        beside = _BESIDE.get(sha)
    return beside if beside is not None else folder / f"{sha}.npy"


def stored_shape(sha: str) -> tuple[int, ...] | None:
    """The shape of an array already in this process (None: not here)."""
    with _LOCK:
        hit = _STORE.get(sha)
    return None if hit is None else tuple(hit.shape)


def lookup(sha: str, folder: Path, path: Path | None = None) -> np.ndarray:
    """The array of ``sha``: from this process, else its .npy file (``path``, or
    :func:`array_file`), checked against its name and read by :func:`artflow.npyfiles.read_npy`."""
    from .npyfiles import read_npy

    check_sha(sha)
    with _LOCK:
        hit = _STORE.get(sha)
    if hit is not None:
        return hit
    path = path or array_file(sha, folder)
    if not path.is_file():
        raise ImageError(f"array {sha[:12]}… is not in this process and '{path.name}' is not beside the "
                         f"graph (looked in {path.parent}); copy the .npy files saved with the graph")
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != sha:
        raise ImageError(f"'{path.name}' does not hold the array its name says (sha256 differs); "
                         "it was changed after the graph was saved")
    batch = read_npy(data, path.name)
    batch.setflags(write=False)
    with _LOCK:
        _STORE[sha] = batch
    return batch


def release_arrays(graphs: Iterable[Graph]) -> int:
    """Forget every array of this process that none of ``graphs`` uses; return how many went.
    `artflow watch` calls it after each run of a sketch that may make new arrays on every save."""
    keep = {str(inst.params.get("sha256")) for graph in graphs for inst in graph if inst.type == CONST_TYPE}
    with _LOCK:
        gone = [sha for sha in _STORE if sha not in keep]
        for sha in gone:
            del _STORE[sha]
    return len(gone)


def save_arrays(graph: Graph, folder: str | Path) -> list[Path]:
    """Write every constant array of ``graph`` beside it as ``<sha256>.npy`` (atomic; kept if there)."""
    from .imaging import atomic_write_bytes

    written = []
    for inst in graph:
        if inst.type != CONST_TYPE:
            continue
        sha = str(inst.params.get("sha256", ""))
        target = Path(folder) / f"{sha}.npy"
        if not target.is_file():
            with _LOCK:
                batch = _STORE.get(sha)
            if batch is None:
                raise ImageError(f"node '{inst.id}': array {sha[:12]}… is not in this process; "
                                 "cannot save it")
            atomic_write_bytes(target, npy_bytes(batch))
        written.append(target)
    return written


# -- provenance of a sketch's pictures ----------------------------------------------------------
#: base64 text of all the arrays one PNG embeds, at most: the whole provenance is one text chunk,
#: and Pillow refuses to open a PNG whose text chunk is over 1 MB (PngImagePlugin.MAX_TEXT_CHUNK)
EMBED_LIMIT = 768 * 1024


def provenance_extras(graph: Graph) -> dict[str, Any]:
    """What a PNG made by a sketch must carry to be rendered again: the script each sketch node
    type came from, and its constant arrays: base64 .npy while all of them together stay under
    :data:`EMBED_LIMIT` characters (smallest first), the rest by hash only (a ``<sha256>.npy``
    beside the picture), so the PNG always opens."""
    import base64

    defined = sketch_nodes()
    out: dict[str, Any] = {}
    used = {inst.type: defined[inst.type] for inst in graph if inst.type in defined}
    if used:
        out["sketch_nodes"] = used
    arrays: dict[str, str | None] = {}
    sizes: dict[str, int] = {}
    for inst in graph:
        if inst.type != CONST_TYPE:
            continue
        sha = str(inst.params.get("sha256", ""))
        with _LOCK:
            batch = _STORE.get(sha)
        arrays[sha] = None
        if batch is not None:
            sizes[sha] = 4 * -(-(batch.nbytes + 128) // 3)  # base64 of the .npy, header included
    room = EMBED_LIMIT
    for sha in sorted(sizes, key=lambda s: (sizes[s], s)):
        if sizes[sha] > room:
            break
        with _LOCK:
            batch = _STORE[sha]
        arrays[sha] = base64.b64encode(npy_bytes(batch)).decode()
        room -= len(arrays[sha] or "")
    if arrays:
        out["arrays"] = arrays
    return out


def restore_from_provenance(record: dict[str, Any], folder: Path) -> None:
    """Before a PNG's graph runs again: load its embedded arrays, note the ones beside the PNG
    (looked for there, not in the folder the picture was made in), and name what is missing (an
    array not embedded and not beside the PNG, a node type whose sketch has not run)."""
    import base64
    import binascii

    from .npyfiles import read_npy

    arrays = record.get("arrays") or {}
    nodes = record.get("sketch_nodes") or {}
    if not isinstance(arrays, dict) or not all(isinstance(t, (str, type(None))) for t in arrays.values()):
        raise GraphError("the picture's artflow metadata is damaged: 'arrays' must map sha256 names to "
                         "base64 .npy text or null")
    if not isinstance(nodes, dict) or not all(isinstance(t, str) and isinstance(s, str)
                                              for t, s in nodes.items()):
        raise GraphError("the picture's artflow metadata is damaged: 'sketch_nodes' must map node types "
                         "to script names")
    for sha, text in arrays.items():
        check_sha(sha, "the picture's array")
        if text:
            try:
                data = base64.b64decode(text, validate=True)
            except (binascii.Error, ValueError):
                raise GraphError(f"the picture's embedded array {sha[:12]}… is not base64 text") from None
            if hashlib.sha256(data).hexdigest() != sha:
                raise ImageError(f"the picture's embedded array {sha[:12]}… does not match its hash")
            batch = read_npy(data, f"the picture's array {sha[:12]}…")
            batch.setflags(write=False)
            with _LOCK:
                _STORE[sha] = batch
        elif (folder / f"{sha}.npy").is_file():
            with _LOCK:
                _BESIDE[sha] = folder / f"{sha}.npy"
        else:
            raise ImageError(f"the picture needs the array '{sha}.npy' (too big to embed); put it in "
                             f"{folder}, beside the picture (it was saved beside the sketch's graph)")
    check_sketch_nodes(nodes, "the picture")


def recorded_sketch_nodes(graph: Graph) -> dict[str, str]:
    """The graph's node types that sketches registered in this process, with each one's script
    (what a saved graph records, so a run elsewhere can name the sketch it needs)."""
    from .plugins import get_plugins

    registry, found = get_plugins().nodes, {}
    for n in graph:
        try:
            owner = registry.get(n.type).plugin  # registers a type the running script declares
        except GraphError:
            continue
        if owner.startswith(SKETCH_PREFIX):
            found[n.type] = owner[len(SKETCH_PREFIX):]
    return found


def check_sketch_nodes(nodes: dict[str, str], what: str) -> None:
    """Name the sketch to run when a node type a saved graph or picture recorded is not registered."""
    from .plugins import get_plugins

    registry = get_plugins().nodes
    missing = {t: s for t, s in nodes.items() if t not in registry}
    if missing:
        scripts = ", ".join(sorted(set(missing.values())))
        raise GraphError(f"{what} was made with node type(s) {', '.join(sorted(missing))} defined "
                         f"in the sketch {scripts}; run that sketch in this process (or import it) "
                         "to register them, then render again")
