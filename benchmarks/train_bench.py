"""How long the `--quick` trainings take, end to end, as a person (or CI) runs them.

Each trainer runs as `artflow train KIND --quick` in a fresh process (TensorFlow import, data,
training, export with its parity check, samples, card): wall seconds and CPU seconds (the
process and its threads; `getrusage` of the waited-for child). Inputs are small folders drawn
here with Pillow, like the tests' (classifier: 3 classes × 12 pictures; GAN: 10 pictures; style:
a 128² block picture); the detector draws its own procedural scenes.

    python benchmarks/train_bench.py [--only classifier,gan,style,detector]

prints {"classifier": {"wall_s": …, "cpu_s": …}, …, "load_average": […]}. Needs the ``train``
extra. `benchmarks/run.py --training` includes it under "training".
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
KINDS = ("classifier", "gan", "style", "detector")


def _classifier_folder(root: Path) -> Path:
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(0)
    for name, colour in (("disc", (220, 30, 30)), ("square", (30, 200, 30)), ("bar", (30, 30, 220))):
        (root / name).mkdir(parents=True)
        for i in range(12):
            img = Image.new("RGB", (40, 40), tuple(int(v) for v in rng.integers(0, 60, 3)))
            draw = ImageDraw.Draw(img)
            x, y = (int(v) for v in rng.integers(4, 16, 2))
            if name == "disc":
                draw.ellipse([x, y, x + 20, y + 20], fill=colour)
            elif name == "square":
                draw.rectangle([x, y, x + 18, y + 18], fill=colour)
            else:
                draw.rectangle([x, 2, x + 6, 37], fill=colour)
            img.save(root / name / f"{i}.png")
    return root


def _gan_folder(root: Path) -> Path:
    from PIL import Image

    root.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(10):
        Image.fromarray((rng.random((24, 30, 3)) * 255).astype(np.uint8)).save(root / f"p{i}.png")
    return root


def _style_image(path: Path) -> Path:
    from PIL import Image

    blocks = (np.random.default_rng(0).uniform(0, 1, (8, 8, 3)) * 255).astype(np.uint8)
    Image.fromarray(blocks).resize((128, 128), Image.Resampling.NEAREST).save(path)
    return path


def command(kind: str, work: Path) -> list[str]:
    out = ["-o", str(work / f"run-{kind}")]
    if kind == "classifier":
        return ["train", "classifier", "--images", str(_classifier_folder(work / "classes")), "--quick", *out]
    if kind == "gan":
        return ["train", "gan", "--images", str(_gan_folder(work / "pictures")), "--quick", *out]
    if kind == "style":
        return ["train", "style", "--style", str(_style_image(work / "blocks.png")), "--quick", *out]
    return ["train", "detector", "--quick", *out]


def time_training(kind: str, work: Path) -> dict[str, Any]:
    args = command(kind, work)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run([ARTFLOW, *args], capture_output=True, text=True, timeout=1800,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        last = proc.stderr.strip().splitlines()[-1:] or ["failed"]
        return {"error": last[0], "command": "artflow " + " ".join(args)}
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_s": round(wall, 1), "cpu_s": round(cpu, 1),
            "command": "artflow " + " ".join(args[:2]) + " … --quick"}


def run_training_benchmarks(only: list[str] | None = None) -> dict[str, Any]:
    result: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="artflow-train-bench-") as tmp:
        for kind in only or KINDS:
            result[kind] = time_training(kind, Path(tmp))
    result["load_average"] = [round(v, 2) for v in os.getloadavg()]
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="comma-separated: " + ",".join(KINDS))
    args = parser.parse_args(argv)
    only = [k for k in args.only.split(",") if k] or None
    unknown = set(only or []) - set(KINDS)
    if unknown:
        parser.error(f"unknown trainer(s): {', '.join(sorted(unknown))}")
    print(json.dumps(run_training_benchmarks(only), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
