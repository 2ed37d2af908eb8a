"""Adapters between artflow's IMAGE batches and what a model's card declares it takes."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..errors import ModelError
from ..imaging import LUMA, resize

if TYPE_CHECKING:
    from .card import InputSpec

# inputs


def prepare_images(images: np.ndarray, spec: InputSpec | None) -> np.ndarray:
    """An IMAGE batch (float32 NHWC in [0, 1]) in the form a model's card declares.

    Alpha is dropped; ``color``: ``gray`` → luminance (1 channel), ``bgr`` → channels reversed;
    resized to ``size`` (area averaging when shrinking, bilinear when enlarging) unless it already
    fits; values mapped from [0, 1] to ``range`` (or standardised with ``mean``/``std``); NCHW
    transposed; cast to ``dtype`` (integer types get rounded, clipped values). Without a spec the
    batch is returned as float32 RGB.
    """
    x = np.asarray(images, dtype=np.float32)
    if x.ndim == 3:
        x = x[None]
    if x.ndim != 4:
        raise ModelError(f"expected an NHWC image batch, got shape {list(x.shape)}")
    if x.shape[-1] == 4:
        x = x[..., :3]
    if spec is None:
        return np.ascontiguousarray(x)
    if spec.color == "gray" or spec.channels == 1:
        if x.shape[-1] == 3:
            x = x @ LUMA
            x = x[..., None]
    elif x.shape[-1] == 1:
        x = np.repeat(x, 3, axis=-1)
    if spec.size:
        x = resize(x, int(spec.size[0]), int(spec.size[1]))
    if spec.color == "bgr":
        x = x[..., ::-1]
    if spec.mean is not None and spec.std is not None:
        x = (x - np.asarray(spec.mean, np.float32)) / np.asarray(spec.std, np.float32)
    elif spec.range and list(spec.range[:2]) != [0.0, 1.0]:
        lo, hi = float(spec.range[0]), float(spec.range[1])
        x = x * (hi - lo) + lo
    if spec.layout == "NCHW":
        x = x.transpose(0, 3, 1, 2)
    dtype = np.dtype(spec.dtype or "float32")
    if dtype.kind in "iu":  # an integer input takes rounded values, clipped to the type's range
        info = np.iinfo(dtype)
        x = np.clip(np.rint(x), info.min, info.max)
    return np.ascontiguousarray(x, dtype=dtype)
