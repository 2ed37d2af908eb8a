"""The transform network: a small Johnson et al. (2016) feed-forward net, in Keras (TensorFlow).

    net = build_network(widths=(16, 32, 64), res_blocks=3)
    y = net(x)                                     # x, y: NHWC float in [0, 1], any size (multiple of 4)
    y, stats = net.forward(x, stats, shared)       # instance-norm statistics in and out

Layout: reflect-padded 9×9 conv → two stride-2 3×3 convs → residual blocks → two
(nearest ×2 upsample → 3×3 conv) stages (no transposed convs: no checkerboard) → 9×9 conv →
sigmoid. Every conv but the last is followed by instance normalisation (a
``GroupNormalization(groups=-1)`` layer holds gamma/beta/epsilon) and ReLU.

**Shared statistics.** :meth:`TransformNet.forward` returns every instance-norm layer's per-image
mean and standard deviation concatenated as ``stats`` (N, S), and takes ``stats`` and ``shared`` (a
one-element 0/1 tensor) back in: with ``shared = 1`` each norm layer uses the statistics given
instead of the tile's own. The exported ONNX model has exactly these inputs and outputs, so the
node can compute the statistics once on the whole (or a downscaled) image and stylize tiles with
them — tiles then match the whole-image result.

Imports TensorFlow and Keras: only trainers, the exporter and benchmarks import this module.
"""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf
from keras import layers

from artflow.train.rewrites import space_to_depth_conv_tf


@keras.saving.register_keras_serializable("artflow_style")
class TransformNet(keras.Model):
    """Feed-forward style transform network with shareable instance-norm statistics."""

    def __init__(self, widths: tuple[int, int, int] = (16, 32, 64), res_blocks: int = 3,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.widths = tuple(int(w) for w in widths)
        self.res_blocks = int(res_blocks)
        w1, w2, w3 = self.widths
        self.convs: list[Any] = []
        self.norms: list[Any] = []

        def conv(filters: int, size: int, stride: int = 1, bias: bool = False) -> Any:
            layer = layers.Conv2D(filters, size, strides=stride, padding="valid", use_bias=bias,
                                  name=f"conv{len(self.convs)}")
            self.convs.append(layer)
            return layer

        def norm(filters: int) -> Any:
            layer = layers.GroupNormalization(groups=-1, epsilon=1e-5, name=f"in{len(self.norms)}")
            layer.build((None, None, None, filters))
            self.norms.append(layer)
            return layer

        # (conv, norm) pairs in the order forward() uses them
        self.down = [(conv(w1, 9), norm(w1)), (conv(w2, 3, 2), norm(w2)), (conv(w3, 3, 2), norm(w3))]
        self.res = [((conv(w3, 3), norm(w3)), (conv(w3, 3), norm(w3))) for _ in range(self.res_blocks)]
        self.up = [(conv(w2, 3), norm(w2)), (conv(w1, 3), norm(w1))]
        self.last = conv(3, 9, bias=True)

    @property
    def stats_size(self) -> int:
        """S: the length of the concatenated (mean, std) statistics of every norm layer."""
        w1, w2, w3 = self.widths
        return 2 * (w1 + w2 + w3 + 2 * w3 * self.res_blocks + w2 + w1)

    def build(self, input_shape: Any = None) -> None:
        self.forward(tf.zeros((1, 16, 16, 3)))
        self.built = True

    def get_config(self) -> dict[str, Any]:
        return {"widths": list(self.widths), "res_blocks": self.res_blocks, "name": self.name}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> TransformNet:
        return cls(widths=tuple(config.get("widths", (16, 32, 64))),
                   res_blocks=config.get("res_blocks", 3), name=config.get("name"))

    def freeze(self) -> None:
        """Snapshot the weights as numpy arrays for the ``for_onnx`` rewrites (call eagerly,
        before tracing an export function; the rewritten kernels are graph constants)."""
        self._frozen_weights = {id(v): keras.ops.convert_to_numpy(v) for v in self.weights}

    def _frozen(self, variable: Any) -> Any:
        frozen = getattr(self, "_frozen_weights", None)
        if frozen is not None and id(variable) in frozen:
            return frozen[id(variable)]
        if not tf.executing_eagerly():
            raise RuntimeError("call TransformNet.freeze() before tracing forward(for_onnx=True)")
        return keras.ops.convert_to_numpy(variable)

    def call(self, x: Any, training: bool = False) -> Any:
        return self.forward(x)[0]

    def forward(self, x: Any, stats: Any = None, shared: Any = None, *,
                for_onnx: bool = False) -> tuple[Any, Any]:
        """Stylize ``x``; returns (image, stats). With ``stats`` and ``shared`` (shape [1], 0 or
        1) the norm layers use ``shared * stats + (1 - shared) * own statistics``.

        ``for_onnx`` computes the same function from the same weights in a form ONNX Runtime
        runs faster: the ×2 upsampling as one nearest Resize, and the 9×9 RGB head as a 3×3
        conv over ``space_to_depth(4)`` of its input with 48 output channels instead of 3, which
        suit ORT's blocked kernels (an exact rewrite, :mod:`artflow.train.rewrites`; measured 1.35×
        faster at 512² than the 3-channel head zero-padded to 8)."""
        collected: list[Any] = []
        offset = [0]
        mix = None if shared is None else tf.reshape(tf.cast(shared, x.dtype), [1, 1, 1, 1])

        def pad(h: Any, p: int) -> Any:
            return tf.pad(h, [[0, 0], [p, p], [p, p], [0, 0]], mode="REFLECT") if p else h

        def conv_norm(h: Any, pair: Any, relu: bool = True, upsample: bool = False) -> Any:
            conv, norm = pair
            k = conv.kernel_size[0]
            if upsample and for_onnx:
                # reflect-padding the ×2 upsampled image by 1 = edge-padding the small one by 1,
                # upsampling, and dropping the outer row/column of the conv's output: the pad then
                # runs on a quarter of the pixels, and the upsample and conv stay in ORT's blocked
                # layout (a reflect Pad between them forces two layout conversions)
                shape = tf.shape(h)
                h = tf.concat([h[:, :1], h, h[:, -1:]], axis=1)
                h = tf.concat([h[:, :, :1], h, h[:, :, -1:]], axis=2)
                h = tf.compat.v1.image.resize_nearest_neighbor(h, [shape[1] * 2 + 4, shape[2] * 2 + 4],
                                                               align_corners=False, half_pixel_centers=False)
                h = conv(h)[:, 1:-1, 1:-1]
            elif upsample:
                h = tf.nn.depth_to_space(tf.concat([h, h, h, h], axis=-1), 2)  # exact nearest ×2
                h = conv(pad(h, k // 2))
            else:
                h = conv(pad(h, k // 2))
            mean, var = _moments(h)
            std = tf.sqrt(var + norm.epsilon)
            collected.extend([tf.reshape(mean, [-1, conv.filters]), tf.reshape(std, [-1, conv.filters])])
            if stats is not None:
                c, o = conv.filters, offset[0]
                given_mean = tf.reshape(stats[:, o:o + c], [-1, 1, 1, c])
                given_std = tf.reshape(stats[:, o + c:o + 2 * c], [-1, 1, 1, c])
                mean = mix * given_mean + (1.0 - mix) * mean
                std = mix * given_std + (1.0 - mix) * std
            offset[0] += 2 * conv.filters
            scale = norm.gamma / std  # per channel: (N, 1, 1, C)
            h = h * scale + (norm.beta - mean * scale)
            return tf.nn.relu(h) if relu else h

        h = x
        for pair in self.down:
            h = conv_norm(h, pair)
        for first, second in self.res:
            h = h + conv_norm(conv_norm(h, first), second, relu=False)
        for pair in self.up:
            h = conv_norm(h, pair, upsample=True)
        if for_onnx:
            y = tf.sigmoid(space_to_depth_conv_tf(pad(h, 4), self._frozen(self.last.kernel),
                                                  self._frozen(self.last.bias), block=4, aligned=True))
        else:
            y = tf.sigmoid(self.last(pad(h, 4)))
        return y, tf.concat(collected, axis=1)


def _moments(h: Any) -> tuple[Any, Any]:
    """Per-image, per-channel mean and variance of NHWC ``h`` over its pixels, summed in two
    stages (along each row, then over the row means) as two float32 ReduceMeans in TensorFlow
    and in the exported ONNX graph alike.

    A single float32 reduction over all H·W pixels (``tf.nn.moments``; 262,144 of them at 512²)
    loses ~1e-4 relative precision, differently in TensorFlow's and ONNX Runtime's kernels: at
    512² the first layers' means differed by up to 4e-4 between the two (ONNX Runtime 1e-4..4e-4
    from the float64 value, TensorFlow 1e-5..1e-4), and the eleven norm layers carried that to
    5e-4 (stain) and 1.3e-3 (confetti) on the stylized astronaut. Sums of one row (≤ W terms),
    then of ≤ H row means, stay within ~1e-6 of float64 on both sides (stylized: 3e-6, 2e-5).
    The variances are not small (≥ 0.15 in every layer there): it is the sums, not the division."""
    mean = tf.reduce_mean(tf.reduce_mean(h, axis=2, keepdims=True), axis=1, keepdims=True)
    sq = tf.math.squared_difference(h, tf.stop_gradient(mean))
    var = tf.reduce_mean(tf.reduce_mean(sq, axis=2, keepdims=True), axis=1, keepdims=True)
    return mean, var


def build_network(widths: tuple[int, int, int] = (16, 32, 64), res_blocks: int = 3,
                  name: str = "style") -> TransformNet:
    """A built TransformNet (weights created)."""
    net = TransformNet(widths, res_blocks, name=name)
    net.build((None, None, None, 3))
    return net


def inference_function(net: TransformNet) -> tuple[Any, list[Any]]:
    """The exported function ``(image, stats, shared) -> {"stylized", "norm_stats"}`` and its signature."""
    signature = [
        tf.TensorSpec([None, None, None, 3], tf.float32, name="image"),
        tf.TensorSpec([None, net.stats_size], tf.float32, name="stats"),
        tf.TensorSpec([1], tf.float32, name="shared"),
    ]

    net.freeze()

    def fn(image: Any, stats: Any, shared: Any) -> dict[str, Any]:
        y, s = net.forward(image, stats, shared, for_onnx=True)
        return {"stylized": y, "norm_stats": s}

    return fn, signature


def reference_function(net: TransformNet) -> Any:
    """The same function as :func:`inference_function`'s, computed in the training form (no
    rewrites): the export's parity check runs it, so it proves the rewrites exact."""

    def fn(image: Any, stats: Any, shared: Any) -> dict[str, Any]:
        y, s = net.forward(image, stats, shared)
        return {"stylized": y, "norm_stats": s}

    return fn
