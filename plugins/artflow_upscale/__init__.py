"""artflow's super-resolution plugin: `image.upscale` (×2/×4/×8, tiled) with ESRGAN-thick from
npm `@upscalerjs/esrgan-thick` (MIT), imported by `artflow import tfjs` with the custom layers
declared here (layers.py), shipped as a carded ONNX file. No TensorFlow until an import runs."""

from artflow import hookimpl
from artflow.registry import register_modules
from artflow.shipping import register_shipped_models


@hookimpl
def register_nodes(register):
    register_modules(register, __package__, "nodes")


@hookimpl
def register_models(register):
    register_shipped_models(register, __package__)


@hookimpl
def register_import_layers(register):
    from .layers import import_layers

    for class_name, build in import_layers().items():
        register(class_name, build)
