"""Ship trained models as package data: copy each .onnx into models/ and record its sha256.

    python -m artflow_classifier.ship runs/digits/digits.onnx runs/shapes/shapes.onnx
    python -m artflow_classifier.ship --calibrate shapes digits     # temperature + unknown threshold
    python -m artflow_classifier.ship --ood-sheet gallery/classify_out_of_domain.png

The ``.keras`` weights next to each ``.onnx`` are copied too, for benchmarks/run.py's TF side
(repository only, not package data).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from artflow import shipping

from . import MODELS_DIR


def ship(paths: list[Path]) -> list[dict[str, object]]:
    """Ship each exported classifier (and its Keras weights, without optimizer state) into models/."""
    items = []
    for path in paths:
        card = shipping.carded(path, "classifier")
        keras_file, files = path.with_suffix(".keras"), {}
        with tempfile.TemporaryDirectory() as tmp:
            if keras_file.is_file():
                shipped = keras_file.parent == MODELS_DIR
                files["keras"] = (keras_file if shipped else _weights_only(keras_file, Path(tmp) / "w.keras"),
                                  f"{card.name}.keras")
            items.append(shipping.ship(__package__, path, kind="classifier", files=files, labels=card.labels,
                                       accuracy=card.metrics.get("accuracy")))
    return items


def _weights_only(source: Path, target: Path) -> Path:
    """The Keras model without its optimizer state (a third of the size)."""
    import keras

    keras.models.load_model(source, compile=False).save(target)
    return target


if __name__ == "__main__":
    from .calibration import calibrate, ood_sheet

    args = sys.argv[1:]
    if args[:1] == ["--ood-sheet"]:
        print(ood_sheet(Path(args[1] if len(args) > 1 else "gallery/classify_out_of_domain.png")))
        raise SystemExit(0)
    for item in ship([calibrate(n) for n in args[1:]] if args[:1] == ["--calibrate"] else map(Path, args)):
        print(f"{item['name']}: {item['sha256']}")
