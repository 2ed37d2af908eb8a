"""`image.upscale`: enlarge images 2, 4 or 8 times with a super-resolution network (ESRGAN-thick
from UpscalerJS ships) or with Lanczos, any size within the memory budget.

    image.load → image.upscale(scale=4) → image.save

The network runs tile by tile with feathered overlaps (:mod:`.tiling`), so memory is about one
tile's activations plus the output; the estimate declares that, and the work, so the engine
refuses an image too large for the budget before anything runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from artflow import IMAGE, Choice, ImageError, In, Int, Model, Out, ParamError, node
from artflow.budget import Estimate, nbytes
from artflow.imaging import max_pixels
from artflow.shipping import shipped_models

from .upscale import SCALES, Network, model_scale, network_work_pixels, upscale_image

DEFAULT_MODEL = "esrgan-thick"
#: ONNX Runtime's memory per input pixel of a tile of ESRGAN-thick (peak RSS over the loaded
#: session, measured at 48² and 96² tiles: 6.9 and 5.1 KB)
TILE_BYTES_PER_PIXEL = 7 * 1024
#: multiply-accumulates per work unit (ARTFLOW_MAX_WORK's units are about 0.1 µs): ONNX Runtime ran
#: ESRGAN-thick at 30 GMAC/s per core here (CPU time of a 64² tile on one thread), so about 5000
#: per 0.1 µs on the 2 cores a session uses: a 512² image ×4 (409,600 tiled pixels) is about
#: 6e8 units, a minute; 1024² is over the default limit
MACS_PER_WORK_UNIT = 5000
#: for a model that does not say (an .onnx path): ESRGAN-thick's 7.3 M multiply-accumulates
DEFAULT_MACS_PER_PIXEL = 7_300_000


def _shipped_facts(model: Any) -> tuple[int, int]:
    """(scale, multiply-accumulates per input pixel) of a shipped model, or ESRGAN-thick's."""
    for entry in shipped_models(__package__):
        if entry["name"] == model:
            return int(entry.get("scale", 4)), int(entry.get("macs_per_pixel", DEFAULT_MACS_PER_PIXEL))
    return 4, DEFAULT_MACS_PER_PIXEL


def _estimate(params: dict[str, Any], inputs: dict[str, Any], input_dir: Path) -> Estimate:
    """Output (n, h·s, w·s, c); working memory: one tile's activations, the output's accumulators
    and the pass between; work: the network's multiply-accumulates over every pass."""
    shape = inputs.get("image")
    if shape is None:
        return Estimate({"image": None})
    n, h, w, c = shape
    s = int(params["scale"])
    limit = max_pixels()
    if w * s * h * s > limit:
        raise ImageError(f"image.upscale ×{s} of a {w}x{h} image would be {w * s}x{h * s} = "
                         f"{w * s * h * s:,} pixels, over the limit of {limit:,} (ARTFLOW_MAX_PIXELS); "
                         "choose a smaller scale or image, or raise the limit")
    out = (n, h * s, w * s, c)
    item_out = nbytes(out[1:])
    if params["method"] == "model" and params.get("model") is None:
        raise ParamError("image.upscale: method 'model' needs a model; name one or set method to 'lanczos'")
    if params["method"] == "lanczos":
        return Estimate({"image": out}, working_bytes=2 * item_out)
    tile = int(params["tile"])
    scale, macs = _shipped_facts(params["model"])
    tile_bytes = TILE_BYTES_PER_PIXEL * min(h, tile) * min(w, tile)
    accumulators = nbytes((h * s, w * s, 4)) * 2  # weighted sum, weights, and the pass before
    pixels = network_work_pixels(scale, s, h, w, tile, int(params["overlap"])) * n
    work = int(pixels * macs / MACS_PER_WORK_UNIT)
    return Estimate({"image": out}, working_bytes=tile_bytes + accumulators, work=work)


@node(
    "image.upscale",
    category="model",
    inputs={"image": In(IMAGE, "images to enlarge (any size; alpha is enlarged with Lanczos)")},
    outputs={"image": Out(IMAGE, "the images scale times as wide and high")},
    params={
        "scale": Choice(list(SCALES), 4, doc="how many times wider and higher: 2, 4 or 8"),
        "method": Choice(["model", "lanczos"], "model",
                         doc="model: the super-resolution network named by `model`; "
                             "lanczos: Pillow's Lanczos filter, no network (model null: none is opened)"),
        "model": Model("upscale", DEFAULT_MODEL, card=True, optional=True,
                       doc="the super-resolution network: its scale is read from its card, and it runs "
                           "as often as that scale fits into `scale`, resampling doing the rest"),
        "tile": Int(128, min=32, max=2048,
                    doc="the network runs on tiles of this many input pixels a side (less memory)"),
        "overlap": Int(16, min=0, max=256,
                       doc="input pixels shared by neighbouring tiles, blended with feathered weights"),
    },
    estimate=_estimate,
    itemwise=True,
    version=1,
)
def image_upscale(ctx: Any, image: np.ndarray, scale: int, method: str, model: str | None, tile: int,
                  overlap: int) -> np.ndarray:
    """Enlarge images 2, 4 or 8 times with a super-resolution network (tiled) or Lanczos."""
    network = None
    if method == "model":
        if model is None:
            raise ParamError(f"node '{ctx.node_id}' (image.upscale): method 'model' needs a model; "
                             "name one or set method to 'lanczos'")
        session = ctx.session("model")
        network = Network(session, model_scale(session.card, model))
    n, h, w, c = image.shape
    out = np.empty((n, h * scale, w * scale, c), np.float32)
    for i in range(n):
        out[i] = upscale_image(network, image[i], scale, tile, overlap)
    return out


NODES = [image_upscale]
