"""Constant inputs: an array or PIL image a sketch passes to ``g.add`` (see :mod:`artflow.sketch`),
held by content sha256; a saved graph finds it beside itself as ``<sha256>.npy``."""

from __future__ import annotations

import numpy as np

from artflow.nodes import NodeContext, Out, node
from artflow.params import Str
from artflow.sketch import CONST_TYPE, lookup
from artflow.types import IMAGE


@node(
    CONST_TYPE,
    category="io",
    outputs={"image": Out(IMAGE, "the array, as a float32 NHWC batch in [0, 1]")},
    params={"sha256": Str(doc="sha256 of the array's .npy bytes (the file saved beside the graph)")},
)
def const_image(ctx: NodeContext, sha256: str) -> np.ndarray:
    """An array or image given in a sketch, by content hash."""
    return lookup(sha256, ctx.input_dir)


NODES = [const_image]
