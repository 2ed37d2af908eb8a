"""artflow's style plugin: the nodes in nodes.py (`style.transfer`, `onnx.model`, …), the shipped
styles and `artflow train style`. Importing it is light: no TensorFlow, no session until a node runs.
"""

from artflow.registry import plugin_hooks
from artflow.shipping import models_dir

MODELS_DIR = models_dir(__package__)
# models/ holds the fast styles; models/arbitrary/ Magenta's arbitrary-style pair (arbitrary_ship.py)
register_nodes, register_models, register_trainers = plugin_hooks(
    __package__, "nodes", trainers={"style": "train:train_style"}, models=("", "arbitrary"))
