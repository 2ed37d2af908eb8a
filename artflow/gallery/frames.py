"""Animated gallery items: an item whose graph has ``frames`` (or a schedule, a matrix axis may
hold one) runs over its frames (:mod:`artflow.timeline`); each saved picture gets frame 0 as its
poster (the PNG, with provenance that re-renders that frame) and an animated WebP thumbnail that
the page plays on hover. Only thumbnail-size frames are kept while the item runs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from ..engine import Engine, RunResult
    from ..graph import Graph

ANIM_SUFFIX = ".anim.webp"


def is_animated(graph: Graph) -> bool:
    from ..schedule import is_schedule

    return graph.frames is not None or any(is_schedule(v) for n in graph for v in n.params.values())


@dataclass
class ItemFrames:
    """What a run over frames left for the gallery: posters and small frames per saved picture."""

    result: RunResult
    fps: float
    posters: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)
    small: dict[tuple[str, str, int], list[Any]] = field(default_factory=dict)

    def animation(self, node_id: str, socket: str, index: int) -> bytes:
        """The animated WebP thumbnail of picture ``index`` of ``node_id.socket``."""
        from ..animation import encode_frames

        return encode_frames(self.small[(node_id, socket, index)], ".webp", fps=self.fps, quality=80)


def render_frames(engine: Engine, graph: Graph, options: dict[str, Any], save: list[str],
                  thumb_size: int) -> ItemFrames:
    """Run an item over its frames, keeping frame 0 of every saved picture and small frames."""
    from PIL import Image

    from ..imaging import to_pil
    from ..timeline import DEFAULT_FPS, run_frames

    vg = graph.validate(engine.plugins.nodes)
    keep: dict[str, Any] = {"posters": {}, "small": {}}
    sockets = {n: [s.name for s in vg.specs[n].outputs if s.type.name == "IMAGE"] for n in save}

    def on_frame(frame: int, values: dict[str, Any]) -> None:
        for node_id in save:
            for socket in sockets[node_id]:
                batch = values[node_id][socket]
                keep["posters"].setdefault((node_id, socket), np.array(batch))
                for i, image in enumerate(batch):
                    picture = to_pil(image)
                    picture.thumbnail((thumb_size, thumb_size), Image.Resampling.LANCZOS)
                    keep["small"].setdefault((node_id, socket, i), []).append(picture)

    result = run_frames(engine, graph, vg, on_frame=on_frame, **options)
    return ItemFrames(result, graph.fps or DEFAULT_FPS, keep["posters"], keep["small"])
