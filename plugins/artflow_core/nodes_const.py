"""Constant inputs: an array or PIL image a sketch passes to ``g.add`` (see :mod:`artflow.sketch`),
held by content sha256; a saved graph finds it beside itself as ``<sha256>.npy`` (a picture's
graph: beside the picture), read by the rules of :mod:`artflow.npyfiles`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from artflow.budget import Estimate, nbytes
from artflow.nodes import NodeContext, Out, node
from artflow.npyfiles import npy_shape
from artflow.params import Str
from artflow.sketch import CONST_TYPE, array_file, check_sha, lookup, stored_shape
from artflow.types import IMAGE


def _estimate(params: dict[str, Any], inputs: dict[str, Any], input_dir: Path) -> Estimate:
    """The array's shape from this process or its .npy header (nothing decoded), so a huge
    constant is refused by the memory budget before it is read."""
    sha = check_sha(params.get("sha256"), "const.image")
    shape = stored_shape(sha)
    if shape is None:
        path = array_file(sha, input_dir)
        shape = npy_shape(str(path), path.name) if path.is_file() else None
    if shape is None:
        return Estimate({"image": None})
    if len(shape) == 3:
        shape = (1, *shape)
    return Estimate({"image": shape}, working_bytes=nbytes(shape))  # the file's bytes while converting


@node(
    CONST_TYPE,
    category="io",
    estimate=_estimate,
    outputs={"image": Out(IMAGE, "the array, as a float32 NHWC batch in [0, 1]")},
    params={"sha256": Str(doc="sha256 of the array's .npy bytes (the file saved beside the graph)")},
)
def const_image(ctx: NodeContext, sha256: str) -> np.ndarray:
    """An array or image given in a sketch, by content hash."""
    check_sha(sha256, f"node '{ctx.node_id}'")
    if stored_shape(sha256) is not None:
        return lookup(sha256, ctx.input_dir)
    path = array_file(sha256, ctx.input_dir)
    return lookup(sha256, ctx.input_dir, ctx.readable(path, f"{sha256}.npy"))


NODES = [const_image]
