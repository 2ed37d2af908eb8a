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
import numpy as np
import tensorflow as tf
from keras import layers

from artflow.train.rewrites import nearest_upsample_tf, same_conv_blocks_tf, upsample_conv_blocks_tf


@dataclass(frozen=True)
class GanConfig:
    """Shape and width of a GAN: image size and channels, latent size, classes (0 = unconditional).

    ``upsample``: ``transpose`` (4×4 stride-2 transposed convolutions) or ``nearest`` (nearest-
    neighbour ×2 then a 3×3 convolution: no checkerboard artefacts). ``spectral_norm`` and
    ``minibatch_std`` (a batch-variation feature map, against mode collapse) shape the
    discriminator only. ``crop``: the generator draws ``size + 2·crop`` pixels a side and crops the
    margin away, so the zero padding of its convolutions never reaches the image (no dark frame);
    ``size + 2·crop`` must be a multiple of ``size / 4``.
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
    crop: int = 0

    @property
    def upsamples(self) -> int:
        steps = math.log2(self.size / 4)
        if steps < 1 or not steps.is_integer():
            raise ValueError(f"image size must be 8, 16, 32, 64, 128 …, got {self.size}")
        return int(steps)

    @property
    def base(self) -> int:
        """Side of the generator's first feature map (4, or more with a ``crop`` margin)."""
        side, step = self.size + 2 * self.crop, 2 ** self.upsamples
        if self.crop < 0 or side % step:
            raise ValueError(f"size + 2*crop must be a multiple of {step}, got {side}")
        return side // step

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
    base = cfg.base
    h = layers.Dense(base * base * widths[0], use_bias=False)(h)
    h = layers.BatchNormalization()(h)
    h = layers.ReLU()(h)
    h = layers.Reshape((base, base, widths[0]))(h)
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
    if cfg.crop:
        out = layers.Cropping2D(cfg.crop, name="crop")(out)
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


def fast_forward(generator: keras.Model) -> Any | None:
    """The generator's function in the form ONNX Runtime runs fastest, from the same weights, or
    None when it has no nearest-upsampling tail to rewrite (transposed-conv models).

    The layers from the first ``UpSampling2D`` on must form a chain. Every ×2 upsample becomes
    one asymmetric nearest Resize (ORT keeps it in its blocked layout), and the last
    upsample → 3×3 conv → BatchNorm → ReLU → RGB conv runs in ``space_to_depth(2)`` space at
    half the resolution (:mod:`artflow.train.rewrites`): no full-resolution feature map is made,
    only the final RGB image. Measured side by side in ONNX Runtime at batch 64 on the ``art``
    model: 0.70× the time of the Tile-chain export of ``UpSampling2D``.
    """
    ups = [i for i, layer in enumerate(generator.layers) if isinstance(layer, layers.UpSampling2D)]
    if not ups:
        return None
    tail = generator.layers[ups[0]:]
    if any(b.input is not a.output for a, b in zip(tail, tail[1:], strict=False)):
        return None
    trunk = keras.Model(generator.inputs, tail[0].input)
    values = {id(v): keras.ops.convert_to_numpy(v) for v in generator.weights}
    last = ups[-1] - ups[0]
    pattern = (layers.Conv2D, layers.BatchNormalization, layers.ReLU, layers.Conv2D)
    head = tail[last + 1:last + 5]
    blocks = (len(head) == 4
              and all(isinstance(layer, kind) for layer, kind in zip(head, pattern, strict=True))
              and all(conv.kernel_size == (3, 3) and conv.strides == (1, 1) and conv.padding == "same"
                      for conv in (head[0], head[3]))
              and not head[0].use_bias and head[0].activation.__name__ == "linear")

    def bn_affine(bn: layers.BatchNormalization) -> tuple[np.ndarray, np.ndarray]:
        scale = values[id(bn.gamma)] / np.sqrt(values[id(bn.moving_variance)] + bn.epsilon)
        return scale, values[id(bn.beta)] - values[id(bn.moving_mean)] * scale

    def forward(*inputs: tf.Tensor) -> tf.Tensor:
        h = trunk(list(inputs) if len(inputs) > 1 else inputs[0], training=False)
        i = 0
        while i < len(tail):
            layer = tail[i]
            if i == last and blocks:
                conv, bn, _, rgb = head
                scale, shift = bn_affine(bn)
                x = upsample_conv_blocks_tf(h, values[id(conv.kernel)])
                x = tf.nn.relu(x * np.tile(scale, 4) + np.tile(shift, 4))
                y = same_conv_blocks_tf(x, values[id(rgb.kernel)],
                                        values[id(rgb.bias)] if rgb.use_bias else None, 2)
                h = tf.nn.depth_to_space(rgb.activation(y), 2)
                i += 5
            elif isinstance(layer, layers.UpSampling2D):
                h = nearest_upsample_tf(h, int(layer.size[0]))
                i += 1
            else:
                h = layer(h, training=False)
                i += 1
        return h

    return forward


def inference_function(generator: keras.Model, cfg: GanConfig, *, fast: bool = True
                       ) -> tuple[Any, list[tf.TensorSpec]]:
    """The exported function and its signature: named inputs ``z`` (and ``label`` int32 [N, 1]),
    output ``image`` in [0, 1] (tanh mapped inside the graph). ``fast`` computes it with
    :func:`fast_forward` where the generator has one; ``fast=False`` gives the reference the
    export is checked against."""
    if fast and (forward := fast_forward(generator)) is not None:
        generator = _Called(forward)
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


class _Called:
    """A function called like a Keras model (``net(inputs, training=False)``)."""

    def __init__(self, fn: Any) -> None:
        self.fn = fn

    def __call__(self, inputs: Any, training: bool = False) -> Any:
        return self.fn(*inputs) if isinstance(inputs, list) else self.fn(inputs)
