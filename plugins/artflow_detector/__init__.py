"""artflow's built-in detector plugin: `detect.objects`, `detect.crop`, `composite.paste_boxes`,
the shipped `shapes` detector, `artflow train detector` and `artflow eval detector` (light to import)."""

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
    register("detector", f"{__package__}.train:train_detector")


@hookimpl
def register_commands(cli):
    from .commands import add_to  # click only here; the evaluation loads when it runs

    add_to(cli)
