"""artflow's GAN generator plugin: `gan.generate` and `gan.interpolate` nodes, the `artflow train gan`
trainer, and the shipped generator models (`digits`, class-conditional 8×8; `art`, 64×64 colour)."""

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
    register("gan", f"{__package__}.train:train_gan")
