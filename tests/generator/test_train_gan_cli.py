"""`artflow train gan --quick` end to end: writes its files, and its ONNX runs through the node."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import artflow as af

pytestmark = pytest.mark.slow


def test_train_gan_on_a_folder_quick_finishes_and_its_onnx_runs_through_the_node(
        tmp_path: Path, artflow_cli) -> None:
    folder = tmp_path / "pictures"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(10):
        arr = (rng.random((24, 30, 3)) * 255).astype(np.uint8)
        Image.fromarray(arr).save(folder / f"p{i}.png")
    out = tmp_path / "run"
    done = artflow_cli("train", "gan", "--images", str(folder), "--quick", "-o", str(out), timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    for name in ("gan.keras", "gan.onnx", "loss_curve.png", "samples.png", "metrics.json"):
        assert (out / name).is_file(), name
    summary = json.loads((out / "metrics.json").read_text())
    assert summary["quick"] is True and summary["metrics"]["parity_max_abs_diff"] <= 1e-4
    assert summary["metrics"]["steps_done"] == 40  # --quick: a tiny run (≈20 s on an idle 2-core box)

    g = af.Graph(seed=1)
    ref = g.add("gan.generate", "gen", model=str(out / "gan.onnx"), count=3)
    walk = g.add("gan.interpolate", "walk", model=str(out / "gan.onnx"), frames=4)
    result = g.run(use_cache=False)
    assert result[ref["image"]].shape == (3, 16, 16, 3)
    assert result[walk["image"]].shape == (4, 16, 16, 3)

    # --resume goes on from the checkpoint the run left (networks, EMA, optimisers, step, RNG)
    more = artflow_cli("train", "gan", "--images", str(folder), "--quick", "-o", str(out), "--steps", "44",
                       "--resume", timeout=300)
    assert more.returncode == 0, more.stderr[-3000:]
    summary = json.loads((out / "metrics.json").read_text())
    assert summary["metrics"]["steps_done"] == 44
    assert [(c["from_step"], c["to_step"]) for c in summary["settings"]["chain"]] == [(0, 40), (40, 44)]
