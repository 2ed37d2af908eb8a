"""artflow's built-in classifier plugin: the `classify.image` node, the shipped `digits` and
`shapes` models, and the `artflow train classifier` trainer.

Registered through the same `artflow` entry-point group a third-party plugin uses. Importing it
is light: no TensorFlow, no ONNX Runtime session until a node runs.
"""

from artflow import hookimpl
from artflow.registry import register_modules
from artflow.shipping import models_dir, register_shipped_models

MODELS_DIR = models_dir(__package__)


@hookimpl
def register_nodes(register):
    register_modules(register, __package__, "node")


@hookimpl
def register_models(register):
    register_shipped_models(register, __package__)


@hookimpl
def register_trainers(register):
    register("classifier", f"{__package__}.train:train_classifier")
