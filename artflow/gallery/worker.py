"""What runs in a worker (a pool process or a Ray actor): one Engine, jobs rendered to files.

A worker keeps its Engine (and through it the ONNX Runtime sessions, cached per model) for its
whole life, so models load once per worker. Files are written atomically (temp file, then
rename) by the worker itself, so a killed worker never leaves a partial file under a final name.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from ..graph import OutputRef

#: environment variables that bound the threads a worker's libraries start
THREAD_ENV = ("ARTFLOW_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
GALLERY_KEY = "artflow-gallery"
DEFAULT_CACHE_MB = 64

_engine: Any = None


def thread_env(threads: int) -> dict[str, str]:
    """Environment for a worker that may use ``threads`` threads for inference and numpy."""
    return {name: str(threads) for name in THREAD_ENV}


def cache_mb() -> int:
    """Per-worker memory cache (shared upstream nodes between items); ARTFLOW_GALLERY_CACHE_MB."""
    try:
        return max(0, int(os.environ.get("ARTFLOW_GALLERY_CACHE_MB", DEFAULT_CACHE_MB)))
    except ValueError:
        return DEFAULT_CACHE_MB


def init_worker(threads: int, die_with_parent: bool = True, render_pid: int | None = None) -> None:
    """Pool initializer: bound threads, die with the render (``render_pid``, else the parent
    process), build the engine."""
    for name, value in thread_env(threads).items():
        os.environ[name] = value
    if die_with_parent:  # a pool process: Ctrl-C is the render's to handle, not each worker's
        import signal

        signal.signal(signal.SIGINT, signal.SIG_IGN)
        _die_with_parent()
        if render_pid is not None and render_pid != os.getppid():
            _die_with(render_pid)
    from ..models import set_threads

    set_threads(threads)
    get_engine(threads)


def _die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when the render that started it dies."""
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _die_with(pid: int) -> None:
    """Exit when process ``pid`` (the render) exits, whoever this process's parent is.

    A worker forked by a fork server is the server's child, and holds the server's liveness
    pipe open (so the server outlives the render); if the render is killed, nothing else would
    stop the worker. A daemon thread waits on a pidfd of the render (Linux ≥ 5.3), else polls.
    """
    import threading

    def watch() -> None:
        import select
        import time

        try:
            fd = os.pidfd_open(pid)
        except (AttributeError, OSError):
            fd = None
        if fd is not None:
            select.select([fd], [], [])
        else:
            while True:
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                except PermissionError:
                    pass
                time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="artflow-die-with-render", daemon=True).start()


def get_engine(threads: int | None = None) -> Any:
    """This process's gallery engine: a bounded in-memory cache, no disk cache."""
    global _engine
    if _engine is None:
        from ..cache import Cache
        from ..engine import Engine

        _engine = Engine(Cache(disk=False, max_memory_mb=cache_mb()), workers=max(1, threads or 1))
    return _engine


def run_job(job: dict[str, Any], out_root: str) -> dict[str, Any]:
    """Render one job with this process's engine; never raises (a failure is a record)."""
    return render_job(get_engine(), job, Path(out_root))


def image_stems(job: dict[str, Any], node_id: str, socket: str, n_sockets: int, batch: int) -> list[str]:
    """File stems of one saved output: the item name, plus node/output/index where needed."""
    from .jobs import safe_name

    base = job["name"]
    if len(job["save"]) > 1:
        base += f"_{node_id}"
    if n_sockets > 1:
        base += f"_{socket}"
    if batch == 1:
        return [safe_name(base)]
    return [safe_name(f"{base}_{i:02d}") for i in range(batch)]


def confined(root: Path, relative: str) -> Path:
    """``root / relative``, refusing anything that resolves outside ``root``."""
    from .spec import GalleryError

    if not relative or "\x00" in relative or Path(relative).is_absolute():
        raise GalleryError(f"refusing output path {relative!r}")
    base = root.resolve()
    target = (base / relative).resolve()
    if base not in target.parents:
        raise GalleryError(f"refusing output path {relative!r}: it leaves the output folder {base}")
    return target


def render_job(engine: Any, job: dict[str, Any], out_root: Path) -> dict[str, Any]:
    """Run the item graph, write its images (PNG with provenance) and thumbnails; return a record."""
    from ..errors import describe

    start = time.perf_counter()
    record: dict[str, Any] = {"key": job["key"], "status": "ok", "error": None, "images": [],
                              "files": [], "models": {}, "provider": None}
    try:
        _render(engine, job, out_root, record)
    except Exception as exc:  # noqa: BLE001 - a failed item is recorded, the others go on
        record["status"] = "failed"
        record["error"] = describe(exc)
    record["seconds"] = round(time.perf_counter() - start, 4)
    return record


def _render(engine: Any, job: dict[str, Any], out_root: Path, record: dict[str, Any]) -> None:
    from ..graph import Graph
    from ..imaging import encode_image
    from ..provenance import provenance_text
    from .fileio import atomic_write
    from .spec import THUMB_FORMATS

    if job.get("key_note"):
        from .spec import GalleryError

        raise GalleryError(job["key_note"])
    graph = Graph.from_dict(job["graph"])
    input_dir = Path(job["input_dir"])
    graph.input_dir = input_dir
    wanted = list(dict.fromkeys(job["save"] + job["caption_nodes"]))
    options = {"outputs": wanted, "output_dir": out_root, "input_dir": input_dir,
               "provider": job.get("provider", "auto"), "progress": False}
    result = engine.run(graph, **options)
    infos = _upstream_info(engine, result, wanted)
    if infos is None:  # an upstream node's info left the cache: run the item whole
        result = engine.run(graph, use_cache=False, **options)
        infos = _upstream_info(engine, result, wanted)
        assert infos is not None
    # by node: two nodes may use models of the same name (the 'digits' generator and classifier)
    record["models"] = {n: dict(sorted(i["models"].items())) for n, i in infos.items() if i.get("models")}
    providers = sorted({i["provider"] for i in infos.values() if i.get("provider")})
    record["provider"] = providers[0] if len(providers) == 1 else (providers or None)
    captions = _caption_values(result, job["caption_nodes"])
    ext = THUMB_FORMATS[job["thumb_format"]]
    pending: list[tuple[Path, bytes]] = []
    for node_id in job["save"]:
        spec = result.validated.specs[node_id]
        sockets = [s.name for s in spec.outputs if s.type.name == "IMAGE"]
        outputs = result.outputs(node_id)
        for socket in sockets:
            batch = outputs[socket]
            stems = image_stems(job, node_id, socket, len(sockets), batch.shape[0])
            text = provenance_text(_with_save(graph, node_id, socket, len(sockets), stems), input_dir,
                                   infos, engine.plugins)
            for i, stem in enumerate(stems):
                image = batch[i]
                meta = dict(text)
                meta[GALLERY_KEY] = json.dumps({"key": job["key"], "name": job["name"], "node": node_id,
                                                "output": socket, "index": i,
                                                "params": job["params"]}, sort_keys=True)
                png_rel = f"images/{stem}.png"
                thumb_rel = f"thumbs/{stem}{ext}"
                pending.append((confined(out_root, png_rel), encode_image(image, "PNG", text=meta)))
                pending.append((confined(out_root, thumb_rel), _thumbnail(image, job)))
                entry: dict[str, Any] = {"file": png_rel, "thumb": thumb_rel, "node": node_id,
                                         "output": socket, "width": int(image.shape[1]),
                                         "height": int(image.shape[0])}
                labels, boxes = _for_item(captions, i, batch.shape[0])
                if labels:
                    entry["labels"] = labels
                if boxes:
                    entry["boxes"] = boxes
                record["images"].append(entry)
                record["files"] += [png_rel, thumb_rel]
    for path, data in pending:  # everything encoded first: a failure writes nothing
        atomic_write(path, data)


def _upstream_info(engine: Any, result: Any, wanted: list[str]) -> dict[str, dict[str, Any]] | None:
    """Info (models, provider) of every node the wanted outputs depend on, in node-id order.

    The engine reports info only for the nodes a run visited; a node whose consumers were all
    cache hits is not visited. Its info is taken from the cache, so an item's record and
    provenance never depend on what a worker rendered before (None: no longer cached).
    """
    from ..cache import sockets_of

    vg = result.validated
    needed: set[str] = set()
    stack = list(wanted)
    while stack:
        node_id = stack.pop()
        if node_id not in needed:
            needed.add(node_id)
            stack.extend(src for src, _ in vg.inputs[node_id].values())
    infos: dict[str, dict[str, Any]] = {}
    for node_id in sorted(needed):
        if node_id in result.info:
            infos[node_id] = result.info[node_id]
            continue
        hit = engine.cache.get(result.keys[node_id], sockets_of(vg.specs[node_id])) if engine.cache else None
        if hit is None:
            return None
        infos[node_id] = hit[1]
    return infos


def _with_save(graph: Any, node_id: str, socket: str, n_sockets: int, stems: list[str]) -> Any:
    """The item graph plus an image.save of this output, so `artflow run picture.png -o DIR`
    writes the same picture again (under DIR/images/)."""
    twin = graph.copy()
    save_id = "gallery_save"
    while save_id in twin.nodes:
        save_id += "_"
    source = f"{node_id}.{socket}" if n_sockets > 1 else node_id
    path = f"images/{stems[0]}.png" if len(stems) == 1 else f"images/{stems[0][:-3]}_{{index}}.png"
    twin.add("image.save", save_id, image=OutputRef.parse(source, "gallery"), path=path)
    return twin


def _thumbnail(image: Any, job: dict[str, Any]) -> bytes:
    import io

    from PIL import Image

    from ..imaging import to_pil

    img = to_pil(image)
    size = int(job["thumb_size"])
    img.thumbnail((size, size), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    fmt = job["thumb_format"]
    if fmt == "jpeg":
        if img.mode != "RGB":
            img = img.convert("RGB")
        img.save(buf, "JPEG", quality=85, optimize=False)
    elif fmt == "webp":
        img.save(buf, "WEBP", quality=85, method=4)
    else:
        img.save(buf, "PNG", compress_level=6)
    return buf.getvalue()


def _caption_values(result: Any, nodes: list[str]) -> list[tuple[str, str, list[Any]]]:
    """(node, kind, per-item values) of every LABELS / BOXES output of the caption nodes."""
    out = []
    for node_id in nodes:
        spec = result.validated.specs[node_id]
        values = result.outputs(node_id)
        for socket in spec.outputs:
            if socket.type.name in ("LABELS", "BOXES"):
                kind = "labels" if socket.type.name == "LABELS" else "boxes"
                out.append((node_id, kind, values[socket.name]))
    return out


def _for_item(captions: list[tuple[str, str, list[Any]]], i: int, batch: int) -> tuple[list[Any], list[Any]]:
    labels: list[Any] = []
    boxes: list[Any] = []
    for node_id, kind, per_item in captions:
        if len(per_item) == batch:
            found = per_item[i]
        elif len(per_item) == 1:
            found = per_item[0]
        else:
            continue
        for value in found:
            data = value.to_json()
            data["score"] = round(float(data["score"]), 4)
            if kind == "boxes":
                data["box"] = [round(float(v), 1) for v in data["box"]]
            data["node"] = node_id
            (labels if kind == "labels" else boxes).append(data)
    return labels, boxes
