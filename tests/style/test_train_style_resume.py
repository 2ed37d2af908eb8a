"""`artflow train style` with the pretrained loss network: other style statistics, the colour term,
the colour metric, and `--resume` continuing a run with the chain recorded in the card."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from artflow.models.card import read_card


def _train(*args: str) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).parent / "artflow"
    return subprocess.run([str(exe), "train", "style", *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})


def test_resume_goes_on_from_the_checkpoint_and_the_card_records_the_chain(quick_style: Path, tmp_path: Path):
    style = str(quick_style / "blocks_style.png")
    out = tmp_path / "run"
    common = ["--style", style, "--quick", "-o", str(out), "--name", "chain", "--style-stats", "sw",
              "--hist-weight", "1"]
    first = _train(*common, "--steps", "3")
    assert first.returncode == 0, first.stderr[-2000:]
    state = json.loads((out / "checkpoints" / "state.json").read_text())
    assert state["step"] == 3 and (out / "checkpoints" / "optimizer.npz").is_file()

    second = _train(*common, "--steps", "5", "--resume")
    assert second.returncode == 0, second.stderr[-2000:]
    card = read_card(out / "chain.onnx")
    settings = card.training["settings"]
    assert settings["steps_done"] == 5
    assert [(c["from_step"], c["to_step"]) for c in settings["chain"]] == [(0, 3), (3, 5)]
    assert "--resume" in settings["chain"][1]["command"] and "--resume" not in settings["chain"][0]["command"]
    assert settings["style_stats"] == "sw" and settings["hist_weight"] == 1.0
    assert settings["loss_network"]["kind"] == "vgg16"
    assert "hist" in json.loads((out / "metrics.json").read_text())["history"]
    for photo in ("astronaut", "coffee", "chelsea", "rocket"):
        assert 0.0 <= card.metrics[f"{photo}_color_ratio"] < 3.0


def test_resume_without_a_checkpoint_is_one_line(tmp_path: Path, quick_style: Path):
    proc = _train("--style", str(quick_style / "blocks_style.png"), "--quick", "-o", str(tmp_path / "none"),
                  "--resume")
    assert proc.returncode != 0
    assert "--resume: no checkpoint in" in proc.stderr and "Traceback" not in proc.stderr


def test_color_ratio_is_one_for_the_photo_and_zero_for_the_style_itself():
    from artflow_style.metrics import color_histogram, color_ratio

    rng = np.random.default_rng(0)
    photo = rng.uniform(0, 0.5, (32, 32, 3)).astype(np.float32)
    style = rng.uniform(0.5, 1.0, (40, 24, 3)).astype(np.float32)
    assert color_histogram(photo).sum() == 1.0
    assert color_ratio(photo, photo, style) == 1.0
    assert color_ratio(style, photo, style) == 0.0


def test_resume_restores_the_optimizer_state_but_keeps_this_runs_learning_rate(tmp_path: Path):
    """A leg resumed with another --lr trains at that rate (the saved Adam variables include the
    learning rate, which used to overwrite it silently while the card recorded the new one)."""
    import pytest

    keras = pytest.importorskip("keras")
    from artflow_style.network import build_network

    from artflow.train.loop import ResumableTraining

    class Run:
        checkpoint_dir = tmp_path
        history: dict = {}

        def checkpoint(self, net: object, name: str) -> None:
            net.save(tmp_path / f"{name}.keras")

    net = build_network((4, 4, 4), 1)
    opt = keras.optimizers.Adam(2e-3)
    opt.build(net.trainable_variables)
    opt.iterations.assign(7)
    saving = ResumableTraining(Run(), {"last": net}, opt, net.trainable_variables, np.random.default_rng(0))
    saving.save({"step": 7})
    other = build_network((4, 4, 4), 1)
    resumed = keras.optimizers.Adam(5e-4)
    state = ResumableTraining(Run(), {"last": other}, resumed, other.trainable_variables,
                              np.random.default_rng(1)).resume()
    assert state["step"] == 7 and int(resumed.iterations.numpy()) == 7
    assert float(resumed.learning_rate.numpy()) == pytest.approx(5e-4)
    assert all(np.array_equal(a, b) for a, b in zip(other.get_weights(), net.get_weights(), strict=True))


def test_a_run_stopped_by_the_time_limit_says_so_and_how_to_go_on(quick_style: Path, tmp_path: Path):
    out = tmp_path / "limited"
    proc = _train("--style", str(quick_style / "blocks_style.png"), "--quick", "-o", str(out),
                  "--steps", "40", "--time-limit", "0.001")
    assert proc.returncode == 0, proc.stderr[-2000:]
    line = next(x for x in proc.stderr.splitlines() if x.startswith("stopped at --time-limit"))
    assert "after step 1 of 40" in line and "--resume" in line and str(out) in line
    assert json.loads((out / "checkpoints" / "state.json").read_text())["step"] == 1
