"""Clips through a graph in chunks: memory stays flat with clip length.

A graph that reads a clip with ``video.load`` and writes it with ``image.save_animation`` (.mp4)
runs once per chunk of frames: each chunk sets the loader's start/stop to its window, and the
frames that reach each writer go into one H.264 encoder kept open across the chunks (one
continuous stream, no joins), renamed over the target at the end. Nodes downstream of the
loader see one chunk at a time, so they must work frame by frame (style transfer, detection,
pose, matting, filters do); a node that lays out the whole batch (layout.grid) sees a chunk.

    from artflow.video import run_clip
    run_clip(graph, output_dir="out", chunk_frames=48)
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .animation import Mp4Writer
from .errors import GraphError, ImageError
from .imaging import load_image
from .items import downstream

if TYPE_CHECKING:
    from .engine import Engine
    from .graph import Graph

LOADER = "video.load"
WRITER = "image.save_animation"
__all__ = ["Mp4Writer", "run_clip", "probe", "frame_files"]  # Mp4Writer lives in artflow.animation


FRAME_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff"}
VIDEO_SUFFIXES = {".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v", ".gif"}
_NUM = re.compile(r"(\d+)")


def _natural(p: Path) -> list[Any]:
    """frame2 before frame10."""
    return [int(t) if t.isdigit() else t for t in _NUM.split(p.name)]


#: what a clip's chunks share: a folder's listing and a file's probe, by (path, size, mtime), so a
#: clip run in chunks lists its folder and counts its frames once, not once per chunk
_MEMO: dict[tuple[str, str, int, int], Any] = {}
_MEMO_MAX = 64


def _memo(kind: str, path: Path, compute: Any) -> Any:
    st = path.stat()
    key = (kind, str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _MEMO:
        value = compute()
        if len(_MEMO) >= _MEMO_MAX:
            _MEMO.pop(next(iter(_MEMO)))
        _MEMO[key] = value
    return _MEMO[key]


def frame_files(folder: Path) -> list[Path]:
    """The frame images of a folder, in natural order (listed once while the folder is unchanged)."""
    return list(_memo("frames", folder, lambda: sorted(
        (p for p in folder.iterdir() if p.suffix.lower() in FRAME_SUFFIXES and p.is_file()), key=_natural)))


def probe(path: Path) -> dict[str, Any]:
    """Frame count, fps and size of a video file or frame folder (computed once while the file is
    unchanged); a file ffmpeg cannot read as a video is one ImageError naming it."""
    return dict(_memo("probe", path, lambda: _probe(path)))


def _probe(path: Path) -> dict[str, Any]:
    if path.is_dir():
        files = frame_files(path)
        if not files:
            raise ImageError(f"no frame images (.png, .jpg, …) in folder '{path}'")
        first = load_image(files[0])
        return {"frames": len(files), "fps": 24.0, "width": first.shape[1], "height": first.shape[0]}
    import imageio_ffmpeg

    try:
        reader = imageio_ffmpeg.read_frames(str(path))
        try:
            meta = next(reader)
        finally:
            reader.close()
        width, height = (int(v) for v in meta["size"])
        fps = float(meta.get("fps") or 24.0)
        n_frames, _ = imageio_ffmpeg.count_frames_and_secs(str(path))
    except (OSError, RuntimeError, StopIteration, KeyError, TypeError, ValueError) as exc:
        raise _unreadable(path, exc) from None
    if n_frames <= 0 or width <= 0 or height <= 0 or not 0 < fps < 1e4:
        raise ImageError(f"video.load: '{path.name}' has no video frames ffmpeg can decode "
                         f"({n_frames} frames of {width}x{height} at {fps:g} fps)")
    _check_pixels(width, height, path.name)
    return {"frames": int(n_frames), "fps": fps, "width": width, "height": height}


def _unreadable(path: Path, exc: BaseException) -> ImageError:
    why = " ".join(str(exc).split())[:120] or type(exc).__name__
    return ImageError(f"video.load: cannot read '{path.name}' as a video (empty, damaged, audio only or "
                      f"not a video: {why}); give an .mp4/.mov/.mkv/.webm file or a folder of frames")


def _check_pixels(width: int, height: int, name: str) -> None:
    """Video frames obey ARTFLOW_MAX_PIXELS like any decoded image."""
    from . import settings

    limit = int(settings.get("ARTFLOW_MAX_PIXELS"))
    if width * height > limit:
        raise ImageError(f"video.load: '{name}' has frames of {width}x{height}, over ARTFLOW_MAX_PIXELS="
                         f"{limit}; scale the video down first, or raise the limit")


def select(n_frames: int, start: int, stop: int, stride: int) -> range:
    """The frame indices picked by start/stop/stride (stop 0: to the end)."""
    end = n_frames if stop <= 0 else min(stop, n_frames)
    return range(min(start, end), end, stride)


def read_video_frames(path: Path, indices: range, fps: float) -> np.ndarray:
    """Decode the frames at ``indices`` (a range) as a float32 NHWC batch, seeking to the first."""
    import imageio_ffmpeg

    if len(indices) == 0:
        raise ImageError(f"video.load: no frames selected from '{path.name}'")
    first, last = indices[0], indices[-1]
    seek = ["-ss", f"{first / fps:.6f}"] if first else []
    try:
        reader = imageio_ffmpeg.read_frames(str(path), input_params=seek,
                                            output_params=["-frames:v", str(last - first + 1)])
        meta = next(reader)
        width, height = (int(v) for v in meta["size"])
    except (OSError, RuntimeError, StopIteration, KeyError, TypeError, ValueError) as exc:
        raise _unreadable(path, exc) from None
    _check_pixels(width, height, path.name)
    out = np.empty((len(indices), height, width, 3), np.float32)
    wanted = set(indices)
    filled = 0
    try:
        for offset, raw in enumerate(reader):
            if first + offset in wanted:
                if len(raw) != width * height * 3:
                    break  # a damaged tail: keep the frames decoded so far
                frame = np.frombuffer(raw, np.uint8).reshape(height, width, 3)
                np.multiply(frame, np.float32(1 / 255), out=out[filled])
                filled += 1
                if filled == len(indices):
                    break
    except (OSError, RuntimeError) as exc:
        if not filled:
            raise _unreadable(path, exc) from None
    finally:
        reader.close()
    if not filled:
        raise ImageError(f"video.load: no frame of '{path.name}' could be decoded from frame {first} on "
                         "(the file is damaged or shorter than its header says)")
    return out[:filled]


@dataclass
class ClipRun:
    """What :func:`run_clip` did: frames, chunks, the files written, and seconds."""

    frames: int
    chunks: int
    files: list[Path] = field(default_factory=list)
    seconds: float = 0.0
    node_seconds: dict[str, float] = field(default_factory=dict)

    def __repr__(self) -> str:
        names = ", ".join(p.name for p in self.files)
        return f"<ClipRun {self.frames} frames in {self.chunks} chunks -> {names}; {self.seconds:.2f} s>"


def run_clip(graph: Graph, *, output_dir: str | Path | None = None, chunk_frames: int = 48,
             engine: Engine | None = None, use_cache: bool = False) -> ClipRun:
    """Run ``graph`` over its ``video.load`` clip chunk by chunk into the MP4s it writes.

    The cache is off by default: a clip's frames are big and rarely re-used; pass
    ``use_cache=True`` to keep chunks (re-running a changed style then reuses decoded frames)."""
    from .nodes import NodeContext

    if chunk_frames < 1:
        raise GraphError(f"run_clip: chunk_frames must be at least 1, got {chunk_frames}")
    if engine is None:
        from .engine import default_engine

        engine = default_engine()
    start_time = time.perf_counter()
    vg = graph.validate()
    loaders = [n for n in vg.order if vg.specs[n].name == LOADER]
    if len(loaders) != 1:
        raise GraphError(f"run_clip streams one {LOADER} node; this graph has {len(loaders)}")
    loader = loaders[0]
    down = downstream(vg, loader)
    writers = [n for n in vg.order if n in down and vg.specs[n].name == WRITER]
    for n in vg.order:
        spec = vg.specs[n]
        if n not in down or not spec.writes_files or n in writers:
            continue
        if spec.name == "image.save" and "{name" in str(vg.params[n].get("path", "")) \
                and "names" in vg.inputs[n]:
            continue  # one file per frame, named after the frame: chunks never collide
        raise GraphError(f"node '{n}' ({spec.name}) writes files per chunk of the clip; use "
                         f"{WRITER} with an .mp4 path, or image.save with a path using {{name}} and "
                         f"names from '{loader}'")
    out_dir = Path(output_dir) if output_dir is not None else Path.cwd()
    in_dir = graph.input_dir or Path.cwd()
    targets: dict[str, Path] = {}
    for n in writers:
        params = vg.params[n]
        if params.get("bounce"):
            raise GraphError(f"node '{n}' ({WRITER}): bounce needs the whole clip at once; turn it off "
                             "for a streamed clip")
        rel = str(params["path"]).replace("{seed}", str(graph.seed))
        if Path(rel).suffix.lower() != ".mp4":
            raise GraphError(f"node '{n}' ({WRITER}): a streamed clip is written as .mp4, not "
                             f"'{Path(rel).suffix}'")
        ctx = NodeContext(node_id=n, node_type=WRITER, seed=graph.seed, output_dir=out_dir)
        targets[n] = ctx.output_path(rel)

    lp = vg.params[loader]
    ctx = NodeContext(node_id=loader, node_type=LOADER, seed=graph.seed, output_dir=out_dir, input_dir=in_dir,
                      read_policy=graph.read_policy)
    src = ctx.input_path(lp["path"])
    if not src.exists():
        raise ImageError(f"{LOADER}: '{lp['path']}' not found (looked for {src})")
    picked = select(probe(src)["frames"], lp["start"], lp["stop"], lp["stride"])
    if len(picked) == 0:
        raise ImageError(f"{LOADER}: no frames selected from '{src.name}' (start {lp['start']})")
    windows = [picked[i:i + chunk_frames] for i in range(0, len(picked), chunk_frames)]
    feeds = {n: next(iter(vg.inputs[n].values())) for n in targets}  # writer -> (node, output)
    encoders = {n: Mp4Writer(t, fps=vg.params[n]["fps"], quality=vg.params[n]["quality"])
                for n, t in targets.items()}
    run = ClipRun(frames=len(picked), chunks=len(windows))
    try:
        for window in windows:
            chunk = graph.copy()
            chunk.set(loader, start=window[0], stop=window[-1] + 1)
            for n in targets:  # the writers stay open across chunks; the chunk feeds them
                chunk.remove(n)
            users = chunk.validate().consumers()
            wanted = sorted({n for n, u in users.items() if not u} | {node for node, _ in feeds.values()})
            result = engine.run(chunk, outputs=wanted, output_dir=out_dir, input_dir=in_dir,
                                use_cache=use_cache, progress=False)
            for n, (node, output) in feeds.items():
                for frame in result.values[node][output]:
                    encoders[n].write(frame)
            for n, s in result.seconds.items():
                run.node_seconds[n] = run.node_seconds.get(n, 0.0) + s
            del result, chunk
            _release_memory()
        for encoder in encoders.values():
            run.files.append(encoder.close())
    finally:
        for encoder in encoders.values():
            encoder.abort()
    run.seconds = time.perf_counter() - start_time
    return run


def _release_memory() -> None:
    """Free a finished chunk now: a run's result holds reference cycles (so its arrays wait for
    the cyclic collector), and glibc keeps freed heap pages unless asked to return them."""
    import ctypes
    import gc

    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to trim
        pass


def iter_frames(path: str | Path) -> Iterator[np.ndarray]:
    """The frames of a video file as HWC uint8 arrays, one at a time."""
    import imageio_ffmpeg

    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    width, height = meta["size"]
    try:
        for raw in reader:
            yield np.frombuffer(raw, np.uint8).reshape(height, width, 3)
    finally:
        reader.close()


def mean_frame_difference(path: str | Path, size: tuple[int, int] | None = None) -> float:
    """Mean absolute difference between consecutive frames (0–1 scale), streamed; frames are
    resized to ``size`` (w, h) first when given, so two clips compare at one size."""
    from PIL import Image

    total, count, prev = 0.0, 0, None
    for frame in iter_frames(path):
        if size is not None and (frame.shape[1], frame.shape[0]) != size:
            frame = np.asarray(Image.fromarray(frame).resize(size, Image.BILINEAR))
        cur = frame.astype(np.int16)
        if prev is not None:
            total += float(np.abs(cur - prev).mean()) / 255.0
            count += 1
        prev = cur
    return total / count if count else 0.0


def flicker_ratio(stylised: str | Path, source: str | Path) -> float:
    """Temporal flicker of a processed clip: its mean frame-to-frame difference over the source's
    (1.0: changes exactly as much as the source; above: the processing adds flicker)."""
    first = next(iter_frames(stylised))
    size = (first.shape[1], first.shape[0])
    base = mean_frame_difference(source, size)
    return mean_frame_difference(stylised, size) / base if base else float("inf")


def describe(path: str | Path) -> dict[str, Any]:
    """Frames, fps, size and codec of a video file (ffprobe-free: from imageio-ffmpeg)."""
    import imageio_ffmpeg

    reader = imageio_ffmpeg.read_frames(str(path))
    try:
        meta = next(reader)
    finally:
        reader.close()
    frames, secs = imageio_ffmpeg.count_frames_and_secs(str(path))
    return {"frames": frames, "seconds": secs, "fps": meta.get("fps"), "size": list(meta["size"]),
            "codec": meta.get("codec")}
