"""The custom Keras layers of UpscalerJS' ESRGAN-thick (RRDN) TF.js layers models, for
`artflow import tfjs` (registered with ``register_import_layers``; Keras is imported only when a
layer is built):

- ``MultiplyBeta``: the residual scaling of each dense block, ``x * 0.2`` (UpscalerJS' own layer
  ignores its config and always uses 0.2; a config asking for another beta is refused);
- ``PixelShuffle{2,3,4,8}x``: depth-to-space by the scale in the class name, NHWC, DCR order
  (``tf.depthToSpace`` in TF.js, ``tf.nn.depth_to_space`` here, ONNX ``DepthToSpace`` mode DCR).

Wire it in the plugin's ``__init__``::

    @hookimpl
    def register_import_layers(register):
        from .import_layers import register_import_layers as layers
        layers(register)
"""

from __future__ import annotations

from typing import Any

BETA = 0.2
SCALES = (2, 3, 4, 8)


def multiply_beta(config: dict[str, Any]) -> Any:
    """A ``MultiplyBeta`` layer (x · 0.2) named as in the model.json."""
    import keras

    beta = config.get("beta", BETA)
    if beta != BETA:
        raise ValueError(f"MultiplyBeta with beta {beta!r}: UpscalerJS' layer always multiplies by {BETA}")

    class MultiplyBeta(keras.layers.Layer):
        def call(self, x: Any) -> Any:
            return x * BETA

    return MultiplyBeta(name=config.get("name"), dtype=config.get("dtype", "float32"))


def pixel_shuffle(scale: int) -> Any:
    """The builder of ``PixelShuffle{scale}x``: depth-to-space by ``scale`` (DCR, NHWC)."""

    def build(config: dict[str, Any]) -> Any:
        import keras
        import tensorflow as tf

        if config.get("scale", scale) != scale:
            raise ValueError(f"PixelShuffle{scale}x with scale {config.get('scale')!r}")

        class PixelShuffle(keras.layers.Layer):
            def call(self, x: Any) -> Any:
                return tf.nn.depth_to_space(x, scale, data_format="NHWC")

        return PixelShuffle(name=config.get("name"), dtype=config.get("dtype", "float32"))

    return build


def register_import_layers(register: Any) -> None:
    """``MultiplyBeta`` and ``PixelShuffle2x`` … ``PixelShuffle8x``."""
    register("MultiplyBeta", multiply_beta)
    for s in SCALES:
        register(f"PixelShuffle{s}x", pixel_shuffle(s))
