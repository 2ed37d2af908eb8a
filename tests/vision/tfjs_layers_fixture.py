"""A tiny TF.js layers model written by hand (Keras 2 topology JSON in model.json + one shard),
shaped like UpscalerJS' files: an InputLayer with batch_input_shape, Conv2D layers with
initializer configs, a custom layer class a plugin must provide, and a residual Add."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

CUSTOM = "TimesTwo"


def _conv(name: str, filters: int, k: int, src: str, activation: str = "linear") -> dict:
    return {"class_name": "Conv2D", "name": name, "inbound_nodes": [[[src, 0, 0, {}]]],
            "config": {"name": name, "trainable": True, "dtype": "float32", "filters": filters,
                       "kernel_size": [k, k], "strides": [1, 1], "padding": "same",
                       "data_format": "channels_last", "dilation_rate": [1, 1], "groups": 1,
                       "activation": activation, "use_bias": True,
                       "kernel_initializer": {"class_name": "RandomUniform",
                                              "config": {"minval": -0.05, "maxval": 0.05, "seed": None},
                                              "shared_object_id": 1},
                       "bias_initializer": {"class_name": "Zeros", "config": {}},
                       "kernel_regularizer": None, "bias_regularizer": None,
                       "activity_regularizer": None, "kernel_constraint": None, "bias_constraint": None}}


def tiny_weights() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(3)
    return {"conv/kernel": rng.normal(0, 0.3, (3, 3, 3, 4)).astype(np.float32),
            "conv/bias": rng.normal(0, 0.1, (4,)).astype(np.float32),
            "out/kernel": rng.normal(0, 0.3, (1, 1, 4, 3)).astype(np.float32),
            "out/bias": rng.normal(0, 0.1, (3,)).astype(np.float32)}


def write_tiny_layers(folder: Path, custom: str = CUSTOM) -> Path:
    """LR (any size, 0–255) → conv 3×3 relu → ×2 (``custom``) → conv 1×1 → + LR = SR."""
    weights = tiny_weights()
    layers = [
        {"class_name": "InputLayer", "name": "LR", "inbound_nodes": [],
         "config": {"batch_input_shape": [None, None, None, 3], "dtype": "float32", "sparse": False,
                    "ragged": False, "name": "LR"}},
        _conv("conv", 4, 3, "LR", "relu"),
        {"class_name": custom, "name": "twice", "inbound_nodes": [[["conv", 0, 0, {}]]],
         "config": {"name": "twice", "trainable": True, "dtype": "float32", "factor": 2.0}},
        _conv("out", 3, 1, "twice"),
        {"class_name": "Add", "name": "SR", "inbound_nodes": [[["out", 0, 0, {}], ["LR", 0, 0, {}]]],
         "config": {"name": "SR", "trainable": True, "dtype": "float32"}},
    ]
    manifest = [{"name": k, "shape": list(v.shape), "dtype": "float32"} for k, v in weights.items()]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "group1-shard1of1.bin").write_bytes(b"".join(v.tobytes() for v in weights.values()))
    model = {"format": "layers-model", "generatedBy": "keras v2.10.0", "convertedBy": "hand",
             "modelTopology": {"keras_version": "2.10.0", "backend": "tensorflow",
                               "model_config": {"class_name": "Functional", "config": {
                                   "name": "tiny", "layers": layers, "input_layers": [["LR", 0, 0]],
                                   "output_layers": [["SR", 0, 0]]}}},
             "weightsManifest": [{"paths": ["group1-shard1of1.bin"], "weights": manifest}]}
    path = folder / "model.json"
    path.write_text(json.dumps(model))
    return path


def reference(x01: np.ndarray) -> np.ndarray:
    """The same network in NumPy/TensorFlow ops, on canonical [0, 1] input, output back in [0, 1]."""
    import tensorflow as tf

    w = tiny_weights()
    x = x01 * 255.0
    h = tf.nn.relu(tf.nn.conv2d(x, w["conv/kernel"], 1, "SAME") + w["conv/bias"]) * 2.0
    y = tf.nn.conv2d(h, w["out/kernel"], 1, "SAME") + w["out/bias"] + x
    return np.clip(y.numpy() / 255.0, 0.0, 1.0)
