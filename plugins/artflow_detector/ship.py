"""Ship a trained detector as package data: copy its .onnx into models/ and record its sha256.

    python -m artflow_detector.ship /tmp/det_full/shapes.onnx
    python -m artflow_detector.ship --reexport /tmp/det_full/shapes.onnx   # then ship it

``--reexport`` exports the ``.keras`` next to an ``.onnx`` again with the current export code
(Resize upsampling), keeping its card (training record, metrics measured through ONNX Runtime)
and re-checking parity; the outputs agree with the old file's within the parity tolerance.

The manifest (models/manifest.json) is what `register_models` registers; the registry refuses a
file whose sha256 differs. The ``.keras`` weights it was exported from are copied as
``NAME_tf.keras`` (repository only, for benchmarks/detector_bench.py's TensorFlow side).
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from artflow.models import file_sha256
from artflow.models.card import read_card

from . import MODELS_DIR, shipped_models


def reexport(path: Path) -> Path:
    """Export ``path``'s sibling ``.keras`` again into ``path``, keeping the card (see module doc)."""
    import keras
    import numpy as np
    import tensorflow as tf

    from artflow.train.exporter import export_function

    from .model import build_network, decode

    card = read_card(path)
    if card is None or card.kind != "detector":
        raise SystemExit(f"{path} is not a detector with an artflow card")
    trained = keras.models.load_model(path.with_suffix(".keras"), compile=False)
    size = int(card.inputs[0].size[0]) if card.inputs and card.inputs[0].size else 128
    width = "tiny" if trained.name.endswith("tiny") else "full"
    net = build_network(size, len(card.labels), width, upsample="resize")
    net.set_weights(trained.get_weights())
    old = {k: v for k, v in card.metrics.items() if k.startswith("parity")}
    card.metrics = {k: v for k, v in card.metrics.items() if not k.startswith("parity")}
    card.extra["reexported"] = f"from {path.with_suffix('.keras').name}; parity before: {old}"
    sig = [tf.TensorSpec([None, size, size, 3], tf.float32, name="image")]
    real = np.random.default_rng(0).random((8, size, size, 3), dtype=np.float32)
    export_function(lambda im: decode(net(im, training=False), len(card.labels), size), sig, path, card,
                    real_inputs=real)
    return path


def ship(paths: list[Path]) -> list[dict[str, object]]:
    """Copy each detector into models/ and rewrite the manifest."""
    entries = {e["name"]: e for e in shipped_models()}
    MODELS_DIR.mkdir(parents=True, exist_ok=True)
    for path in paths:
        card = read_card(path)
        if card is None or card.kind != "detector":
            raise SystemExit(f"{path} is not a detector with an artflow card")
        target = MODELS_DIR / f"{card.name}.onnx"
        if path.resolve() != target.resolve():
            shutil.copyfile(path, target)
        keras_file = path.with_suffix(".keras")
        if keras_file.is_file():
            shutil.copyfile(keras_file, MODELS_DIR / f"{card.name}_tf.keras")
        entries[card.name] = {
            "name": card.name,
            "kind": card.kind,
            "file": target.name,
            "sha256": file_sha256(target),
            "labels": card.labels,
            "description": card.description,
            "map50": card.metrics.get("map50"),
            "map50_95": card.metrics.get("map50_95"),
        }
    items = [entries[k] for k in sorted(entries)]
    (MODELS_DIR / "manifest.json").write_text(json.dumps({"models": items}, indent=2) + "\n")
    return items


if __name__ == "__main__":
    if sys.argv[1:2] == ["--reexport"]:
        for p in sys.argv[2:]:
            print(f"re-exported {reexport(Path(p))}")
        raise SystemExit(0)
    for item in ship([Path(p) for p in sys.argv[1:]]):
        print(f"{item['name']}: {item['sha256']}")
