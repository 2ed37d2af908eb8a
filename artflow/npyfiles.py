"""Reading a ``.npy`` array that came from outside (a graph's ``<sha256>.npy``, a picture's embedded
array) as an IMAGE batch, without trusting its header.

The rule: the array must be what :func:`artflow.sketch.constant` saves, H×W×C or N×H×W×C with 1, 3
or 4 channels, either ``uint8`` (0..255, divided by 255) or float16/32/64 with every value finite
and in [0, 1] (cast to float32). Anything else is refused in one line, never converted silently:
object arrays (no pickle ever runs), bool, signed or wide integers, complex, NaN or inf, values
out of range, a header too large or malformed, negative or overflowing dims, a file shorter or
longer than its header says, frames over ``ARTFLOW_MAX_PIXELS``, and bytes that are not .npy.
"""

from __future__ import annotations

import io
import math

import numpy as np

from .errors import ImageError

MAGIC = b"\x93NUMPY"
#: the largest .npy header read (numpy writes ~128 bytes; its own default limit is 10,000)
MAX_HEADER = 10_000
_FLOATS = ("float16", "float32", "float64")


def read_npy(data: bytes, name: str) -> np.ndarray:
    """The IMAGE batch (float32 NHWC in [0, 1]) a .npy file's bytes hold, or one clear ImageError."""
    from . import settings

    if not data.startswith(MAGIC):
        raise ImageError(f"{name}: not a .npy file (it does not start with numpy's magic bytes)")
    buf = io.BytesIO(data)
    try:
        version = np.lib.format.read_magic(buf)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(buf, max_header_size=MAX_HEADER)
        elif version in ((2, 0), (3, 0)):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(buf, max_header_size=MAX_HEADER)
        else:
            raise ValueError(f"version {version}")
    except (ValueError, SyntaxError, TypeError, OverflowError, EOFError) as exc:
        raise ImageError(f"{name}: its .npy header is damaged or too large ({str(exc)[:80]})") from None
    what = f"{name}: a {dtype} array of shape {tuple(shape)}"
    if dtype.hasobject:
        raise ImageError(f"{what} holds Python objects; artflow never unpickles data: save pixels "
                         "as uint8 or float32")
    if dtype.kind not in "uf" or (dtype.kind == "u" and dtype.itemsize != 1) or \
            (dtype.kind == "f" and dtype.name not in _FLOATS):
        raise ImageError(f"{what} cannot be an image: use uint8 (0..255) or float32 in [0, 1] "
                         "(convert it yourself; artflow does not guess a scale)")
    if not all(isinstance(d, int) and d >= 0 for d in shape) or len(shape) not in (3, 4) \
            or shape[-1] not in (1, 3, 4):
        raise ImageError(f"{what} is not H×W×C or N×H×W×C with 1, 3 or 4 channels")
    height, width = shape[-3], shape[-2]
    max_pixels = int(settings.get("ARTFLOW_MAX_PIXELS"))
    if height * width > max_pixels:
        raise ImageError(f"{what} has {height}x{width} frames, over ARTFLOW_MAX_PIXELS={max_pixels}")
    expected = math.prod(shape) * dtype.itemsize
    body = len(data) - buf.tell()
    if body != expected:
        raise ImageError(f"{what} needs {expected} bytes of data but the file has {body} (truncated "
                         "or padded)")
    arr = np.frombuffer(data, dtype, offset=buf.tell()).reshape(shape, order="F" if fortran else "C")
    if dtype.kind == "u":
        out = arr.astype(np.float32) / np.float32(255)
    else:
        if not np.isfinite(arr).all():
            raise ImageError(f"{what} holds NaN or infinite values; an image needs finite values in [0, 1]")
        if arr.size and (arr.min() < 0 or arr.max() > 1):
            raise ImageError(f"{what} has values in [{float(arr.min()):.3g}, {float(arr.max()):.3g}]; "
                             "an image needs [0, 1] (scale it, or save uint8)")
        out = arr.astype(np.float32)
    return out if out.ndim == 4 else out[None]


def npy_shape(path: str, name: str) -> tuple[int, ...] | None:
    """The shape a .npy file's header declares (None when it cannot be read: running says why)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(MAX_HEADER + 16)
        buf = io.BytesIO(head)
        version = np.lib.format.read_magic(buf)
        read = np.lib.format.read_array_header_1_0 if version == (1, 0) else \
            np.lib.format.read_array_header_2_0
        shape, _, _ = read(buf, max_header_size=MAX_HEADER)
    except (OSError, ValueError, SyntaxError, TypeError, OverflowError, EOFError):
        return None
    if not all(isinstance(d, int) and d >= 0 for d in shape) or len(shape) not in (3, 4):
        return None
    return tuple(shape) if len(shape) == 4 else (1, *shape)
