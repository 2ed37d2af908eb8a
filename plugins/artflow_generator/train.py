"""`artflow train gan`: train a DCGAN on a folder of images or a built-in data set, export the
(EMA) generator to a parity-checked ONNX file with its card, and measure its samples.

TensorFlow is imported inside :func:`train_gan` only, so building this command is light.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click
import numpy as np

from artflow.train.trainer import TrainRun, image_grid, trainer_command

from .datasets import ImageSet

DATASETS = ("digits", "art", "textures")
# Full-quality defaults per data set: image size, width, latent size, steps, batch.
DEFAULTS: dict[str, dict[str, int]] = {
    "digits": {"size": 8, "width": 32, "latent": 32, "steps": 6000, "batch": 64},
    "art": {"size": 64, "width": 16, "latent": 64, "steps": 10000, "batch": 32},  # shipped: 10,264
    "textures": {"size": 64, "width": 16, "latent": 64, "steps": 6000, "batch": 32},
    "images": {"size": 64, "width": 16, "latent": 64, "steps": 4000, "batch": 32},
}
# The digits recipe (small, conditional): transposed convolutions, logistic loss, dropout in D.
# Colour images: nearest-neighbour upsampling, spectral norm + minibatch-std in D, hinge loss and
# two time-scale learning rates (D 4x faster), which resists mode collapse on diverse colours; the
# generator draws a size/8 margin and crops it (GanConfig.crop), so no dark frame from zero padding.
DIGITS_RECIPE: dict[str, Any] = {}
COLOUR_RECIPE: dict[str, Any] = {"loss": "hinge", "lr_g": 1e-4, "lr_d": 4e-4, "beta1": 0.0, "beta2": 0.9}
QUICK = {"width": 8, "latent": 16, "steps": 40, "batch": 16}
EVAL_COUNT = 1000


def _load(dataset: str | None, images: str | None, size: int, channels: int, seed: int, quick: bool,
          ) -> tuple[ImageSet, ImageSet | None]:
    """Training images and held-out real images (for the Fréchet distance), both in [0, 1]."""
    from . import datasets as ds

    if images:
        data = ds.load_folder(images, size, channels)
        return data, None
    if dataset == "digits":
        return ds.digits_split()
    n = 256 if quick else 6000
    if dataset == "art":
        return ds.procedural_art(n, size, seed), ds.procedural_art(EVAL_COUNT if not quick else 64, size,
                                                                     seed + 10_000)
    if dataset == "textures":
        held = ds.texture_patches(EVAL_COUNT if not quick else 64, size, seed + 10_000, ds.TEXTURE_HELD_OUT)
        return ds.texture_patches(n, size, seed), held
    raise click.UsageError("give --images DIR or --dataset digits|art|textures")


@trainer_command("gan", help="""Train a DCGAN generator (exported as a generator ONNX model).

\b
Data: --images DIR (any folder of images, centre-cropped and resized to --size),
or --dataset digits (class-conditional, scikit-learn digits, 8x8 grey),
art (procedural Voronoi mosaics, flow fields, noise) or textures (scikit-image photo crops).
Length: --steps, or --epochs (passes over the data). --quick: a tiny model in seconds.
""")
@click.option("--images", type=click.Path(exists=True, file_okay=False), help="Folder of training images.")
@click.option("--dataset", type=click.Choice(DATASETS), help="A built-in data set instead of --images.")
@click.option("--size", type=click.IntRange(8, 256), help="Image size (8, 16, 32, 64, 128; default 64).")
@click.option("--gray", is_flag=True, help="Train on grey images (one channel).")
@click.option("--steps", type=click.IntRange(1), help="Training steps (default depends on the data).")
@click.option("--width", type=click.IntRange(4, 256), help="Channel width of the last generator layer.")
@click.option("--latent", type=click.IntRange(2, 1024), help="Latent size.")
@click.option("--max-minutes", type=click.FloatRange(0.1), help="Stop early after this many minutes.")
@click.option("--classifier", type=click.Path(exists=True, dir_okay=False),
              help="Digits classifier .onnx that judges --dataset digits samples "
                   "(default: the registered 'digits' classifier).")
@click.option("--resume", is_flag=True,
              help="Go on from OUT/checkpoints (networks, EMA, optimisers, step, RNG) up to --steps.")
@click.option("--weights", type=click.Choice(["ema", "raw"]), default="ema", show_default=True,
              help="Export the moving average of the generator's weights, or the trained weights "
                   "(batch-norm statistics re-estimated for either); the card records the other's FID.")
def train_gan(run: TrainRun, images: str | None, dataset: str | None, size: int | None, gray: bool,
              steps: int | None, width: int | None, latent: int | None, max_minutes: float | None,
              classifier: str | None, resume: bool, weights: str) -> None:
    """Train a DCGAN generator on a folder of images or a built-in data set."""
    import json
    import os

    state_file = run.checkpoint_dir / "gan_state.json"
    if resume and not state_file.is_file():
        raise click.ClickException(f"--resume: no checkpoint in '{run.checkpoint_dir}' (gan_state.json); "
                                   "train without --resume first")
    if bool(images) == bool(dataset):
        raise click.UsageError("give exactly one of --images DIR or --dataset digits|art|textures")
    key = dataset or "images"
    d = dict(DEFAULTS[key])
    if run.quick:
        d.update(QUICK)
        if key != "digits":
            d["size"] = 16
    if dataset == "digits" and size not in (None, 8):
        raise click.UsageError("--dataset digits is 8x8 (the digits classifier's input); leave out --size")
    size = size or d["size"]
    channels = 1 if (gray or dataset == "digits") else 3

    import keras  # noqa: F401 - fail early, with the framework's message, if the extra is missing

    from .gan_training import GanSettings, GanTrainer
    from .networks import GanConfig, inference_function, inference_model

    data, held_out = _load(dataset, images, size, channels, run.seed, run.quick)
    classes = data.classes
    batch = min(run.batch_size if _given("batch_size") else d["batch"], len(data.images))
    if steps is None and _given("epochs"):
        steps = max(1, run.epochs * (len(data.images) // batch))
    cfg = GanConfig(size=size, channels=channels, latent=latent or d["latent"], classes=classes,
                    width=width or d["width"], embed=16 if classes else 32,
                    spectral_norm=dataset != "digits", minibatch_std=dataset != "digits",
                    upsample="transpose" if dataset == "digits" else "nearest",
                    crop=0 if dataset == "digits" else size // 8)
    recipe = DIGITS_RECIPE if dataset == "digits" else COLOUR_RECIPE
    settings = GanSettings(steps=steps or d["steps"], batch=batch, flip=dataset != "digits", **recipe)
    if run.name == "gan" and dataset:
        run.name = dataset
    run.data = data.description
    run.settings.update({"architecture": cfg.to_dict(), **asdict(settings)})

    trainer = GanTrainer(cfg, settings, seed=run.seed)
    state: dict[str, Any] = {}
    if resume:
        state = json.loads(state_file.read_text())
        trainer.restore(str(run.checkpoint_dir / "gan"))
        run.history = {k: list(v) for k, v in state.get("history", {}).items()}
    first = int(state.get("step", 0))
    chain = [*state.get("chain", []), {"command": run.command, "from_step": first, "to_step": first,
                                        "seconds": 0.0}]

    def save_state(done: int) -> None:
        run.checkpoint_dir.mkdir(parents=True, exist_ok=True)
        trainer.save(str(run.checkpoint_dir / "gan"))
        chain[-1].update(to_step=done, seconds=round(time.time() - started, 1))
        tmp = run.checkpoint_dir / ".gan_state.tmp.json"
        tmp.write_text(json.dumps({"step": done, "chain": chain, "history": run.history}, default=float))
        os.replace(tmp, state_file)
    z_preview = np.random.default_rng(run.seed + 2).standard_normal((32, cfg.latent)).astype(np.float32)
    labels_preview = (np.arange(32) % classes).astype(np.int32) if classes else None
    bar = run.progress(settings.steps, desc=f"gan {run.name}")
    window: dict[str, list[float]] = {}
    every = max(1, settings.steps // 200)
    started = time.time()

    def on_step(step: int, row: dict[str, float]) -> None:
        bar.update(1)
        for k, v in row.items():
            window.setdefault(k, []).append(v)
        if (step + 1) % every == 0 or step + 1 == settings.steps:
            means = {k: float(np.mean(v)) for k, v in window.items() if k in ("d_loss", "g_loss")
                     or (classes and k in ("aux_real", "aux_fake"))}
            run.log(step, **means)
            bar.set_postfix({k: f"{v:.3f}" for k, v in means.items()}, refresh=False)
            window.clear()
        if not run.quick and (step + 1) % 500 == 0:
            save_state(step + 1)
            if (step + 1) % 1000 == 0:
                run.checkpoint(trainer.ema_generator)
            run.checkpoint_dir.mkdir(parents=True, exist_ok=True)
            preview = trainer.preview(z_preview, labels_preview)
            image_grid(preview, cols=8, cell=64).save(run.checkpoint_dir / f"samples_{step + 1:06d}.png")

    deadline = started + 60 * max_minutes if max_minutes else None
    history = trainer.fit(data, seed=run.seed, on_step=on_step, deadline=deadline, start=first)
    bar.close()
    save_state(first + len(history))
    run.settings["chain"] = chain
    run.metrics["steps_done"] = first + len(history)
    run.metrics["train_seconds"] = round(sum(c["seconds"] for c in chain), 1)
    run.settings["exported_weights"] = weights
    generator = trainer.export_generator(weights)
    run.save_model(inference_model(generator))

    fn, signature = inference_function(generator, cfg)
    rng = np.random.default_rng(run.seed + 1)
    z = rng.standard_normal((EVAL_COUNT if not run.quick else 64, cfg.latent)).astype(np.float32)
    labels = (np.arange(len(z)) % classes).astype(np.int32) if classes else None
    samples = trainer.sample(z, labels, generator=generator)
    _measure(run, samples, labels, data, held_out, classes, classifier)
    _measure_other(run, trainer, "raw" if weights == "ema" else "ema", z, labels, held_out)
    card = _card(run, cfg, data, weights)
    real = {"z": z[:64], "label": labels[:64, None]} if classes else {"z": z[:64]}
    reference, _ = inference_function(generator, cfg, fast=False)
    run.export_function(fn, signature, card, real_inputs=real, reference=reference)
    shown = samples[:100] if classes else samples[:64]
    run.save_samples(shown, cols=10 if classes else 8, cell=48 if size <= 16 else 96)


def _given(param: str) -> bool:
    """Whether a framework option was given on the command line (not left at its default)."""
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return False
    source = ctx.get_parameter_source(param)
    return source is not None and source.name not in ("DEFAULT", "DEFAULT_MAP")


def _measure_other(run: TrainRun, trainer: Any, other: str, z: np.ndarray, labels: np.ndarray | None,
                   held_out: ImageSet | None) -> None:
    """FID in the pretrained backbone's features of the generator not exported (``fid_vgg_raw`` or
    ``fid_vgg_ema``), on the same latents, so the card shows what the choice of weights gave."""
    from . import evaluation

    if held_out is None or evaluation.backbone_model() is None:
        return
    samples = trainer.sample(z, labels, generator=trainer.export_generator(other))
    real = evaluation.backbone_features(held_out.images)
    gen = evaluation.backbone_features(samples)
    run.metrics[f"fid_vgg_{other}"] = round(evaluation.frechet_distance(gen, real), 3)


def _card(run: TrainRun, cfg: Any, data: ImageSet, weights: str = "ema") -> Any:
    from artflow.models.card import InputSpec

    inputs = [InputSpec("z", layout="NC", size=None, channels=cfg.latent, range=[-4.0, 4.0],
                        dtype="float32", color="", mean=[0.0], std=[1.0])]
    if cfg.classes:
        inputs.append(InputSpec("label", layout="NC", size=None, channels=1,
                                range=[0.0, float(cfg.classes)], dtype="int32", color=""))
    colour = "grey" if cfg.channels == 1 else "RGB"
    return run.card(
        kind="generator",
        inputs=inputs,
        outputs={"image": f"generated images, float32 NHWC {cfg.size}x{cfg.size}x{cfg.channels} "
                          f"({colour}) in [0, 1]"},
        labels=list(data.class_names),
        latent_size=cfg.latent,
        description=(f"DCGAN generator, {cfg.size}x{cfg.size} {colour}"
                     + (f", conditional on {cfg.classes} classes" if cfg.classes else "")
                     + f"; trained on {data.description}"),
        extra={"image_size": [cfg.size, cfg.size], "channels": cfg.channels, "architecture": cfg.to_dict(),
               "latent_distribution": "standard normal; truncation scales z toward 0",
               "exported_weights": ("exponential moving average of the generator" if weights == "ema" else
                                    "the trained generator (not the moving average)")
                                   + "; batch-norm statistics re-estimated from 50 batches of samples"},
    )


def _measure(run: TrainRun, samples: np.ndarray, labels: np.ndarray | None, data: ImageSet,
             held_out: ImageSet | None, classes: int, classifier: str | None = None) -> None:
    """Record sample-quality metrics: classifiability and classifier-feature FID for digits,
    random-conv FID for colour sets, and FID in the pretrained VGG16's features for both when the
    backbone ONNX is registered (see artflow_generator.evaluation)."""
    from . import evaluation

    if held_out is not None and evaluation.backbone_model() is not None:
        run.metrics.update(evaluation.backbone_fids(samples, held_out.images, data.images))
    if classes and held_out is not None and samples.shape[-1] == 1 and samples.shape[1] == 8:
        metrics = evaluation.digits_metrics(samples, labels, held_out, data, classifier)
        run.metrics.update(metrics)
        if metrics:
            source = Path(classifier).name if classifier else "registered 'digits' classifier"
            run.metrics["judged_by"] = f"{source} (sha256 {metrics.pop('classifier_sha256', '')[:16]})"
        return
    if held_out is None or samples.shape[-1] != 3:
        return
    gen = evaluation.random_conv_features(samples)
    real = evaluation.random_conv_features(held_out.images)
    half = len(real) // 2
    run.metrics["fid_random_conv"] = round(evaluation.frechet_distance(gen, real), 4)
    run.metrics["fid_random_conv_real_vs_real"] = round(
        evaluation.frechet_distance(real[:half], real[half:]), 4)
    train = evaluation.random_conv_features(data.images[: len(real)])
    run.metrics["fid_random_conv_train_vs_held_out"] = round(evaluation.frechet_distance(train, real), 4)
    run.metrics["fid_feature_space"] = ("random-conv (artflow_generator.evaluation.random_conv_features, "
                                        f"seed {evaluation.RANDOM_CONV_SEED}); {len(gen)} samples vs "
                                        f"{len(real)} held-out real")
