"""A graph with frames in `artflow watch`: a looping preview at reduced size with a frame scrubber.

The graph runs over its frames (:mod:`artflow.timeline`) with every frame's outputs kept in the
engine's memory cache, so editing one keyframe re-runs only the nodes whose params change and
only on the frames where their value changes; the other frames come back from the cache. Each
frame of the shown node (the animation's input, else the last picture node) is written at
most ``SIDE`` pixels wide as a JPEG under ``.preview/`` in the output folder, which the page
plays in a loop and scrubs through.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

if TYPE_CHECKING:
    from ..engine import Engine, RunResult
    from ..graph import Graph
    from ..validation import ValidatedGraph

SIDE = 256
FOLDER = ".preview"


def has_frames(graph: Graph, vg: ValidatedGraph) -> bool:
    from ..timeline import has_schedules

    return graph.frames is not None or has_schedules(vg)


def shown_node(vg: ValidatedGraph) -> str | None:
    """The node the player shows: what an image.save_animation writes, else the last node with
    a picture output that is not a writer."""
    for node_id in vg.order:
        if vg.specs[node_id].name == "image.save_animation":
            return next(iter(vg.inputs[node_id].values()))[0]
    pictures = [n for n in vg.order if not vg.specs[n].writes_files
                and any(getattr(s.type, "name", "") == "IMAGE" for s in vg.specs[n].outputs)]
    return pictures[-1] if pictures else None


class FramePreview:
    """``on_frame`` for the timeline: each frame of the shown node, small, as a JPEG file."""

    def __init__(self, output_dir: Path, node: str):
        self.node = node
        self.folder = output_dir / FOLDER / node
        self.files: dict[int, Path] = {}

    def __call__(self, frame: int, values: dict[str, Any]) -> None:
        from PIL import Image

        from ..imaging import atomic_write_bytes, to_pil

        outs = values.get(self.node)
        if not outs:
            return
        image = next(v for v in outs.values() if hasattr(v, "shape") and v.ndim == 4)
        picture = to_pil(image[0]).convert("RGB")
        picture.thumbnail((SIDE, SIDE), Image.Resampling.LANCZOS)
        import io

        buf = io.BytesIO()
        picture.save(buf, "JPEG", quality=88)
        path = self.folder / f"{frame:04d}.jpg"
        atomic_write_bytes(path, buf.getvalue())
        self.files[frame] = path


def run_with_preview(engine: Engine, graph: Graph, vg: ValidatedGraph, output_dir: Path) -> RunResult:
    """Run ``graph`` over its frames for the watch page (per-frame outputs kept in the cache)."""
    from ..timeline import run_frames

    node = shown_node(vg)
    preview = FramePreview(output_dir, node) if node else None
    result = run_frames(engine, graph, vg, output_dir=output_dir, raise_errors=False, progress=False,
                        keep_frames=True, on_frame=preview)
    result.preview = preview  # type: ignore[attr-defined]
    return result


def player_entry(result: RunResult, output_dir: Path) -> dict[str, Any] | None:
    """The page's player for a run over frames: frame urls (cache-busted by their mtimes), fps."""
    preview = getattr(result, "preview", None)
    timeline = getattr(result, "timeline", None)
    if preview is None or timeline is None or not preview.files:
        return None
    urls = []
    for frame in sorted(preview.files):
        path = preview.files[frame]
        rel = path.resolve().relative_to(output_dir.resolve()).as_posix()
        urls.append(f"/files/{quote(rel)}?v={path.stat().st_mtime_ns}")
    changed = {n: k for n, k in timeline.runs.items() if k}
    return {"node": preview.node, "kind": "frames", "name": f"{len(urls)} frames at {timeline.fps:g} fps",
            "urls": urls, "fps": timeline.fps, "runs": changed}
