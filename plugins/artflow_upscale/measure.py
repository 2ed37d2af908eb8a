"""The figures ship.py writes into the shipped upscaler's card: the file measured the way
`image.upscale` runs it (tiled), on UpscalerJS' fixture against the package's own ×4 output and on
the held-out photos (quality.PHOTOS, whole) against Lanczos, and its multiply-accumulates per pixel
(the node's work estimate). Needs the train extra (onnx, scikit-image).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


def macs_per_pixel(path: Path) -> int:
    """Multiply-accumulates per input pixel: every convolution's weights, times scale² for those
    after the depth-to-space (they run at the output's resolution)."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(path))
    sizes = {i.name: int(np.prod(numpy_helper.to_array(i).shape)) for i in model.graph.initializer}
    casts = {n.output[0]: n.input[0] for n in model.graph.node if n.op_type == "Cast"}
    late: set[str] = set()
    total, factor = 0, 1
    for node in model.graph.node:
        after = node.op_type == "DepthToSpace" or any(i in late for i in node.input)
        if node.op_type == "DepthToSpace":
            factor = next(a.i for a in node.attribute if a.name == "blocksize") ** 2
        if after:
            late.update(node.output)
        if node.op_type == "Conv":
            weights = sizes.get(node.input[1]) or sizes.get(casts.get(node.input[1], ""), 0)
            total += weights * (factor if after else 1)
    return int(total)


def measure(path: Path, npm: Path | None, name: str) -> dict[str, Any]:
    """The shipped file run as the node runs it: fixture vs reference, photos vs Lanczos."""
    from artflow.models import get_session
    from artflow.models.card import read_card

    from .quality import compare, fixture_difference
    from .upscale import Network, lanczos, model_scale, upscale_image

    session = get_session(path, "cpu")
    network = Network(session, model_scale(read_card(path), name))

    def model(x: np.ndarray) -> np.ndarray:
        return upscale_image(network, x, 4, 128, 16)

    photos = compare({"lanczos": lambda x: lanczos(x, 4), name: model})
    figures: dict[str, Any] = {
        "psnr_gain_over_lanczos_db": photos[name]["mean"]["gain_db"],
        "photos_x4": {k: v for k, v in photos.items()},
        "photos_x4_protocol": "whole scikit-image photos cut to a multiple of 4, reduced 4x with Pillow's "
                              "bicubic, enlarged 4x (tiles 128, overlap 16); PSNR/SSIM on 8-bit RGB "
                              "without an 8-pixel border; held out from every choice made",
        "macs_per_pixel": macs_per_pixel(path),
    }
    if npm is not None:
        from PIL import Image

        fixture = np.asarray(Image.open(npm / "assets" / "fixture.png").convert("RGB"), np.float32) / 255
        reference = np.asarray(Image.open(npm / "assets" / "samples" / "4x" / "result.png").convert("RGB"))
        figures["fixture_x4_max_diff_255"] = fixture_difference(model, fixture, reference)
    return figures
