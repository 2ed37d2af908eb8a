"""artflow's super-resolution plugin: `image.upscale` (×2/×4/×8, tiled) with ESRGAN-thick from
npm `@upscalerjs/esrgan-thick` (MIT), imported by `artflow import tfjs` with the custom layers
declared here (layers.py), shipped as a carded ONNX file. No TensorFlow until an import runs."""

from artflow import hookimpl
from artflow.registry import plugin_hooks

register_nodes, register_models, register_trainers = plugin_hooks(__package__, "nodes")


@hookimpl
def register_import_layers(register):
    from .layers import import_layers

    for class_name, build in import_layers().items():
        register(class_name, build)
