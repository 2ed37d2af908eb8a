"""`artflow train autoencoder --quick` and the ae.encode / ae.decode / ae.blend nodes through the
engine: any size, LATENT_MAP in between, blend frames from one image to the other, no TensorFlow."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import artflow as af
from artflow.models.card import read_card
from artflow.shipping import shipped_models

pytest.importorskip("tf2onnx")


@pytest.fixture(scope="module")
def quick_ae(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`artflow train autoencoder --quick`, then `--resume` to 24 steps; the folder it wrote."""
    out = tmp_path_factory.mktemp("ae") / "run"
    exe = Path(sys.executable).parent / "artflow"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    for extra in ([], ["--steps", "24", "--resume"]):
        proc = subprocess.run([str(exe), "train", "autoencoder", "--quick", "-o", str(out), *extra],
                              capture_output=True, text=True, timeout=300, env=env)
        assert proc.returncode == 0, proc.stderr[-2000:]
    return out


def _png(path: Path, h: int, w: int, seed: int) -> Path:
    from artflow.imaging import to_pil

    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.stack([0.5 + 0.4 * np.sin(xx / (5 + 4 * k) + yy / (9 + k) + rng.uniform(0, 6))
                    for k in range(3)], -1)
    to_pil(img).save(path)
    return path


def test_quick_training_writes_the_encoder_decoder_pair_with_cards_and_the_chain(quick_ae: Path):
    enc, dec = read_card(quick_ae / "photo_encoder.onnx"), read_card(quick_ae / "photo_decoder.onnx")
    assert enc.kind == "ae_encoder" and dec.kind == "ae_decoder"
    assert enc.extra["factor"] == 4 and dec.inputs[0].channels == enc.extra["latent_channels"]
    assert enc.metrics["psnr"] > 0 and enc.metrics["parity_max_abs_diff"] <= 1e-3
    chain = enc.training["settings"]["chain"]
    assert [(c["from_step"], c["to_step"]) for c in chain] == [(0, 20), (20, 24)]
    assert json.loads((quick_ae / "metrics.json").read_text())["history"]["pixel"]


def test_encode_decode_and_blend_through_the_engine(quick_ae: Path, tmp_path: Path):
    enc, dec = str(quick_ae / "photo_encoder.onnx"), str(quick_ae / "photo_decoder.onnx")
    a, b = _png(tmp_path / "a.png", 37, 50, 1), _png(tmp_path / "b.png", 64, 64, 2)
    g = af.Graph(seed=0)
    img_a, img_b = g.add("image.load", path=str(a)), g.add("image.load", path=str(b))
    z = g.add("ae.encode", image=img_a, encoder=enc)
    back = g.add("ae.decode", latent=z, decoder=dec)
    blend = g.add("ae.blend", a=img_a, b=img_b, encoder=enc, decoder=dec, frames=5)
    run = g.run(output_dir=tmp_path / "out")
    latent = run[z]
    assert latent.dtype == np.float32 and latent.shape[:3] == (1, 10, 13)  # ceil(37/4), ceil(50/4)
    assert run[back].shape == (1, 40, 52, 3)
    frames = run[blend]
    assert frames.shape == (5, 37, 50, 3) and 0.0 <= frames.min() and frames.max() <= 1.0
    # the first frame is a's reconstruction, the last b's (resized to a's size): they differ
    assert np.abs(frames[0] - frames[-1]).mean() > 0.01
    step = [float(np.abs(frames[i + 1] - frames[i]).mean()) for i in range(4)]
    assert max(step) < 3 * min(step) + 1e-3  # an even walk, no jump


def test_nodes_import_no_tensorflow(quick_ae: Path, tmp_path: Path):
    a = _png(tmp_path / "a.png", 32, 32, 3)
    code = (
        "import sys, artflow as af\n"
        f"g = af.Graph(seed=1)\nimg = g.add('image.load', path={str(a)!r})\n"
        f"z = g.add('ae.encode', image=img, encoder={str(quick_ae / 'photo_encoder.onnx')!r})\n"
        f"g.add('ae.decode', latent=z, decoder={str(quick_ae / 'photo_decoder.onnx')!r})\n"
        f"g.run(output_dir={str(tmp_path / 'o')!r})\n"
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'TF imported'\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-1500:]


def test_the_shipped_photo_autoencoder_reconstructs_held_out_photos_at_24_db_or_more(tmp_path: Path):
    import artflow_autoencoder

    from artflow.plugins import get_plugins

    entries = {e["kind"]: e for e in shipped_models("artflow_autoencoder") if e["name"] == "photo"}
    assert set(entries) == {"ae_encoder", "ae_decoder"}
    card = read_card(artflow_autoencoder.MODELS_DIR / entries["ae_encoder"]["file"])
    assert card.metrics["psnr"] >= 24.0 and min(card.metrics[f"psnr_{p}"] for p in
                                               ("astronaut", "coffee", "chelsea", "rocket")) >= 24.0
    assert get_plugins().models.resolve("photo", "ae_decoder").sha256 == entries["ae_decoder"]["sha256"]
    # a held-out crop through the registered pair by default, in the engine
    import skimage.data

    from artflow.imaging import load_image, to_pil

    to_pil(skimage.data.coffee()[100:228, 200:328]).save(tmp_path / "crop.png")
    g = af.Graph(seed=0)
    src = g.add("image.load", path=str(tmp_path / "crop.png"))
    back = g.add("ae.decode", latent=g.add("ae.encode", image=src))
    out = g.run(output_dir=tmp_path / "out")[back][0]
    crop = load_image(tmp_path / "crop.png", keep_alpha=False)[..., :3]
    psnr = 10 * np.log10(1.0 / float(np.mean((out - crop) ** 2)))
    assert psnr >= 24.0, psnr
