"""artflow's built-in pretrained-vision plugin: `edges.hed`, `pose.estimate`, `draw.pose`,
`matte.person`, and the `coco` detector that `detect.objects` uses: pretrained TensorFlow models
from registry packages brought in by `artflow import` (specs/, ship.py), shipped as carded ONNX."""

from pathlib import Path

from artflow import hookimpl
from artflow.registry import register_modules
from artflow.shipping import models_dir, register_shipped_models

MODELS_DIR = models_dir(__package__)
SPECS_DIR = Path(__file__).parent / "specs"


@hookimpl
def register_nodes(register):
    register_modules(register, __package__, "nodes")


@hookimpl
def register_models(register):
    register_shipped_models(register, __package__)


@hookimpl
def register_import_decoders(register):
    from .import_decoders import register_import_decoders as decoders

    decoders(register)
