"""The convolutional autoencoder (Keras; TensorFlow): encoder and decoder as two models.

    encoder, decoder = build_autoencoder(latent_channels=12)
    z = encoder(x)          # x: NHWC RGB in [0, 1], sides a multiple of 4 → z: (N, H/4, W/4, c)
    y = decoder(z)          # → (N, H, W, 3) in [0, 1]

Encoder: 3×3 convs (32, then stride 2 to 64, 64, stride 2 to 96, 96), ReLU, and a linear 1×1 conv
to ``c`` channels. Decoder: the mirror image with nearest ×2 upsampling (no transposed convs, so
no checkerboard) and a sigmoid RGB head. Every conv is "same"-padded: fully convolutional.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import layers

WIDTHS = (32, 64, 96)
FACTOR = 4


def build_autoencoder(latent_channels: int = 12, widths: tuple[int, int, int] = WIDTHS) -> tuple[Any, Any]:
    """(encoder, decoder) Keras models on any spatial size (multiples of 4)."""
    w1, w2, w3 = widths

    def conv(filters: int, stride: int = 1, activation: str | None = "relu", size: int = 3) -> Any:
        return layers.Conv2D(filters, size, strides=stride, padding="same", activation=activation)

    x = keras.Input((None, None, 3), name="image")
    h = conv(w1)(x)
    h = conv(w2, 2)(h)
    h = conv(w2)(h)
    h = conv(w3, 2)(h)
    h = conv(w3)(h)
    z = conv(latent_channels, activation=None, size=1)(h)
    encoder = keras.Model(x, z, name="encoder")

    zi = keras.Input((None, None, latent_channels), name="latent")
    h = conv(w3)(zi)
    h = conv(w3)(h)
    h = layers.UpSampling2D(2, interpolation="nearest")(h)
    h = conv(w2)(h)
    h = conv(w2)(h)
    h = layers.UpSampling2D(2, interpolation="nearest")(h)
    h = conv(w1)(h)
    y = conv(3, activation="sigmoid")(h)
    decoder = keras.Model(zi, y, name="decoder")
    return encoder, decoder
