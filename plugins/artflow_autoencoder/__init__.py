"""artflow's autoencoder plugin: `ae.encode`, `ae.decode`, `ae.blend`, the shipped `photo`
autoencoder and `artflow train autoencoder`.

A convolutional autoencoder trained on photo and texture patches: the encoder maps an IMAGE to a
spatial latent (LATENT_MAP, (N, h/4, w/4, c)), the decoder maps it back; both are fully
convolutional, so any image size works. They ship as two ONNX models of kinds ``ae_encoder`` and
``ae_decoder`` under one name. Importing the plugin is light: no TensorFlow, no session.
"""

from artflow.registry import plugin_hooks
from artflow.shipping import models_dir

MODELS_DIR = models_dir(__package__)
register_nodes, register_models, register_trainers = plugin_hooks(
    __package__, "nodes", trainers={"autoencoder": "train:train_autoencoder"})
