"""Animation files written frame by frame over a run (:mod:`artflow.timeline`).

MP4 streams: each frame goes straight into the H.264 encoder (:class:`Mp4Writer`),
so memory is flat in the frame count. GIF, WebP and APNG are written in one go by Pillow, so
their frames are kept as 8-bit pictures until the end — :meth:`AnimationSink.check_budget`
refuses a run whose kept frames would not fit the memory budget before anything is written.
Every file is written to a temp name and renamed over the target; provenance (the graph with
its schedules) goes into the APNG's text chunk and the MP4's ``comment`` tag.
"""

from __future__ import annotations

import io
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from .errors import GraphError, ImageError
from .imaging import atomic_write_bytes, to_pil
from .nodes import NodeContext

FORMATS = (".gif", ".png", ".apng", ".webp", ".mp4")


class AnimationSink:
    """One ``image.save_animation`` node kept open over the frames of a run."""

    def __init__(self, ctx: NodeContext, params: dict[str, Any], frames: int, fps: float):
        rel = str(params["path"]).replace("{seed}", str(ctx.seed))
        self.target = ctx.output_path(rel)
        self.ext = self.target.suffix.lower()
        if self.ext not in FORMATS:
            raise GraphError(f"node '{ctx.node_id}' (image.save_animation): cannot write an animation to "
                             f"'{self.target.name}'; use a .gif, .png (APNG), .webp or .mp4 name")
        self.node_id = ctx.node_id
        self.params = params
        self.fps = fps
        self.frames = frames
        self.kept: list[Any] = []
        self.seconds = 0.0
        #: the text the file carries (set by the run before the first frame is appended)
        self.provenance: dict[str, str] = {}
        self._mp4: Any = None
        if self.ext == ".mp4" and params.get("bounce"):
            raise GraphError(f"node '{ctx.node_id}' (image.save_animation): bounce needs every frame at "
                             "once; a run over frames streams MP4 (use loop='pingpong' keyframes, or .webp)")

    def check_budget(self, first: np.ndarray) -> None:
        """Refuse (before anything is written) frames that a GIF/WebP/APNG would keep over budget."""
        if self.ext == ".mp4":
            return
        from . import settings

        budget_mb = int(settings.get("ARTFLOW_MAX_MEMORY_MB"))
        per_frame = first.shape[0] * int(np.prod(first.shape[1:3])) * 4
        need_mb = self.frames * per_frame * (2 if self.params.get("bounce") else 1) / 2**20
        if need_mb > budget_mb:
            raise GraphError(f"node '{self.node_id}' (image.save_animation): {self.frames} frames of "
                             f"{first.shape[2]}x{first.shape[1]} kept for a {self.ext} file need "
                             f"{need_mb:.0f} MB, over the {budget_mb} MB budget (ARTFLOW_MAX_MEMORY_MB); "
                             "write .mp4 (streamed), or fewer or smaller frames")

    def append(self, batch: np.ndarray) -> None:
        """Add a frame's images (a batch of one per frame, or more) in order."""
        t0 = time.perf_counter()
        for image in batch:
            if self.ext == ".mp4":
                if self._mp4 is None:
                    comment = {"comment": text} if (text := self.provenance.get("artflow")) else {}
                    self._mp4 = Mp4Writer(self.target, fps=self.fps, quality=self.params.get("quality", 90),
                                          metadata=comment)
                self._mp4.write(image)
            else:
                self.kept.append(to_pil(image))
        self.seconds += time.perf_counter() - t0

    def close(self) -> str:
        """Finish the file (atomically) and return its path."""
        if self._mp4 is not None:
            path = self._mp4.close()
            self._mp4 = None
            return str(path)
        if not self.kept:
            raise ImageError(f"node '{self.node_id}': no frames to write to '{self.target.name}'")
        frames = self.kept
        if self.params.get("bounce") and len(frames) > 2:
            frames = frames + frames[-2:0:-1]
        atomic_write_bytes(self.target, encode_frames(frames, self.ext, fps=self.fps,
                                                      loop=self.params.get("loop", 0),
                                                      quality=self.params.get("quality", 90),
                                                      text=self.provenance))
        self.kept = []
        return str(self.target)

    def abort(self) -> None:
        if self._mp4 is not None:
            self._mp4.abort()
            self._mp4 = None
        self.kept = []


def encode_frames(frames: list[Any], ext: str, *, fps: float, loop: int = 0, quality: int = 90,
                  text: dict[str, str] | None = None) -> bytes:
    """Pillow images as one animated GIF (median-cut palette per frame), WebP or APNG file."""
    from PIL import Image, PngImagePlugin

    duration = max(1, int(round(1000.0 / fps)))
    buf = io.BytesIO()
    if ext == ".gif":
        pal = [f.convert("RGB").quantize(256, method=Image.Quantize.MEDIANCUT,
                                         dither=Image.Dither.FLOYDSTEINBERG) for f in frames]
        pal[0].save(buf, "GIF", save_all=True, append_images=pal[1:], duration=duration, loop=loop,
                    disposal=2, optimize=False)
    elif ext == ".webp":
        frames[0].save(buf, "WEBP", save_all=True, append_images=frames[1:], duration=duration, loop=loop,
                       quality=quality)
    else:
        info = PngImagePlugin.PngInfo()
        for key, value in (text or {}).items():
            info.add_itxt(key, value, zip=True)
        frames[0].save(buf, "PNG", save_all=True, append_images=frames[1:], duration=duration, loop=loop,
                       pnginfo=info)
    return buf.getvalue()


def frames_of(path: str | Path) -> list[np.ndarray]:
    """The frames of a GIF/WebP/APNG file as HWC uint8 RGB arrays (tests, thumbnails)."""
    from PIL import Image, ImageSequence

    with Image.open(path) as img:
        return [np.asarray(f.convert("RGB")) for f in ImageSequence.Iterator(img)]


class Mp4Writer:
    """H.264 MP4 written frame by frame with imageio-ffmpeg's bundled ffmpeg (yuv420p; odd sizes
    padded by one edge pixel) into a temp file that :meth:`close` renames over the target."""

    def __init__(self, target: str | Path, *, fps: float, quality: int = 90,
                 metadata: dict[str, str] | None = None):
        self.target = Path(target)
        self.metadata = dict(metadata or {})  # MP4 tags (a run over frames puts its provenance in 'comment')
        self.fps = fps
        self.crf = round(40 - 0.25 * quality)  # quality 90 -> crf 18 (visually lossless), 1 -> 40
        self.tmp = self.target.with_name(f".{self.target.stem}.{os.getpid()}.tmp.mp4")
        self.frames = 0
        self._encoder: Any = None
        self._shape: tuple[int, ...] = ()

    def write(self, frame: np.ndarray) -> None:
        """Append one HWC float frame in [0, 1] (RGB, RGBA or gray)."""
        import imageio_ffmpeg

        rgb = np.clip(np.asarray(frame, np.float32)[..., :3] * 255 + 0.5, 0, 255).astype(np.uint8)
        if rgb.shape[-1] == 1:
            rgb = np.repeat(rgb, 3, axis=-1)
        h, w = rgb.shape[:2]
        if h % 2 or w % 2:
            rgb = np.pad(rgb, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")
        if self._encoder is None:
            self.target.parent.mkdir(parents=True, exist_ok=True)
            self._shape = rgb.shape
            self._encoder = imageio_ffmpeg.write_frames(
                str(self.tmp), (rgb.shape[1], rgb.shape[0]), fps=self.fps, codec="libx264", quality=None,
                pix_fmt_out="yuv420p", macro_block_size=1, ffmpeg_log_level="error",
                output_params=["-crf", str(self.crf), "-preset", "veryfast", "-movflags", "+faststart",
                               *[a for k, v in self.metadata.items() for a in ("-metadata", f"{k}={v}")]],
            )
            self._encoder.send(None)
        elif rgb.shape != self._shape:
            raise ImageError(f"cannot write '{self.target.name}': frames of different sizes "
                             f"({self._shape[1]}x{self._shape[0]} and {rgb.shape[1]}x{rgb.shape[0]})")
        self._encoder.send(np.ascontiguousarray(rgb))
        self.frames += 1

    def close(self) -> Path:
        """Finish the file and move it into place."""
        if self._encoder is None:
            raise ImageError(f"cannot write '{self.target.name}': no frames")
        self._encoder.close()
        self._encoder = None
        os.replace(self.tmp, self.target)
        return self.target

    def abort(self) -> None:
        """Stop and remove the temp file (nothing happens after a successful close)."""
        if self._encoder is not None:
            self._encoder.close()
            self._encoder = None
        self.tmp.unlink(missing_ok=True)

    def __enter__(self) -> Mp4Writer:
        return self

    def __exit__(self, kind: Any, *_: Any) -> None:
        if kind is None:
            self.close()
        self.abort()
