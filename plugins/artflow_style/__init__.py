"""artflow's style plugin: the nodes in nodes.py (`style.transfer`, `onnx.model`, …), the shipped
styles and `artflow train style`. Importing it is light: no TensorFlow, no session until a node runs.
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
    register_shipped_models(register, MODELS_DIR / "arbitrary")  # Magenta's pair (arbitrary_ship.py)


@hookimpl
def register_trainers(register):
    register("style", f"{__package__}.train:train_style")
