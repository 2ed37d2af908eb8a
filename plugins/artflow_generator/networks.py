"""DCGAN-style generator and discriminator in Keras, and the inference function that is exported.

The generator maps a latent ``z`` (and, for conditional models, an integer ``label``) to an image
in [-1, 1] (tanh). The exported function wraps it so the ONNX model returns ``image`` in [0, 1],
NHWC. Imports TensorFlow: used only by training and export, never on a render path.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import keras
import tensorflow as tf
from keras import layers


@dataclass(frozen=True)
class GanConfig:
    """Shape and width of a GAN: image size and channels, latent size, classes (0 = unconditional).

    ``upsample``: ``transpose`` (4×4 stride-2 transposed convolutions) or ``nearest`` (nearest-
    neighbour ×2 then a 3×3 convolution: no checkerboard artefacts). ``spectral_norm`` and
    ``minibatch_std`` (a batch-variation feature map, against mode collapse) shape the
    discriminator only.
    """

    size: int = 64
    channels: int = 3
    latent: int = 128
    classes: int = 0
    width: int = 32
    embed: int = 32
    spectral_norm: bool = False
    upsample: str = "transpose"
    minibatch_std: bool = False

    @property
    def upsamples(self) -> int:
        steps = math.log2(self.size / 4)
        if steps < 1 or not steps.is_integer():
            raise ValueError(f"image size must be 8, 16, 32, 64, 128 …, got {self.size}")
        return int(steps)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _widths(cfg: GanConfig) -> list[int]:
    """Channel widths from 4×4 up to full size: halving per step, never below 16."""
    n = cfg.upsamples
    return [max(16, min(512, cfg.width * 2 ** (n - i))) for i in range(n + 1)]


def build_generator(cfg: GanConfig) -> keras.Model:
    """z [N, latent] (+ label [N, 1] int32) → image [N, size, size, channels] in [-1, 1]."""
    widths = _widths(cfg)
    z = keras.Input((cfg.latent,), name="z")
    inputs: list[Any] = [z]
    h = z
    if cfg.classes:
        label = keras.Input((1,), dtype="int32", name="label")
        inputs.append(label)
        emb = layers.Embedding(cfg.classes, cfg.embed, name="label_embed")(label)
        h = layers.Concatenate()([z, layers.Flatten()(emb)])
    h = layers.Dense(4 * 4 * widths[0], use_bias=False)(h)
    h = layers.BatchNormalization()(h)
    h = layers.ReLU()(h)
    h = layers.Reshape((4, 4, widths[0]))(h)
    for w in widths[1:]:
        if cfg.upsample == "nearest":
            h = layers.UpSampling2D(2, interpolation="nearest")(h)
            h = layers.Conv2D(w, 3, padding="same", use_bias=False)(h)
        else:
            h = layers.Conv2DTranspose(w, 4, strides=2, padding="same", use_bias=False)(h)
        h = layers.BatchNormalization()(h)
        h = layers.ReLU()(h)
    if cfg.size <= 16:
        h = layers.Conv2D(widths[-1], 3, padding="same", use_bias=False)(h)
        h = layers.BatchNormalization()(h)
        h = layers.ReLU()(h)
    out = layers.Conv2D(cfg.channels, 3, padding="same", activation="tanh", name="rgb")(h)
    return keras.Model(inputs, out, name="generator")


class MinibatchStd(layers.Layer):
    """Appends the mean over features of the per-feature standard deviation across the batch as
    one more channel, so the discriminator can see a batch that lacks variety (ProGAN)."""

    def call(self, x: tf.Tensor) -> tf.Tensor:
        std = tf.sqrt(tf.math.reduce_variance(x, axis=0) + 1e-8)
        feat = tf.reduce_mean(std) * tf.ones_like(x[..., :1])
        return tf.concat([x, feat], axis=-1)

    def compute_output_shape(self, shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return (*shape[:-1], shape[-1] + 1)


def build_discriminator(cfg: GanConfig) -> keras.Model:
    """image [-1, 1] (+ label) → (real/fake logit [N], class logits [N, classes] when conditional).

    Conditional models use a projection term on the label embedding plus an auxiliary classifier
    head (AC-GAN), which keeps generated classes distinct.
    """
    widths = list(reversed(_widths(cfg)))

    def sn(layer: layers.Layer) -> layers.Layer:
        return layers.SpectralNormalization(layer) if cfg.spectral_norm else layer

    x = keras.Input((cfg.size, cfg.size, cfg.channels), name="image")
    inputs: list[Any] = [x]
    h = x
    if cfg.size <= 16:
        h = sn(layers.Conv2D(widths[0], 3, padding="same"))(h)
        h = layers.LeakyReLU(0.2)(h)
    for w in widths[1:]:
        h = sn(layers.Conv2D(w, 4, strides=2, padding="same"))(h)
        h = layers.LeakyReLU(0.2)(h)
    if cfg.minibatch_std:
        h = MinibatchStd()(h)
    h = layers.Flatten()(h)
    if not cfg.spectral_norm:
        h = layers.Dropout(0.3)(h)
    logit = sn(layers.Dense(1))(h)
    if not cfg.classes:
        return keras.Model(inputs, layers.Reshape(())(logit), name="discriminator")
    label = keras.Input((), dtype="int32", name="label")
    inputs.append(label)
    feat = layers.Dense(128)(h)
    feat = layers.LeakyReLU(0.2)(feat)
    emb = layers.Embedding(cfg.classes, 128, name="proj_embed")(label)
    proj = layers.Dot(axes=1)([feat, emb])
    logit = layers.Add()([layers.Reshape(())(logit), layers.Reshape(())(proj)])
    aux = layers.Dense(cfg.classes, name="aux")(feat)
    return keras.Model(inputs, [logit, aux], name="discriminator")


def inference_model(generator: keras.Model) -> keras.Model:
    """The generator with its tanh output mapped to [0, 1]: the Keras twin of the exported ONNX
    (saved as NAME.keras; the benchmarks time it against ONNX Runtime)."""
    image = layers.Rescaling(0.5, offset=0.5, name="image")(generator.outputs[0])
    return keras.Model(generator.inputs, image, name="generator_inference")


def inference_function(generator: keras.Model, cfg: GanConfig) -> tuple[Any, list[tf.TensorSpec]]:
    """The exported function and its signature: named inputs ``z`` (and ``label`` int32 [N, 1]),
    output ``image`` in [0, 1] (tanh mapped inside the graph)."""
    sig = [tf.TensorSpec([None, cfg.latent], tf.float32, name="z")]
    if cfg.classes:
        sig.append(tf.TensorSpec([None, 1], tf.int32, name="label"))

        def generate(z: tf.Tensor, label: tf.Tensor) -> dict[str, tf.Tensor]:
            img = generator([z, label], training=False)
            return {"image": tf.clip_by_value((img + 1.0) * 0.5, 0.0, 1.0)}

        return generate, sig

    def generate_unconditional(z: tf.Tensor) -> dict[str, tf.Tensor]:
        img = generator(z, training=False)
        return {"image": tf.clip_by_value((img + 1.0) * 0.5, 0.0, 1.0)}

    return generate_unconditional, sig
