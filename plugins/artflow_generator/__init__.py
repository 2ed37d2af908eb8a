"""artflow's GAN generator plugin: `gan.generate` and `gan.interpolate` nodes, the `artflow train gan`
trainer, and the shipped generator models (`digits`, class-conditional 8×8; `art`, 64×64 colour)."""

from artflow.registry import plugin_hooks
from artflow.shipping import models_dir

MODELS_DIR = models_dir(__package__)
register_nodes, register_models, register_trainers = plugin_hooks(
    __package__, "nodes", trainers={"gan": "train:train_gan"})
