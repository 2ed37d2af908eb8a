"""Ship a trained detector as package data: copy its .onnx into models/ and record its sha256.

    python -m artflow_detector.ship /tmp/det_full/shapes.onnx
    python -m artflow_detector.ship --reexport /tmp/det_full/shapes.onnx   # then ship it (reexport.py)

The ``.keras`` weights it was exported from are copied as ``NAME_tf.keras`` (repository only, for
benchmarks/detector_bench.py's TensorFlow side).
"""

from __future__ import annotations

import sys
from pathlib import Path

from artflow import shipping


def ship(paths: list[Path]) -> list[dict[str, object]]:
    """Copy each detector into models/ and record it in the manifest."""
    items = []
    for path in paths:
        card = shipping.carded(path, "detector")
        keras = path.with_suffix(".keras")
        files = {"keras": (keras, f"{card.name}_tf.keras")} if keras.is_file() else None
        items.append(shipping.ship(__package__, path, kind="detector", files=files, labels=card.labels,
                                   map50=card.metrics.get("map50"), map50_95=card.metrics.get("map50_95")))
    return items


if __name__ == "__main__":
    if sys.argv[1:2] == ["--reexport"]:
        from .reexport import reexport

        for p in sys.argv[2:]:
            print(f"re-exported {reexport(Path(p))}")
        raise SystemExit(0)
    for item in ship([Path(p) for p in sys.argv[1:]]):
        print(f"{item['name']}: {item['sha256']}")
