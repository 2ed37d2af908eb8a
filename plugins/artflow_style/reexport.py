"""Export shipped styles again from their ``NAME.keras`` with the current export path.

    python -m artflow_style.reexport glass flow halftone marble

Same weights, same card (training command, data, seed, held-out metrics); a fresh parity check
against the network's training-form function, which proves the export's rewrites exact (see
:func:`artflow_style.network.reference_function`), and the current library versions. The manifest's
sha256 for each model is recorded again (artflow.shipping.reship). Needs the ``train`` extra.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from artflow import shipping
from artflow.models import file_sha256

from . import MODELS_DIR


def reexport(name: str) -> Path:
    """Rewrite ``models/NAME.onnx`` from ``models/NAME.keras``; returns its path."""
    import keras
    import tensorflow as tf

    from artflow.train.exporter import export_function

    from . import data
    from .network import inference_function, reference_function

    target = MODELS_DIR / f"{name}.onnx"
    card = shipping.carded(target, "style")
    net = keras.models.load_model(target.with_suffix(".keras"), compile=False)
    probe = next(iter(data.heldout_photos().values()))[None, :256, :256].astype(np.float32)
    _, stats = net.forward(tf.constant(probe))
    real = {"image": probe, "stats": stats.numpy().astype(np.float32), "shared": np.zeros([1], np.float32)}
    fn, signature = inference_function(net)
    card.extra["reexported"] = f"python -m artflow_style.reexport {name}"
    export_function(fn, signature, target, card, real_inputs=real, random_batches=1,
                    reference=reference_function(net))
    shipping.reship(__package__, target, kind="style")
    return target


if __name__ == "__main__":
    for style in sys.argv[1:]:
        path = reexport(style)
        print(f"{style}: {file_sha256(path)[:12]}")
