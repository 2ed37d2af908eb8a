"""The two custom Keras layers of UpscalerJS' ESRGAN-thick models (idealo's RRDN), which
`artflow import tfjs` builds from the model.json through ``register_import_layers``:

- ``MultiplyBeta``: the residual scaling of each dense block (``x * beta``, beta 0.2);
- ``PixelShuffle2x`` … ``PixelShuffle8x``: depth to space (sub-pixel convolution), TF.js'
  ``tf.depthToSpace(x, scale, 'NHWC')``, i.e. TensorFlow's ``tf.nn.depth_to_space`` (DCR order).

Keras is imported when a layer is first built (during an import), never with the plugin.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

SCALES = (2, 3, 4, 8)
BETA = 0.2


@cache
def layer_classes() -> dict[str, type]:
    """The Keras layer classes, made once (Keras imported here)."""
    import keras
    import tensorflow as tf

    class MultiplyBeta(keras.layers.Layer):
        """Scales its input by ``beta`` (the residual scaling of RRDN's dense blocks)."""

        def __init__(self, beta: float = BETA, **kwargs: Any):
            super().__init__(**kwargs)
            self.beta = float(beta)

        def call(self, x: Any) -> Any:
            return x * self.beta

        def get_config(self) -> dict[str, Any]:
            return {**super().get_config(), "beta": self.beta}

    class PixelShuffle(keras.layers.Layer):
        """Depth to space by ``scale`` (NHWC, DCR order): (H, W, C·s²) → (H·s, W·s, C)."""

        def __init__(self, scale: int = 2, **kwargs: Any):
            super().__init__(**kwargs)
            self.scale = int(scale)

        def call(self, x: Any) -> Any:
            return tf.nn.depth_to_space(x, self.scale, data_format="NHWC")

        def compute_output_shape(self, shape: tuple[Any, ...]) -> tuple[Any, ...]:
            s = self.scale
            return (shape[0], None if shape[1] is None else shape[1] * s,
                    None if shape[2] is None else shape[2] * s, shape[3] // (s * s))

        def get_config(self) -> dict[str, Any]:
            return {**super().get_config(), "scale": self.scale}

    return {"MultiplyBeta": MultiplyBeta, "PixelShuffle": PixelShuffle}


def _common(config: dict[str, Any]) -> dict[str, Any]:
    return {k: config[k] for k in ("name", "trainable", "dtype") if k in config}


def build_multiply_beta(config: dict[str, Any]) -> Any:
    """A ``MultiplyBeta`` layer from its model.json config. UpscalerJS' own layer multiplies by 0.2
    whatever the config says, so a config asking for another beta is refused, not followed."""
    beta = config.get("beta", BETA)
    if beta != BETA:
        raise ValueError(f"MultiplyBeta with beta {beta!r}: UpscalerJS' layer always multiplies by {BETA}")
    return layer_classes()["MultiplyBeta"](beta=BETA, **_common(config))


def pixel_shuffle_builder(scale: int) -> Callable[[dict[str, Any]], Any]:
    """The builder of ``PixelShuffle{scale}x``; a config whose own ``scale`` disagrees is refused."""

    def build(config: dict[str, Any]) -> Any:
        given = config.get("scale", scale)
        if given != scale:
            raise ValueError(f"PixelShuffle{scale}x has scale {given!r} in its config; it must be {scale}")
        return layer_classes()["PixelShuffle"](scale=scale, **_common(config))

    build.__doc__ = f"A ``PixelShuffle{scale}x`` layer (depth to space by {scale}) from its config."
    return build


def import_layers() -> dict[str, Callable[[dict[str, Any]], Any]]:
    """Class name in a model.json → builder, as ``register_import_layers`` hands them over."""
    return {"MultiplyBeta": build_multiply_beta,
            **{f"PixelShuffle{s}x": pixel_shuffle_builder(s) for s in SCALES}}
