"""Video in: `video.load` reads a video file (through imageio-ffmpeg's bundled ffmpeg) or a folder
of frame images, picks frames by start/stop/stride, and gives them as one batch.

A long clip is not one batch: :func:`artflow.video.run_clip` runs the graph over it in chunks
(each chunk a window of this node's start/stop) and joins the MP4 parts, so memory stays flat
with clip length. Decoding seeks to the chunk's first frame instead of reading from the start.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from artflow.budget import Estimate, nbytes
from artflow.errors import ImageError
from artflow.imaging import load_image
from artflow.nodes import NodeContext, Out, node
from artflow.params import File, Int
from artflow.types import IMAGE, NUMBER, TEXT
from artflow.video import VIDEO_SUFFIXES, frame_files, probe, read_video_frames, select


def _source(ctx: NodeContext, path: str) -> Path:
    full = ctx.input_path(path)
    if full.is_dir():
        for frame in frame_files(full):
            ctx.readable(frame, path)
        return full
    if not full.is_file():
        raise ImageError(f"video.load: '{path}' not found (looked for {full}); give a video file or "
                         "a folder of frame images")
    if full.suffix.lower() not in VIDEO_SUFFIXES:
        raise ImageError(f"video.load: cannot read '{full.name}' as a video; use .mp4, .mov, .mkv, "
                         ".webm, .avi or a folder of frames")
    return ctx.readable(full, path)


def _key(params: dict[str, Any], ctx: NodeContext) -> str:
    """Path, size and mtime of the video (or of every frame it picks, and the folder's frame
    count): edits change the cache key; a chunk of a long frame folder stats only its frames."""
    src = _source(ctx, params["path"])
    files = [src]
    if src.is_dir():
        listed = frame_files(src)
        files = [listed[i] for i in select(len(listed), params["start"], params["stop"], params["stride"])]
        files.append(src)
    return json.dumps([[str(p.resolve()), p.stat().st_size, p.stat().st_mtime_ns] for p in files])


def _estimate(params: dict[str, Any], inputs: dict[str, Any], input_dir: Path) -> Estimate:
    """Frames picked × the clip's size, from its probe (no frame decoded): the budget check runs
    first, so a long clip asked for as one batch is refused instead of failing while decoding."""
    path = Path(params["path"]).expanduser()
    info = probe(path if path.is_absolute() else input_dir / path)
    n = len(select(info["frames"], params["start"], params["stop"], params["stride"]))
    shape = (max(1, n), info["height"], info["width"], 3)
    return Estimate({"image": shape, "time": (shape[0],), "names": (shape[0],)},
                    working_bytes=nbytes((1,) + shape[1:]) * 2)


@node(
    "video.load",
    category="io",
    outputs={
        "image": Out(IMAGE, "the picked frames as one batch, in order"),
        "time": Out(NUMBER, "each frame's time in the clip, in seconds (a frame folder counts 24 fps)"),
        "names": Out(TEXT, "frame names (frame_000123, or the frame files' stems)"),
    },
    params={
        "path": File(doc="a video file (.mp4, .mov, .mkv, .webm, …) or a folder of frame images; "
                          "relative to the graph file"),
        "start": Int(0, min=0, doc="first frame index"),
        "stop": Int(0, min=0, doc="frame index to stop before (0: the end)"),
        "stride": Int(1, min=1, max=1000, doc="take every Nth frame"),
    },
    key_extra=_key,
    estimate=_estimate,
)
def video_load(ctx: NodeContext, path: str, start: int, stop: int, stride: int) -> dict[str, Any]:
    """Load frames of a video file or a frame folder as a batch (start/stop/stride)."""
    src = _source(ctx, path)
    if src.is_dir():
        files = frame_files(src)
        if not files:
            raise ImageError(f"video.load: no frame images (.png, .jpg, …) in folder '{src}'")
        picked = select(len(files), start, stop, stride)
        if len(picked) == 0:
            raise ImageError(f"video.load: start {start} is past the last of {len(files)} frames in '{src}'")
        frames = [load_image(files[i], keep_alpha=False) for i in picked]
        shapes = {f.shape for f in frames}
        if len(shapes) > 1:
            raise ImageError(f"video.load: the frames in '{src}' have different sizes {sorted(shapes)}")
        return {"image": np.stack(frames).astype(np.float32), "time": np.array([i / 24.0 for i in picked]),
                "names": [files[i].stem for i in picked]}
    info = probe(src)
    picked = select(info["frames"], start, stop, stride)
    if len(picked) == 0:
        raise ImageError(f"video.load: start {start} is past the last of {info['frames']} frames in "
                         f"'{src.name}'")
    _check_budget(len(picked), info["width"], info["height"], src.name)
    frames = read_video_frames(src, picked, info["fps"])
    times = np.array([i / info["fps"] for i in picked[: len(frames)]], dtype=np.float64)
    return {"image": frames, "time": times, "names": [f"frame_{i:06d}" for i in picked[: len(frames)]]}


def _check_budget(n: int, width: int, height: int, name: str) -> None:
    """Refuse a selection whose frames alone exceed the run's memory budget, and say what to do."""
    try:
        from artflow import settings

        budget_mb = int(settings.get("ARTFLOW_MAX_MEMORY_MB"))
    except Exception:  # noqa: BLE001 - no budget known: nothing to refuse
        return
    need_mb = n * width * height * 3 * 4 / 2**20
    if need_mb > budget_mb:
        raise ImageError(f"video.load: {n} frames of {width}x{height} from '{name}' need {need_mb:.0f} MB, "
                         f"over the {budget_mb} MB budget (ARTFLOW_MAX_MEMORY_MB); run the clip in chunks "
                         "with artflow.video.run_clip, or pick fewer frames (stop, stride)")


NODES = [video_load]
