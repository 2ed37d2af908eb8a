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
    from .. import settings

    return int(settings.get("ARTFLOW_GALLERY_CACHE_MB"))


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


def run_jobs(jobs: list[dict[str, Any]], out_root: str) -> list[dict[str, Any]]:
    """Render a few jobs in one call (fewer round trips for quick items)."""
    engine = get_engine()
    return [render_job(engine, job, Path(out_root)) for job in jobs]


def image_stems(job: dict[str, Any], node_id: str, socket: str, n_sockets: int, batch: int) -> list[str]:
    """File stems of one saved output: the item name, plus node/output/index where needed."""
    from ..paths import safe_name

    base = job["name"]
    if len(job["save"]) > 1:
        base += f"_{node_id}"
    if n_sockets > 1:
        base += f"_{socket}"
    if batch == 1:
        return [safe_name(base)]
    return [safe_name(f"{base}_{i:02d}") for i in range(batch)]


def render_job(engine: Any, job: dict[str, Any], out_root: Path | None) -> dict[str, Any]:
    """Run the item graph, write its images (PNG with provenance) and thumbnails; return a record.

    ``out_root=None`` (a cluster node that does not share the output folder): nothing is
    written here; the files travel back in ``record["payload"]`` as (relative path, bytes)
    pairs, and the driver writes them."""
    from ..errors import describe, is_bug

    start = time.perf_counter()
    record: dict[str, Any] = {"key": job["key"], "status": "ok", "error": None, "images": [],
                              "files": [], "models": {}, "provider": None}
    try:
        _render(engine, job, out_root, record)
    except Exception as exc:  # noqa: BLE001 - a failed item is recorded, the others go on
        record["status"] = "failed"
        record["error"] = describe(exc)
        if is_bug(exc):  # an exception nobody meant to raise: the render exits 1, not 2
            record["bug"] = True
        full = disk_full_cause(exc)
        if full is not None:  # the render stops: every other item would fail the same way
            record["disk_full"] = {"folder": full.folder, "needed": full.needed}
    record["seconds"] = round(time.perf_counter() - start, 4)
    return record


def disk_full_cause(exc: BaseException) -> Any:
    """The DiskFullError behind ``exc`` (a node's failure wraps it), or None."""
    from ..errors import DiskFullError, is_disk_full

    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, DiskFullError):
            return cur
        if is_disk_full(cur):
            return DiskFullError(getattr(cur, "filename", None) or "the output folder")
        cause = getattr(cur, "cause", None)
        cur = cause if isinstance(cause, BaseException) else (cur.__cause__ or cur.__context__)
    return None


def _render(engine: Any, job: dict[str, Any], out_root: Path | None, record: dict[str, Any]) -> None:
    from ..graph import Graph
    from ..imaging import encode_image
    from ..paths import confined
    from ..provenance import picture_provenance
    from .files import write_file
    from .frames import ANIM_SUFFIX, is_animated, render_frames
    from .spec import THUMB_FORMATS

    if job.get("key_note"):
        from .spec import GalleryError

        raise GalleryError(job["key_note"])
    graph = Graph.from_dict(job["graph"])
    input_dir = Path(job["input_dir"])
    graph.input_dir = input_dir
    wanted = list(dict.fromkeys(job["save"] + job["caption_nodes"]))
    options = {"outputs": wanted, "output_dir": out_root or Path.cwd(), "input_dir": input_dir,
               "provider": job.get("provider", "auto"), "progress": False}
    # an item with frames: frame 0 is the poster, an animated WebP the thumbnail (gallery/frames.py)
    motion = render_frames(engine, graph, options, job["save"], int(job["thumb_size"])) \
        if is_animated(graph) else None
    result = motion.result if motion is not None else engine.run(graph, **options)
    # the nodes' own time (the rest of the item's time is the engine's and the gallery's)
    record["node_seconds"] = round(sum(r.seconds for r in result.lineage.values()), 4)
    lineage = result.lineage_of(*wanted)
    # by node: two nodes may use models of the same name (the 'digits' generator and classifier)
    record["models"] = {n: dict(sorted(r.model_shas().items())) for n, r in lineage.items() if r.models}
    providers = sorted(set(result.providers()))
    record["provider"] = providers[0] if len(providers) == 1 else (providers or None)
    captions = _caption_values(result, job["caption_nodes"])
    ext = THUMB_FORMATS[job["thumb_format"]]
    pending: list[tuple[str, bytes]] = []
    for node_id in job["save"]:
        spec = result.validated.specs[node_id]
        sockets = [s.name for s in spec.outputs if s.type.name == "IMAGE"]
        outputs = result.outputs(node_id)
        for socket in sockets:
            batch = outputs[socket] if motion is None else motion.posters[(node_id, socket)]
            stems = image_stems(job, node_id, socket, len(sockets), batch.shape[0])
            twin = _with_save(graph, node_id, socket, len(sockets), stems)
            if motion is not None:  # the poster re-renders as frame 0
                twin.frame = 0
            text = picture_provenance(twin, result.lineage_of(node_id), input_dir=input_dir,
                                      plugins=engine.plugins)
            for i, stem in enumerate(stems):
                image = batch[i]
                meta = dict(text)
                meta[GALLERY_KEY] = json.dumps({"key": job["key"], "name": job["name"], "node": node_id,
                                                "output": socket, "index": i,
                                                "params": job["params"]}, sort_keys=True)
                png_rel = f"images/{stem}.png"
                thumb_rel = f"thumbs/{stem}{ext}"
                pending.append((png_rel, encode_image(image, "PNG", text=meta)))
                pending.append((thumb_rel, _thumbnail(image, job)))
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
                if motion is not None:
                    entry["anim"] = f"thumbs/{stem}{ANIM_SUFFIX}"
                    pending.append((entry["anim"], motion.animation(node_id, socket, i)))
                    record["files"].append(entry["anim"])
    if out_root is None:  # the driver writes them (no shared filesystem)
        record["payload"] = pending
        return
    targets = [(confined(out_root, rel), data) for rel, data in pending]
    for path, data in targets:  # everything encoded first: a failure writes nothing
        write_file(path, data)  # whole (temp + rename); the render syncs the folder in batches


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
