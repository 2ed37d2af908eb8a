"""Import ESRGAN-thick ×4 (npm `@upscalerjs/esrgan-thick` 1.0.0, unpacked in scratch) with `artflow
import tfjs` (float16 weights, parity within 1/255), measure it (measure.py) and ship it:

    python -m artflow_upscale.ship --npm SCRATCH/package [--measure-only]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

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


def ship_thick(npm: Path | None, measure_only: bool) -> dict[str, Any]:
    """Import (unless ``measure_only``), measure, write the figures into the card, ship."""
    from artflow.models.card import read_card

    path = shipping.models_dir(__package__) / f"{NAME}.onnx"
    if not measure_only:
        if npm is None:
            raise SystemExit("give --npm DIR: the unpacked @upscalerjs/esrgan-thick 1.0.0 package")
        path = import_thick(npm)
    from .measure import measure

    figures = measure(path, npm, NAME)
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
    parser = argparse.ArgumentParser(prog="python -m artflow_upscale.ship", description=__doc__)
    parser.add_argument("--npm", type=Path, help="the unpacked @upscalerjs/esrgan-thick package")
    parser.add_argument("--measure-only", action="store_true", help="measure the shipped file again")
    args = parser.parse_args(argv)
    entry = ship_thick(args.npm, args.measure_only)
    print(f"{entry['name']}: sha256 {entry['sha256'][:12]}…, {entry['metrics']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
