"""Ship trained models as package data: copy each .onnx into models/ and record its sha256.

    python -m artflow_classifier.ship runs/digits/digits.onnx runs/shapes/shapes.onnx

The manifest (models/manifest.json) is what `register_models` registers; the registry refuses a
file whose sha256 differs from the one recorded here. The ``.keras`` file next to each ``.onnx``
(the TensorFlow weights it was exported from) is copied too, for benchmarks/run.py's TF side; it
lives in the repository only (not package data).
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from artflow.models import file_sha256
from artflow.models.card import read_card

from . import MODELS_DIR, shipped_models


def ship(paths: list[Path]) -> list[dict[str, object]]:
    entries = {e["name"]: e for e in shipped_models()}
    MODELS_DIR.mkdir(parents=True, exist_ok=True)
    for path in paths:
        card = read_card(path)
        if card is None:
            raise SystemExit(f"{path} has no artflow card; export it with artflow.train.exporter")
        target = MODELS_DIR / f"{card.name}.onnx"
        if path.resolve() != target.resolve():
            shutil.copyfile(path, target)
        keras_file = path.with_suffix(".keras")  # the TF weights it was exported from (benchmarks)
        if keras_file.is_file() and keras_file.resolve() != target.with_suffix(".keras").resolve():
            _copy_weights_only(keras_file, target.with_suffix(".keras"))
        entries[card.name] = {
            "name": card.name,
            "kind": card.kind,
            "file": target.name,
            "sha256": file_sha256(target),
            "labels": card.labels,
            "description": card.description,
            "accuracy": card.metrics.get("accuracy"),
        }
        if target.with_suffix(".keras").is_file():
            entries[card.name]["files"] = {"keras": target.with_suffix(".keras").name}
    items = [entries[k] for k in sorted(entries)]
    (MODELS_DIR / "manifest.json").write_text(json.dumps({"models": items}, indent=2) + "\n")
    return items


def _copy_weights_only(source: Path, target: Path) -> None:
    """The Keras model without its optimizer state (a third of the size); a plain copy without TF."""
    try:
        import keras
    except ImportError:
        shutil.copyfile(source, target)
        return
    keras.models.load_model(source, compile=False).save(target)


if __name__ == "__main__":
    for item in ship([Path(p) for p in sys.argv[1:]]):
        print(f"{item['name']}: {item['sha256']}")
