"""Import ESRGAN-thick ×4 from npm `@upscalerjs/esrgan-thick` and ship it with measured figures.

    npm pack @upscalerjs/esrgan-thick@1.0.0 && tar xzf upscalerjs-esrgan-thick-1.0.0.tgz   # in scratch
    python -m artflow_upscale.ship --npm SCRATCH/package     # import, measure, ship
    python -m artflow_upscale.ship --npm SCRATCH/package --measure-only    # figures again

`artflow import tfjs` builds the Keras model (with this plugin's layers), converts it, stores the
weights as float16 and checks ONNX Runtime against TensorFlow on photos (within 1/255). Then the
shipped file is measured the way the node runs it (tiled): the package's fixture against its own
reference output, and the held-out photos (quality.PHOTOS, whole) against Lanczos. The card and
models/manifest.json get the figures. Needs the train extra and the unpacked npm package (CI
needs neither: the tests run the shipped file).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

from artflow import shipping

NAME = "esrgan-thick"
MODEL_JSON = "models/x4/model.json"
SPEC = Path(__file__).parent / "specs" / f"{NAME}.toml"


def import_thick(npm: Path) -> Path:
    """`artflow import tfjs` of the ×4 model into models/esrgan-thick.onnx (atomically)."""
    from artflow.train.importer import ImportSpec, import_model

    out = shipping.models_dir(__package__) / f"{NAME}.onnx"
    command = f"artflow import tfjs package/{MODEL_JSON} --spec plugins/artflow_upscale/specs/{SPEC.name}"
    import_model("tfjs", str(npm / MODEL_JSON), ImportSpec.load(SPEC), out, command=command)
    return out


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


def measure(path: Path, npm: Path | None) -> dict[str, Any]:
    """The shipped file run as the node runs it: fixture vs reference, photos vs Lanczos."""
    from artflow.models import get_session
    from artflow.models.card import read_card

    from .quality import compare, fixture_difference
    from .upscale import Network, lanczos, model_scale, upscale_image

    session = get_session(path, "cpu")
    network = Network(session, model_scale(read_card(path), NAME))

    def model(x: np.ndarray) -> np.ndarray:
        return upscale_image(network, x, 4, 128, 16)

    photos = compare({"lanczos": lambda x: lanczos(x, 4), NAME: model})
    figures: dict[str, Any] = {
        "psnr_gain_over_lanczos_db": photos[NAME]["mean"]["gain_db"],
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


def ship_thick(npm: Path | None, measure_only: bool) -> dict[str, Any]:
    """Import (unless ``measure_only``), measure, write the figures into the card, ship."""
    from artflow.models.card import read_card

    path = shipping.models_dir(__package__) / f"{NAME}.onnx"
    if not measure_only:
        if npm is None:
            raise SystemExit("give --npm DIR: the unpacked @upscalerjs/esrgan-thick 1.0.0 package")
        path = import_thick(npm)
    figures = measure(path, npm)
    card = read_card(path)
    card.metrics.update({k: v for k, v in figures.items() if k != "macs_per_pixel"})
    card.extra["macs_per_pixel"] = figures["macs_per_pixel"]
    shipping.rewrite_card(path, card)
    source = card.extra.get("source", {})
    return shipping.ship(__package__, path, kind="upscale", scale=card.extra["scale"],
                         macs_per_pixel=figures["macs_per_pixel"], licence=source.get("licence", ""),
                         upstream=source.get("package", ""),
                         metrics=("parity_max_abs_diff", "psnr_gain_over_lanczos_db",
                                  "fixture_x4_max_diff_255", "ms_onnxruntime", "ms_tensorflow"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m artflow_upscale.ship",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--npm", type=Path, default=None,
                        help="the unpacked @upscalerjs/esrgan-thick package")
    parser.add_argument("--measure-only", action="store_true", help="measure the shipped file again")
    args = parser.parse_args(argv)
    entry = ship_thick(args.npm, args.measure_only)
    print(f"{entry['name']}: sha256 {entry['sha256'][:12]}…, {entry['metrics']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
