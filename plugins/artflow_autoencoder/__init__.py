"""artflow's autoencoder plugin: `ae.encode`, `ae.decode`, `ae.blend`, the shipped `photo`
autoencoder and `artflow train autoencoder`.

A convolutional autoencoder trained on photo and texture patches: the encoder maps an IMAGE to a
spatial latent (LATENT_MAP, (N, h/4, w/4, c)), the decoder maps it back; both are fully
convolutional, so any image size works. They ship as two ONNX models of kinds ``ae_encoder`` and
``ae_decoder`` under one name. Importing the plugin is light: no TensorFlow, no session.
"""

from artflow import hookimpl
from artflow.registry import register_modules
from artflow.shipping import models_dir, register_shipped_models

MODELS_DIR = models_dir(__package__)


@hookimpl
def register_nodes(register):
    register_modules(register, __package__, "nodes")


@hookimpl
def register_models(register):
    register_shipped_models(register, __package__)


@hookimpl
def register_trainers(register):
    register("autoencoder", f"{__package__}.train:train_autoencoder")
