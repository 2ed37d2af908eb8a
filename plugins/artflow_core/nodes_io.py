"""Input and output: load files or globs as one batch, save batches and animations atomically."""

from __future__ import annotations

import glob as globlib
import io
import json
import re
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from artflow.budget import Estimate, nbytes
from artflow.errors import ArtflowError, ImageError
from artflow.imaging import as_batch, atomic_write_bytes, encode_image, load_frames, to_pil
from artflow.nodes import In, NodeContext, Out, node
from artflow.params import Bool, Choice, File, Float, Int
from artflow.paths import glob_files, safe_name
from artflow.types import IMAGE, TEXT

from ._util import resize_array

_GLOB_CHARS = re.compile(r"[*?\[]")


def _matches(pattern: str, ctx: NodeContext) -> list[Path]:
    """Files a path or glob names, sorted; relative patterns resolve against the graph's folder.
    ``**`` never descends through a symlinked folder (no loops, no duplicates); a graph read from a
    picture may not read a match that resolves outside the folders it is allowed."""
    full = ctx.input_path(pattern)
    if _GLOB_CHARS.search(pattern):
        found = [ctx.readable(p, pattern) for p in glob_files(full)]
        if not found:
            raise ImageError(f"image.load: no files match '{pattern}' (looked in {full.parent})")
        return found
    if full.is_dir():
        raise ImageError(f"image.load: '{pattern}' is a folder, not an image file ({full}); to load "
                         f"the images in it use a glob such as '{pattern.rstrip('/')}/*.png'")
    if not full.is_file():
        raise ImageError(f"image.load: image '{pattern}' not found (looked for {full})")
    return [ctx.readable(full, pattern)]


def _load_key(params: dict[str, Any], ctx: NodeContext) -> str:
    """Path, size and mtime of every matched file: edits to the files change the cache key."""
    stats = []
    for p in _matches(params["path"], ctx):
        st = p.stat()
        stats.append([str(p.resolve()), st.st_size, st.st_mtime_ns])
    return json.dumps(stats)


_HEADERS: dict[tuple[str, int, int], tuple[int, int, int] | None] = {}
_HEADERS_MAX = 20000


def _header(f: Path) -> tuple[int, int, int] | None:
    """(width, height, frames) from a file's header, or None when unreadable; remembered by
    (path, size, mtime), so planning a run again reads no header whose file did not change."""
    st = f.stat()
    key = (str(f), st.st_size, st.st_mtime_ns)
    if key not in _HEADERS:
        try:
            with Image.open(f) as im:
                frames = im.n_frames if getattr(im, "is_animated", False) else 1
                found: tuple[int, int, int] | None = (im.size[0], im.size[1], frames)
        except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError):
            found = None  # loading it says what is wrong (corrupt, or too large to decode safely)
        if len(_HEADERS) >= _HEADERS_MAX:
            _HEADERS.clear()
        _HEADERS[key] = found
    return _HEADERS[key]


def _load_items(params: dict[str, Any], ctx: NodeContext) -> list[tuple[str, dict[str, Any]]] | None:
    """fit='each' and a glob of images of different sizes: one item per file (see artflow.items)."""
    if params.get("fit") != "each" or not _GLOB_CHARS.search(str(params["path"])):
        return None
    files = _matches(params["path"], ctx)
    # an unreadable file (None) is an item of its own: it fails with the decoder's error, the rest run
    sizes = {h[:2] if h else None for h in map(_header, files)}
    if len(sizes) < 2:
        return None
    base = ctx.input_dir.resolve()
    items = []
    for f in files:  # each item loads exactly its file, named as the graph's folder sees it
        full = f.resolve()
        rel = full.relative_to(base).as_posix() if full.is_relative_to(base) else str(full)
        items.append((f.stem, {"path": globlib.escape(rel)}))
    return items


def _load_estimate(params: dict[str, Any], inputs: dict[str, Any], input_dir: Path) -> Estimate:
    """Batch shape from the files' headers (no pixel decoded): the budget check runs first."""
    ctx = NodeContext(node_id="image.load", node_type="image.load", seed=0, output_dir=input_dir,
                      input_dir=input_dir)
    items, height, width = 0, 0, 0
    for f in _matches(params["path"], ctx)[:10000]:
        header = _header(f)
        if header is None:  # unreadable: size unknown; loading it says what is wrong
            return Estimate({"image": None, "names": None})
        w, h, n = header
        items += n if params.get("frames") == "all" else 1
        if not height:
            width, height = w, h
        elif params.get("fit") != "first":
            width, height = max(width, w), max(height, h)
    shape = (max(1, items), height, width, 4)
    return Estimate({"image": shape, "names": (shape[0],)}, working_bytes=nbytes((1,) + shape[1:]) * 2)


@node(
    "image.load",
    category="io",
    estimate=_load_estimate,
    outputs={
        "image": Out(IMAGE, "the images as one batch, in sorted file order"),
        "names": Out(TEXT, "file name stems, one per image"),
    },
    params={
        "path": File(
            doc="an image file or a glob ('photos/*.jpg', '**/*.png'); relative to the graph file"
        ),
        "fit": Choice(
            ["each", "first", "error"],
            "each",
            doc="images of different sizes: 'each' runs the graph once per image, each at its own "
            "size; 'first' resizes all to the first's size (one batch); 'error' stops",
        ),
        "alpha": Bool(True, doc="keep an alpha channel when a file has one"),
        "frames": Choice(
            ["first", "all"],
            "first",
            doc="animated files (GIF, APNG, WebP, TIFF pages): 'first' loads the first frame (and "
            "says so), 'all' loads every frame as items of the batch",
        ),
    },
    key_extra=_load_key,
    items=_load_items,
)
def image_load(ctx: NodeContext, path: str, fit: str, alpha: bool, frames: str = "first") -> dict[str, Any]:
    """Load an image file, or every file a glob matches, as one batch (animated files: their first
    frame, or every frame with frames='all')."""
    files = _matches(path, ctx)
    images: list[np.ndarray] = []
    names: list[str] = []
    owners: list[Path] = []
    for f in files:
        decoded, total = load_frames(f, keep_alpha=alpha, frames=frames)
        if total > 1 and frames == "first":
            warnings.warn(f"image.load: '{f.name}' has {total} frames; loaded the first only "
                          "(frames='all' loads every frame as a batch)", stacklevel=2)
        images += decoded
        owners += [f] * len(decoded)
        names += [f.stem] if len(decoded) == 1 else [f"{f.stem}_{i:03d}" for i in range(len(decoded))]
    h0, w0 = images[0].shape[:2]
    for f, im in zip(owners[1:], images[1:], strict=False):
        if im.shape[:2] != (h0, w0):
            if fit != "first":  # 'each' splits the run before this node runs (artflow.items)
                raise ImageError(
                    f"image.load: '{files[0].name}' is {w0}x{h0} but '{f.name}' is "
                    f"{im.shape[1]}x{im.shape[0]}; use fit='each' to run each image at its own "
                    "size, or fit='first' to resize all to the first"
                )
    if fit == "first":
        images = [resize_array(im, w0, h0, "lanczos") for im in images]
    return {"image": as_batch(images), "names": names}


_FORMATS = {"png": ".png", "jpeg": ".jpg", "webp": ".webp"}
_EXT_FORMAT = {".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg", ".webp": "webp"}
def _expand(template: str, *, index: int, name: str, seed: int, node_id: str, frame: int = 0) -> str:
    try:
        return template.format(index=index, name=name, seed=seed, frame=frame)
    except (KeyError, IndexError, ValueError) as exc:
        raise ArtflowError(
            f"node '{node_id}': path '{template}' has a bad placeholder ({exc}); "
            "use {index}, {name}, {seed}, {frame}"
        ) from None


def _target_paths(
    ctx: NodeContext, path: str, n: int, names: list[str] | None, ext: str, force_ext: bool = False
) -> list[Path]:
    """One distinct output path per item: placeholders filled, suffixes added where a batch needs them.

    In a run split per item (ctx.item: images of mixed sizes, one at a time) files are named as
    one batch of all items would name them: {index} is the item's index, and a path without
    placeholders gets the item's _0000 suffix."""
    has_item = "{index" in path or "{name" in path
    stems = [safe_name(names[i], "image") if names and i < len(names) else f"{i:04d}" for i in range(n)]
    item = ctx.item
    out: list[str] = []
    for i in range(n):
        index = i if item is None else (item.index if n == 1 else item.index * 10000 + i)
        rel = _expand(path, index=index, name=stems[i], seed=ctx.seed, node_id=ctx.node_id, frame=ctx.frame)
        p = Path(rel)
        if not p.suffix:
            p = p.with_name(p.name + ext)
        elif force_ext and _EXT_FORMAT.get(p.suffix.lower()) != _EXT_FORMAT[ext]:
            p = p.with_suffix(ext)
        if not has_item and (n > 1 or (item is not None and item.count > 1)):
            suffix = f"_{i:04d}" if item is None else f"_{item.index:04d}" + (f"_{i:04d}" if n > 1 else "")
            p = p.with_name(f"{p.stem}{suffix}{p.suffix}")
        out.append(str(p))
    counts = Counter(out)
    for i, rel in enumerate(out):  # duplicate names in the batch must not overwrite each other
        if counts[rel] > 1:
            p = Path(rel)
            out[i] = str(p.with_name(f"{p.stem}_{i:04d}{p.suffix}"))
    return [ctx.output_path(rel) for rel in out]


@node(
    "image.save",
    category="io",
    files_output="path",
    inputs={
        "image": In(IMAGE, "the images to write"),
        "names": In(TEXT, "names for the {name} placeholder (e.g. from image.load)", optional=True),
    },
    outputs={"path": Out(TEXT, "the written files, one per image")},
    params={
        "path": File(
            "out.png",
            doc="file under the output folder; may use {index}, {name}, {seed}, {frame:04d} (a run over "
            "frames); a batch "
            "without {index}/{name} gets _0000, _0001… suffixes",
        ),
        "format": Choice(
            ["auto", "png", "jpeg", "webp"], "auto", doc="file format; 'auto' from the extension"
        ),
        "quality": Int(92, min=1, max=100, doc="JPEG/WebP quality"),
    },
)
def image_save(
    ctx: NodeContext, image: np.ndarray, names: list[str] | None, path: str, format: str, quality: int
) -> list[str]:
    """Write each image of a batch to a file (atomically; PNGs carry provenance)."""
    if format == "auto":
        ext = Path(path).suffix.lower() or ".png"
        if ext not in _EXT_FORMAT:
            raise ImageError(
                f"node '{ctx.node_id}': cannot tell the format of '{path}'; "
                "use a .png, .jpg or .webp name or set format"
            )
    else:
        ext = _FORMATS[format]
    targets = _target_paths(ctx, path, len(image), names, ext, force_ext=format != "auto")
    written = []
    for item, target in zip(image, targets, strict=False):
        fmt = _EXT_FORMAT.get(target.suffix.lower()) if format == "auto" else format
        if fmt is None:
            raise ImageError(
                f"node '{ctx.node_id}': cannot save '{target.name}'; use a .png, .jpg or .webp name"
            )
        text = ctx.provenance() if fmt == "png" else None
        atomic_write_bytes(target, encode_image(item, fmt.upper(), quality=quality, text=text))
        written.append(str(target))
    return written


@node(
    "image.save_animation",
    category="io",
    files_output="path",
    inputs={"image": In(IMAGE, "the frames, in order")},
    outputs={"path": Out(TEXT, "the written file")},
    params={
        "path": File(
            "anim.gif",
            doc="file under the output folder: .gif, .png (APNG), .webp or .mp4 (H.264); may use {seed}",
        ),
        "fps": Float(12.0, min=0.1, max=100.0, doc="frames per second"),
        "loop": Int(0, min=0, max=1000, doc="times to play; 0 loops forever"),
        "bounce": Bool(False, doc="play forwards then backwards (ping-pong)"),
        "quality": Int(90, min=1, max=100, doc="WebP and MP4 quality"),
    },
)
def image_save_animation(
    ctx: NodeContext, image: np.ndarray, path: str, fps: float, loop: int, bounce: bool, quality: int
) -> list[str]:
    """Write a batch as the frames of one animated GIF, APNG, WebP or MP4 (H.264) file, atomically."""
    if ctx.item is not None and ctx.item.count > 1:
        raise ImageError(
            f"node '{ctx.node_id}': an animation needs all its frames at one size, but '{ctx.item.source}' "
            "loads images of mixed sizes, which run one at a time; set fit='first' on "
            f"'{ctx.item.source}' to resize them to the first's size"
        )
    target = ctx.output_path(_expand(path, index=0, name="anim", seed=ctx.seed, node_id=ctx.node_id))
    ext = target.suffix.lower()
    if ext not in (".gif", ".png", ".apng", ".webp", ".mp4"):
        raise ImageError(
            f"node '{ctx.node_id}': cannot write an animation to '{target.name}'; "
            "use a .gif, .png (APNG), .webp or .mp4 name"
        )
    if ext == ".mp4":
        order = list(range(len(image))) + (list(range(len(image) - 2, 0, -1)) if bounce else [])
        write_mp4(target, (image[i] for i in order), fps=fps, quality=quality)
        return [str(target)]
    frames = [to_pil(f) for f in image]
    if bounce and len(frames) > 2:
        frames = frames + frames[-2:0:-1]
    duration = max(1, int(round(1000.0 / fps)))
    buf = io.BytesIO()
    if ext == ".gif":
        rgb = [f.convert("RGB") for f in frames]
        pal = [
            f.quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.FLOYDSTEINBERG) for f in rgb
        ]
        pal[0].save(
            buf,
            "GIF",
            save_all=True,
            append_images=pal[1:],
            duration=duration,
            loop=loop,
            disposal=2,
            optimize=False,
        )
    elif ext == ".webp":
        frames[0].save(
            buf,
            "WEBP",
            save_all=True,
            append_images=frames[1:],
            duration=duration,
            loop=loop,
            quality=quality,
        )
    else:
        frames[0].save(buf, "PNG", save_all=True, append_images=frames[1:], duration=duration, loop=loop)
    atomic_write_bytes(target, buf.getvalue())
    return [str(target)]


def write_mp4(target: Path, frames: Any, *, fps: float, quality: int = 90) -> None:
    """Encode HWC float frames as H.264 MP4 (see :class:`artflow.video.Mp4Writer`), atomically."""
    from artflow.video import Mp4Writer

    with Mp4Writer(target, fps=fps, quality=quality) as writer:
        for frame in frames:
            writer.write(frame)


NODES = [image_load, image_save, image_save_animation]
