"""Export a shipped detector's ``.keras`` again with the current export code (Resize upsampling),
keeping its card (training record, metrics measured through ONNX Runtime) and re-checking parity;
the outputs agree with the old file's within the parity tolerance.

    python -m artflow_detector.ship --reexport /tmp/det_full/shapes.onnx   # then ship it
"""

from __future__ import annotations

from pathlib import Path

from artflow.shipping import carded


def reexport(path: Path) -> Path:
    """Export ``path``'s sibling ``.keras`` again into ``path``, keeping the card (see module doc)."""
    import keras
    import numpy as np
    import tensorflow as tf

    from artflow.train.exporter import export_function

    from .model import build_network, decode

    card = carded(path, "detector")
    trained = keras.models.load_model(path.with_suffix(".keras"), compile=False)
    size = int(card.inputs[0].size[0]) if card.inputs and card.inputs[0].size else 128
    width = "tiny" if trained.name.endswith("tiny") else "full"
    net = build_network(size, len(card.labels), width, upsample="resize")
    net.set_weights(trained.get_weights())
    old = {k: v for k, v in card.metrics.items() if k.startswith("parity")}
    card.metrics = {k: v for k, v in card.metrics.items() if not k.startswith("parity")}
    card.extra["reexported"] = f"from {path.with_suffix('.keras').name}; parity before: {old}"
    sig = [tf.TensorSpec([None, size, size, 3], tf.float32, name="image")]
    real = np.random.default_rng(0).random((8, size, size, 3), dtype=np.float32)
    export_function(lambda im: decode(net(im, training=False), len(card.labels), size), sig, path, card,
                    real_inputs=real)
    return path
