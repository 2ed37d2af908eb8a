"""Conversions at the edges: files and PIL images in, canonical float32 NHWC batches out.

Inside the engine images are float32, NHWC, in [0, 1], RGB or RGBA. Everything else
(uint8, PIL, other channel orders and ranges) is converted here, once.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, PngImagePlugin

from .errors import ImageError

DEFAULT_MAX_PIXELS = 8192 * 8192
#: luma weights for grey from RGB: Rec. 601, as Pillow's convert("L") and JPEG use, and as every
#: shipped model's training data and card adapter were made (Rec. 709 would shift those inputs)
LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def max_pixels() -> int:
    """Largest image (width × height) artflow will decode; `ARTFLOW_MAX_PIXELS` overrides it."""
    try:
        from . import settings

        return int(settings.get("ARTFLOW_MAX_PIXELS"))
    except ValueError:
        return DEFAULT_MAX_PIXELS


def check_size(width: int, height: int, what: str) -> None:
    """Refuse images beyond the pixel limit, before any memory is spent on them."""
    limit = max_pixels()
    if width <= 0 or height <= 0:
        raise ImageError(f"{what}: invalid size {width}x{height}")
    if width * height > limit:
        raise ImageError(
            f"{what} is {width}x{height} = {width * height:,} pixels, over the limit of {limit:,}; "
            "resize it first or raise ARTFLOW_MAX_PIXELS"
        )


def from_pil(img: Image.Image, *, keep_alpha: bool = True) -> np.ndarray:
    """A PIL image as one float32 HWC array in [0, 1] (RGB, or RGBA when it has alpha)."""
    img = ImageOps.exif_transpose(img) or img
    has_alpha = img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info)
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(img, dtype=np.float32)
        top = 65535.0 if arr.max() > 255 else 255.0
        arr = np.clip(arr / top, 0, 1)
        return np.repeat(arr[..., None], 3, axis=-1).astype(np.float32)
    if img.mode == "F":
        arr = np.clip(np.asarray(img, dtype=np.float32), 0, 1)
        return np.repeat(arr[..., None], 3, axis=-1)
    mode = "RGBA" if (has_alpha and keep_alpha) else "RGB"
    return np.asarray(img.convert(mode), dtype=np.float32) / 255.0


def to_uint8(array: np.ndarray) -> np.ndarray:
    """Float [0, 1] to uint8 with rounding; NaNs become 0."""
    return (np.nan_to_num(np.clip(array, 0.0, 1.0), nan=0.0) * 255.0 + 0.5).astype(np.uint8)


def to_pil(array: np.ndarray) -> Image.Image:
    """One HWC float image (C = 1, 3 or 4) as a PIL image."""
    if array.ndim == 4:
        if array.shape[0] != 1:
            raise ValueError(f"to_pil takes one image, got a batch of {array.shape[0]}")
        array = array[0]
    data = to_uint8(array)
    if data.shape[-1] == 1:
        return Image.fromarray(data[..., 0], "L")
    return Image.fromarray(data, "RGBA" if data.shape[-1] == 4 else "RGB")


def load_image(path: str | Path, *, keep_alpha: bool = True) -> np.ndarray:
    """Decode an image file to HWC float32, refusing missing, corrupt or oversized files (an
    animated file gives its first frame; :func:`load_frames` reads them all)."""
    return load_frames(path, keep_alpha=keep_alpha, frames="first")[0][0]


def load_frames(path: str | Path, *, keep_alpha: bool = True,
                frames: str = "first") -> tuple[list[np.ndarray], int]:
    """(decoded frames, frames in the file): the first frame or ("all") every frame of an
    animated GIF/PNG/WebP or multi-page TIFF, each HWC float32. All frames together must fit the
    pixel limit, checked from the header before any is decoded."""
    path = Path(path)
    _check_is_file(path)
    try:
        with Image.open(path) as img:
            check_size(img.width, img.height, f"image '{path}'")
            total = max(1, int(getattr(img, "n_frames", 1) or 1))
            count = total if frames == "all" else 1
            if count > 1 and img.width * img.height * count > max_pixels():
                raise ImageError(
                    f"image '{path}' has {count} frames of {img.width}x{img.height}, over the limit of "
                    f"{max_pixels():,} pixels in all; load frames='first', or raise ARTFLOW_MAX_PIXELS")
            out = []
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                for i in range(count):
                    if i:
                        img.seek(i)
                    img.load()
                    frame = from_pil(img, keep_alpha=keep_alpha)
                    if out and frame.shape[:2] != out[0].shape[:2]:
                        raise ImageError(f"image '{path}': frame {i} is not the size of frame 0")
                    out.append(frame)
            return out, total
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError(f"image '{path}' is too large to decode safely") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageError(f"image '{path}' is corrupt or not an image ({exc})") from None


def _check_is_file(path: Path) -> None:
    if path.is_dir():
        raise ImageError(f"image '{path}' is a folder, not an image file; to load the images in it "
                         f"use a glob such as '{path}/*.png'")
    if not path.is_file():
        raise ImageError(f"image '{path}' not found")


def as_batch(images: list[np.ndarray]) -> np.ndarray:
    """Stack same-sized HWC images into an NHWC batch, promoting RGB to RGBA where mixed."""
    if not images:
        raise ValueError("no images to stack")
    channels = max(im.shape[-1] for im in images)
    fixed = [with_channels(im, channels) for im in images]
    return np.stack(fixed).astype(np.float32, copy=False)


def with_channels(image: np.ndarray, channels: int) -> np.ndarray:
    """Convert an image (HWC or NHWC) to 3 (RGB) or 4 (RGBA, opaque alpha added) channels."""
    c = image.shape[-1]
    if c == channels:
        return image
    if c == 1:
        image = np.repeat(image, 3, axis=-1)
        c = 3
    if c == 3 and channels == 4:
        alpha = np.ones(image.shape[:-1] + (1,), dtype=image.dtype)
        return np.concatenate([image, alpha], axis=-1)
    if c == 4 and channels == 3:
        return image[..., :3]
    return image


def rgb(image: np.ndarray) -> np.ndarray:
    """The colour channels (alpha dropped) of an IMAGE batch or image."""
    return with_channels(image, 3)


RESAMPLING = {
    "nearest": Image.Resampling.NEAREST,
    "bilinear": Image.Resampling.BILINEAR,
    "bicubic": Image.Resampling.BICUBIC,
    "lanczos": Image.Resampling.LANCZOS,
    "box": Image.Resampling.BOX,
}


def resize(image: np.ndarray, height: int, width: int, method: str = "area", *,
           enlarge: str = "bilinear", fast: bool = True) -> np.ndarray:
    """Resize one HWC image or an NHWC batch of float images, channel by channel as 32-bit float
    planes (never quantised); returns float32.

    ``method="area"``: box averaging when neither side grows, else the ``enlarge`` filter; with
    ``fast``, integer-factor reductions are a vectorised float32 mean (within 1 ulp of Pillow's
    box). Any other method (nearest, bilinear, bicubic, lanczos, box) is that Pillow filter as is.
    """
    x = np.asarray(image, dtype=np.float32)
    batched = x.ndim == 4
    if not batched and x.ndim != 3:
        raise ImageError(f"resize takes an HWC image or an NHWC batch, got shape {list(x.shape)}")
    h, w, c = x.shape[-3:]
    if (h, w) == (height, width):
        return x
    if method == "area":
        if fast and h % height == 0 and w % width == 0:
            fy, fx = h // height, w // width
            if batched:
                return x.reshape(len(x), height, fy, width, fx, c).mean(axis=(2, 4), dtype=np.float32)
            return x.reshape(height, fy, width, fx, c).mean(axis=(1, 3), dtype=np.float32)
        method = "box" if height <= h and width <= w else enlarge
    if method not in RESAMPLING:
        raise ValueError(f"unknown resampling '{method}'; use area or one of {', '.join(RESAMPLING)}")
    flt = RESAMPLING[method]
    items = x if batched else x[None]
    out = np.empty((len(items), height, width, c), np.float32)
    for i, item in enumerate(items):
        for k in range(c):
            plane = Image.fromarray(np.ascontiguousarray(item[..., k]))  # float32: mode F
            out[i, ..., k] = np.asarray(plane.resize((width, height), flt), dtype=np.float32)
    return out if batched else out[0]


_process_umask: int | None = None


def box_blur_axis(x: np.ndarray, radius: int, axis: int) -> np.ndarray:
    """Mean over a window of 2r+1 along one axis, edges extended (cumulative sums: O(n))."""
    if radius <= 0:
        return x
    pad = [(0, 0)] * x.ndim
    pad[axis] = (radius + 1, radius)
    padded = np.pad(x, pad, mode="edge")
    c = np.cumsum(padded, axis=axis, dtype=np.float32)
    n = x.shape[axis]
    hi = [slice(None)] * x.ndim
    lo = [slice(None)] * x.ndim
    hi[axis] = slice(2 * radius + 1, 2 * radius + 1 + n)
    lo[axis] = slice(0, n)
    return (c[tuple(hi)] - c[tuple(lo)]) / np.float32(2 * radius + 1)


def gaussian_blur(x: np.ndarray, sigma: float, axes: tuple[int, int] = (-3, -2)) -> np.ndarray:
    """Gaussian blur approximated by three box blurs per axis (as Pillow does), in float32;
    ``axes`` are the (height, width) axes (default: an NHWC batch)."""
    if sigma <= 0:
        return x.astype(np.float32, copy=False)
    n = 3
    w_ideal = np.sqrt(12 * sigma * sigma / n + 1)
    wl = int(np.floor(w_ideal))
    if wl % 2 == 0:
        wl -= 1
    wu = wl + 2
    m = round((12 * sigma * sigma - n * wl * wl - 4 * n * wl - 3 * n) / (-4 * wl - 4))
    sizes = [wl if i < m else wu for i in range(n)]
    out = x.astype(np.float32, copy=True)
    for size in sizes:
        for axis in axes:
            out = box_blur_axis(out, (size - 1) // 2, axis)
    return out


def _umask() -> int:
    """This process's umask, read without changing it where the system allows (setting and
    restoring it would race with threads creating files), then remembered."""
    global _process_umask
    if _process_umask is None:
        try:
            with open("/proc/self/status", encoding="ascii") as fh:
                _process_umask = next(int(ln.split()[1], 8) for ln in fh if ln.startswith("Umask:"))
        except (OSError, ValueError, StopIteration, IndexError):
            _process_umask = os.umask(0o022)
            os.umask(_process_umask)
    return _process_umask


def atomic_write_bytes(path: Path, data: bytes, *, fsync: bool = True) -> None:
    """Write a file so that no reader ever sees it half-written: temp file, fsync, rename.
    ``fsync=False`` leaves flushing to the caller (a gallery syncs its folder in batches)."""
    from .errors import DiskFullError, is_disk_full

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    except OSError as exc:
        if is_disk_full(exc):
            raise DiskFullError(path.parent, len(data), path.name) from exc
        raise
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            if fsync:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if is_disk_full(exc):
            raise DiskFullError(path.parent, len(data), path.name) from exc
        raise


def encode_image(image: np.ndarray, fmt: str, *, quality: int = 92,
                 text: Mapping[str, str] | None = None) -> bytes:
    """Encode one HWC image as PNG, JPEG or WebP bytes; PNG text chunks carry provenance."""
    import io

    fmt = fmt.upper()
    img = to_pil(image)
    buf = io.BytesIO()
    if fmt == "PNG":
        info = PngImagePlugin.PngInfo()
        for key, value in (text or {}).items():
            info.add_itxt(key, value, zip=True)
        img.save(buf, "PNG", pnginfo=info, compress_level=6)
    elif fmt in ("JPEG", "JPG"):
        if img.mode in ("RGBA", "LA"):
            img = img.convert("RGB")
        img.save(buf, "JPEG", quality=quality)
    elif fmt == "WEBP":
        img.save(buf, "WEBP", quality=quality)
    else:
        raise ValueError(f"unknown image format {fmt}")
    return buf.getvalue()


def save_image(image: np.ndarray, path: Path, *, quality: int = 92,
               text: Mapping[str, str] | None = None) -> None:
    """Write one image atomically, format from the file extension."""
    fmt = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP"}.get(path.suffix.lower())
    if fmt is None:
        raise ImageError(f"cannot save '{path}': use a .png, .jpg or .webp name")
    atomic_write_bytes(path, encode_image(image, fmt, quality=quality, text=text))


def read_png_text(path: str | Path) -> dict[str, str]:
    """The text chunks of a PNG (where artflow keeps provenance)."""
    try:
        with Image.open(path) as img:
            img.load()
            return {str(k): str(v) for k, v in getattr(img, "text", {}).items()}
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageError(f"'{path}' is not a readable PNG ({exc})") from None
