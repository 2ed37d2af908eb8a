"""artflow's built-in pretrained-vision plugin: `edges.hed`, `pose.estimate`, `draw.pose`,
`matte.person`, and the `coco` detector that `detect.objects` uses: pretrained TensorFlow models
from registry packages brought in by `artflow import` (specs/, ship.py), shipped as carded ONNX."""

from pathlib import Path

from artflow import hookimpl
from artflow.registry import plugin_hooks
from artflow.shipping import models_dir

MODELS_DIR = models_dir(__package__)
SPECS_DIR = Path(__file__).parent / "specs"
register_nodes, register_models, register_trainers = plugin_hooks(__package__, "nodes")


@hookimpl
def register_import_decoders(register):
    from .import_decoders import register_import_decoders as decoders

    decoders(register)
