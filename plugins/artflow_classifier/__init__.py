"""artflow's built-in classifier plugin: the `classify.image` node, the shipped `digits` and
`shapes` models, and the `artflow train classifier` trainer.

Registered through the same `artflow` entry-point group a third-party plugin uses. Importing it
is light: no TensorFlow, no ONNX Runtime session until a node runs.
"""

from artflow.registry import plugin_hooks
from artflow.shipping import models_dir

MODELS_DIR = models_dir(__package__)
register_nodes, register_models, register_trainers = plugin_hooks(
    __package__, "node", trainers={"classifier": "train:train_classifier"})
