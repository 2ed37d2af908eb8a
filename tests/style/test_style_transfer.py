"""`artflow train style --quick` and `style.transfer`: any size, tiling with shared statistics,
strength, colour preservation, alpha, and no TensorFlow on the node path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from artflow import models as runtime
from artflow.models.card import read_card

from .conftest import run_node, save_png


def photo(h: int, w: int, seed: int = 0) -> np.ndarray:
    """A smooth colourful test picture with some edges."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    rng = np.random.default_rng(seed)
    img = np.stack([0.5 + 0.4 * np.sin(xx / (7 + 5 * k) + yy / (11 + 3 * k) + rng.uniform(0, 6))
                    for k in range(3)], axis=-1)
    img[h // 3: h // 2, w // 4: w // 2] = [0.9, 0.2, 0.1]
    return img.astype(np.float32)


def test_quick_training_writes_a_style_model(quick_style: Path):
    # its time is a benchmark figure (benchmarks/train_bench.py; pytest lists the slowest tests)
    for name in ("blocks.onnx", "blocks.keras", "blocks_style.png", "samples.png", "loss_curve.png",
                 "metrics.json"):
        assert (quick_style / name).is_file(), name
    card = read_card(quick_style / "blocks.onnx")
    assert card is not None and card.kind == "style"
    assert card.extra["style_image"] == "blocks_style.png"
    assert card.metrics["parity_max_abs_diff"] <= 1e-4
    for key in ("astronaut_gram_ratio", "astronaut_edge_corr", "coffee_gram_ratio", "coffee_edge_corr"):
        assert key in card.metrics
    assert "--quick" in card.training["command"]
    summary = json.loads((quick_style / "metrics.json").read_text())
    assert summary["history"]["loss"]


@pytest.mark.parametrize(("h", "w"), [(64, 64), (67, 101), (130, 64), (20, 30)])
def test_style_transfer_keeps_any_image_size(quick_style: Path, tmp_path: Path, h: int, w: int):
    save_png(tmp_path / "in.png", photo(h, w))
    out = run_node("style.transfer", tmp_path / "in.png", style=str(quick_style / "blocks.onnx"))["image"]
    assert out.shape == (1, h, w, 3)
    assert out.dtype == np.float32 and 0.0 <= out.min() and out.max() <= 1.0


def test_tiles_with_shared_statistics_match_the_whole_image(quick_style: Path):
    from artflow_style.transfer import stylize

    session = runtime.get_session(quick_style / "blocks.onnx", "cpu")
    image = photo(384, 384)
    whole = stylize(session, image, max_whole=1 << 30)
    tiled = stylize(session, image, max_whole=0, tile=128, overlap=64)
    assert float(np.mean(np.abs(whole - tiled))) <= 0.02
    assert float(np.max(np.abs(whole - tiled))) <= 0.1  # no seam


def test_strength_zero_returns_the_photo_and_preserve_color_keeps_its_chroma(quick_style: Path):
    from artflow_style.transfer import LUMA, stylize

    session = runtime.get_session(quick_style / "blocks.onnx", "cpu")
    image = photo(96, 96, seed=4) * 0.6 + 0.2
    assert np.allclose(stylize(session, image, strength=0.0), image, atol=1e-6)
    kept = stylize(session, image, preserve_color=True)
    inside = np.all((kept > 0.001) & (kept < 0.999), axis=-1)
    chroma_in = image - (image @ LUMA)[..., None]
    chroma_out = kept - (kept @ LUMA)[..., None]
    assert np.allclose(chroma_out[inside], chroma_in[inside], atol=1e-5)
    assert not np.allclose(kept, image, atol=0.02)  # the luminance did change


def test_alpha_is_kept(quick_style: Path):
    from artflow_style.transfer import stylize

    session = runtime.get_session(quick_style / "blocks.onnx", "cpu")
    alpha = np.linspace(0, 1, 64 * 80, dtype=np.float32).reshape(64, 80, 1)
    rgba = np.concatenate([photo(64, 80), alpha], -1)
    out = stylize(session, rgba)
    assert out.shape == (64, 80, 4) and np.array_equal(out[..., 3], rgba[..., 3])


def test_a_classifier_model_is_refused_as_a_style(tmp_path: Path):
    import artflow_classifier

    from artflow.errors import ModelError

    digits = Path(artflow_classifier.__file__).parent / "models" / "digits.onnx"
    save_png(tmp_path / "in.png", photo(64, 64))
    with pytest.raises(ModelError, match="is a classifier model, not a style model"):  # refused by the plan
        run_node("style.transfer", tmp_path / "in.png", style=str(digits))


def test_node_path_imports_no_tensorflow(quick_style: Path, tmp_path: Path):
    save_png(tmp_path / "in.png", photo(64, 64))
    code = (
        "import sys, artflow as af\n"
        "from artflow.engine import Engine\nfrom artflow.cache import Cache\n"
        f"g = af.Graph(seed=1)\nimg = g.add('image.load', path={str(tmp_path / 'in.png')!r})\n"
        f"g.add('style.transfer', image=img, style={str(quick_style / 'blocks.onnx')!r},\n"
        "      max_whole=0, tile=64)\n"
        "assert Engine(Cache(disk=False)).run(g, use_cache=False).ok\n"
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'TF imported'\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-1500:]


def test_fine_tuning_from_a_model_with_the_colour_term(quick_style: Path, tmp_path: Path):
    """--init starts from a saved NAME.keras; --color-weight is logged and recorded in the card."""
    exe = Path(sys.executable).parent / "artflow"
    proc = subprocess.run([str(exe), "train", "style", "--style", str(quick_style / "blocks_style.png"),
                           "--quick", "--steps", "4", "--init", str(quick_style / "blocks.keras"),
                           "--color-weight", "2", "-o", str(tmp_path / "tuned"), "--name", "tuned"],
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    card = read_card(tmp_path / "tuned" / "tuned.onnx")
    assert card is not None and card.kind == "style"
    assert card.training["settings"]["color_weight"] == 2.0
    assert card.training["settings"]["init"].endswith("blocks.keras")
    assert "--init" in card.training["command"]


def test_edge_term_is_the_edge_correlation_metric():
    """The trainer's --edge-weight term computes metrics.edge_correlation (per image) in TensorFlow."""
    import tensorflow as tf
    from artflow_style.metrics import edge_correlation
    from artflow_style.train import _edge_correlation

    a, b = photo(96, 80, seed=1), photo(96, 80, seed=2)
    b[::7] = 0.0  # lines the other picture lacks
    got = _edge_correlation(tf.constant(np.stack([a, a])), tf.constant(np.stack([b, a]))).numpy()
    assert got[0] == pytest.approx(edge_correlation(a, b), abs=2e-3)
    assert got[1] == pytest.approx(1.0, abs=1e-5)


def test_edge_and_tone_terms_are_logged_and_recorded(quick_style: Path, tmp_path: Path):
    exe = Path(sys.executable).parent / "artflow"
    proc = subprocess.run([str(exe), "train", "style", "--style", str(quick_style / "blocks_style.png"),
                           "--quick", "--steps", "4", "--edge-weight", "2", "--tone-weight", "10",
                           "-o", str(tmp_path / "run"), "--name", "edges"],
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    summary = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert summary["settings"]["edge_weight"] == 2.0 and summary["settings"]["tone_weight"] == 10.0
    assert summary["history"]["edge"] and summary["history"]["tone"]
