"""Few-shot classification: the pretrained backbone vs a small CNN from scratch, 5/15/50 per class.

The fixture is artflow_classifier.data.fewshot_folder: square crops of five scikit-image
textures/photos (brick, grass, gravel, coins, hubble_deep_field); training crops come from the
left half of each picture, held-out crops (20 per class) from the right half. Each configuration
runs `artflow train classifier --images DIR` in a fresh process (features, head, export with its
parity check) and is scored through its exported ONNX on the held-out crops.

    python benchmarks/fewshot_bench.py [--shots 5,15,50] [--backbones vgg,none] [--layers relu3_3]

prints {"results": [{"shots", "backbone", "layer", "accuracy", "wall_s", "cpu_s", "onnx_mb"}, …],
"load_average": […]}. Needs the ``train`` extra.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ARTFLOW = str(Path(sys.executable).parent / "artflow")


def _score(onnx_path: Path, held: Path) -> float:
    """Held-out accuracy of an exported classifier (its ``probs`` output)."""
    import onnxruntime as ort
    from artflow_classifier.data import load_folder

    from artflow.models.card import read_card

    card = read_card(onnx_path)
    size = card.inputs[0].size[0]
    x, y, classes = load_folder(held, size)
    if classes != card.labels:
        raise SystemExit(f"label mismatch: {classes} vs {card.labels}")
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    probs = session.run(["probs"], {"image": x})[0]
    return float((probs.argmax(-1) == y).mean())


def run_one(root: Path, shots: int, backbone: str, layer: str, held: Path) -> dict[str, Any]:
    """Train one configuration in a fresh process; its held-out accuracy and cost."""
    from artflow_classifier.data import fewshot_folder

    train = root / f"train{shots}"
    if not train.is_dir():
        fewshot_folder(train, shots, half="train")
    out = root / f"run_{shots}_{backbone}_{layer}"
    cmd = [ARTFLOW, "train", "classifier", "--images", str(train), "-o", str(out), "--backbone", backbone]
    if backbone == "vgg":
        cmd += ["--layer", layer]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {proc.stderr[-800:]}")
    onnx_path = out / "classifier.onnx"
    return {"shots": shots, "backbone": backbone, "layer": layer if backbone == "vgg" else None,
            "accuracy": round(_score(onnx_path, held), 4), "wall_s": round(wall, 1),
            "cpu_s": round((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), 1),
            "onnx_mb": round(onnx_path.stat().st_size / 2**20, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shots", default="5,15,50")
    parser.add_argument("--backbones", default="vgg,none")
    parser.add_argument("--layers", default="relu4_3", help="backbone layers to compare (vgg only)")
    parser.add_argument("--heldout", type=int, default=20, help="held-out crops per class")
    args = parser.parse_args()
    from artflow_classifier.data import fewshot_folder

    results = []
    with tempfile.TemporaryDirectory(prefix="fewshot-") as tmp:
        root = Path(tmp)
        held = fewshot_folder(root / "held", args.heldout, half="heldout")
        for shots in (int(s) for s in args.shots.split(",")):
            for backbone in args.backbones.split(","):
                for layer in (args.layers.split(",") if backbone == "vgg" else ["-"]):
                    item = run_one(root, shots, backbone, layer, held)
                    print(json.dumps(item), file=sys.stderr, flush=True)
                    results.append(item)
    print(json.dumps({"results": results, "load_average": [round(v, 2) for v in os.getloadavg()],
                      "numpy": np.__version__}, indent=2))


if __name__ == "__main__":
    main()
