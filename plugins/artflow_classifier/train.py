"""`artflow train classifier`: a small Keras CNN on a folder of images or a shipped dataset.

    artflow train classifier --images photos/ -o runs/mine      # photos/CLASS/*.png
    artflow train classifier --dataset digits -o runs/digits    # scikit-learn digits
    artflow train classifier --dataset shapes -o runs/shapes    # procedural shapes
    artflow train classifier --images photos/ --quick           # seconds: tiny model, 2 epochs

TensorFlow is imported when the command runs, never when the plugin loads. Augmentation layers
wrap the network only while training; the exported ONNX is the bare network
(``model(x, training=False)``), parity-checked by artflow.train.exporter.

``accuracy`` in metrics.json and the card is measured on data the model never trained on:
the stratified 20 % split (digits, folders) or held-out procedural images whose backgrounds
training never saw (shapes).
"""

from __future__ import annotations

from typing import Any

import click
import numpy as np

from artflow.train.trainer import TrainError, TrainRun, trainer_command

from .data import DIGITS_SEED, SHAPE_CLASSES, SHAPES_SIZE


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
def train_classifier(run: TrainRun, images: str | None, dataset: str | None, size: int | None, gray: bool,
                     train_images: int | None, heldout_images: int | None, workers: int) -> None:
    """Train an image classifier (one sub-folder per class, or --dataset digits|shapes)."""
    if bool(images) == bool(dataset):
        raise TrainError("give exactly one of --images DIR or --dataset digits|shapes")
    if dataset == "digits":
        _train_digits(run)
    elif dataset == "shapes":
        _train_shapes(run, train_images, heldout_images, workers)
    else:
        _train_folder(run, str(images), size, gray)


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
    model.fit(x, y, validation_data=(xv, yv), epochs=run.epochs, batch_size=run.batch_size, shuffle=True,
              callbacks=run.keras_callbacks(), verbose=0)
    return net


def _predict(net: Any, x: np.ndarray) -> np.ndarray:
    return np.asarray(net.predict(x, batch_size=256, verbose=0))


def _finish(run: TrainRun, net: Any, card_fields: dict[str, Any], x_eval: np.ndarray, y_eval: np.ndarray,
            labels: list[str]) -> None:
    probs = _predict(net, x_eval)
    pred = probs.argmax(-1)
    run.metrics["accuracy"] = float((pred == y_eval).mean())
    run.metrics["accuracy_images"] = int(len(y_eval))
    run.metrics["errors"] = int((pred != y_eval).sum())
    run.save_model(net)
    card = run.card(labels=labels, **card_fields)
    run.export(net, card, real_inputs=x_eval, real_limit=512)
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
