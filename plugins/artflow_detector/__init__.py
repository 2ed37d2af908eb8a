"""artflow's built-in detector plugin: `detect.objects`, `detect.crop`, `composite.paste_boxes`,
the shipped `shapes` detector, `artflow train detector` and `artflow eval detector` (light to import)."""

from artflow import hookimpl
from artflow.registry import plugin_hooks
from artflow.shipping import models_dir

MODELS_DIR = models_dir(__package__)
register_nodes, register_models, register_trainers = plugin_hooks(
    __package__, "nodes", trainers={"detector": "train:train_detector"})


@hookimpl
def register_commands(cli):
    from .commands import add_to  # click only here; the evaluation loads when it runs

    add_to(cli)
