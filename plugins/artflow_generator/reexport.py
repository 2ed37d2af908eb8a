"""Refresh a shipped generator: export its NAME.keras again, or add measurements to its card.

``reexport(NAME)`` converts the shipped NAME.keras again with the current exporter (same weights,
same card and metrics; a new parity check and versions), for when the export path improves.

``remeasure(NAME)`` adds FID in the pretrained VGG16's features (``fid_vgg*``, see
evaluation.backbone_fids) to the shipped model's card: 1000 samples drawn through ONNX Runtime
(as the trainer draws them: z from seed 1, classes cycling) against the trainer's held-out real
set, with real-vs-real and train-vs-held-out beside it; the weights are not touched.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from artflow.errors import ModelError
from artflow.shipping import carded, rewrite_card

from . import MODELS_DIR


def reexport(name: str) -> Path:
    """Export the shipped ``NAME.keras`` (the generator with its [0, 1] output) again into
    ``NAME.onnx`` through :func:`networks.fast_forward`, keeping the card; returns the path."""
    import keras
    import tensorflow as tf

    from artflow.train.exporter import export_function

    from .networks import fast_forward

    target = MODELS_DIR / f"{name}.onnx"
    card = carded(target, "generator")
    model = keras.models.load_model(target.with_suffix(".keras"), compile=False)
    fast = fast_forward(model) or model
    conditional = len(model.inputs) > 1
    sig = [tf.TensorSpec([None, int(model.inputs[0].shape[-1])], tf.float32, name="z")]
    if conditional:
        sig.append(tf.TensorSpec([None, 1], tf.int32, name="label"))

    def wrap(net: Any) -> Any:
        def fn(*args: tf.Tensor) -> dict[str, tf.Tensor]:
            out = net(*args) if net is fast else net(list(args) if conditional else args[0], training=False)
            return {"image": tf.clip_by_value(out, 0.0, 1.0)}
        return fn

    rng = np.random.default_rng(0)
    real = {"z": rng.standard_normal((64, sig[0].shape[-1])).astype(np.float32)}
    if conditional:
        real["label"] = (np.arange(64) % len(card.labels)).astype(np.int32)[:, None]
    card.extra["reexported"] = f"python -m artflow_generator.ship --reexport {name}"
    export_function(wrap(fast), sig, target, card, reference=wrap(model), real_inputs=real)
    return target


def remeasure(name: str) -> Path:
    """Write FID in the pretrained backbone's features into the shipped NAME's card (see module doc)."""
    from artflow import models as runtime

    from . import evaluation
    from .train import EVAL_COUNT, _load

    target = MODELS_DIR / f"{name}.onnx"
    card = carded(target, "generator")
    dataset = {"art": "art", "digits": "digits"}.get(name)
    if dataset is None:
        raise ModelError(f"--remeasure knows the data of 'art' and 'digits' only, not '{name}'")
    session = runtime.get_session(target, "cpu")
    size = int(session.input_shapes["z"][-1] or card.latent_size)
    data, held_out = _load(dataset, None, 64 if dataset == "art" else 8, 3 if dataset == "art" else 1,
                           int(card.training.get("seed", 0)), False)
    z = np.random.default_rng(int(card.training.get("seed", 0)) + 1).standard_normal((EVAL_COUNT, size))
    feeds = {"z": z.astype(np.float32)}
    if "label" in session.input_names:
        labels = (np.arange(EVAL_COUNT) % len(card.labels)).astype(np.int32)
        feeds["label"] = labels[:, None] if len(session.input_shapes["label"]) == 2 else labels
    samples = session.run_batched(feeds)["image"]
    card.metrics.update(evaluation.backbone_fids(samples, held_out.images, data.images))
    card.extra["remeasured"] = f"python -m artflow_generator.ship --remeasure {name}"
    return rewrite_card(target, card)
