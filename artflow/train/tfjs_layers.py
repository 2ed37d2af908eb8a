"""TF.js layers models (Keras topology JSON + weight shards) → a Keras model, built layer by layer
from the checked topology (:mod:`artflow.train.tfjs_checks`) with Keras' own layer classes and the
custom ones plugins declare (``register_import_layers``); weights are set by name from the shards.

The configs are read as plain settings: initializers, regularizers and constraints (training-only)
are dropped, and a setting that is itself an object (a serialized function or class) is refused, so
nothing in a model.json can make Keras import or call code of the file's choosing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import describe, one_line
from .tfjs_checks import TfjsPackage
from .tfjs_topology import TfjsError, q

_TRAINING_ONLY = ("_initializer", "_regularizer", "_constraint")


def build_layers_model(pkg: TfjsPackage, custom: dict[str, Callable[[dict[str, Any]], Any]]) -> Any:
    """The Keras model a checked layers package describes, with its weights set."""
    import keras

    from .tfjs import read_weights

    tensors: dict[str, Any] = {}
    built: dict[str, Any] = {}
    inputs: list[Any] = []
    for layer in pkg.layers:
        name, cls, config = layer["name"], layer["class_name"], layer["config"]
        try:
            if cls == "InputLayer":
                shape = config.get("batch_input_shape", config.get("batch_shape"))
                if not isinstance(shape, list) or not all(d is None or isinstance(d, int) for d in shape):
                    raise TfjsError(f"{pkg.path}: input layer {q(name)} has no batch_input_shape list")
                tensors[name] = keras.Input(batch_shape=tuple(shape), name=name,
                                            dtype=str(config.get("dtype", "float32")))
                inputs.append(tensors[name])
                continue
            obj = custom[cls](dict(config)) if cls in custom else \
                getattr(keras.layers, cls).from_config(_plain_config(pkg, name, config))
            args = [tensors[x] for x in layer["inputs"]]
            tensors[name] = obj(args[0] if len(args) == 1 else args)
            built[name] = obj
        except TfjsError:
            raise
        except Exception as exc:  # noqa: BLE001 - Keras rejects a config many ways; name the layer
            raise TfjsError(f"{pkg.path}: layer {q(name)} ({cls}) cannot be built: "
                            f"{one_line(describe(exc, with_type=False))[:160]}"
                            ) from None
    config = pkg.model["modelTopology"].get("model_config", pkg.model["modelTopology"])["config"]
    if config.get("output_layers"):
        outputs = [tensors[e[0]] for e in config["output_layers"]]
        inputs = [tensors[e[0]] for e in config["input_layers"]]
    else:  # Sequential: the last layer
        outputs = [tensors[pkg.layers[-1]["name"]]]
    model = keras.Model(inputs if len(inputs) > 1 else inputs[0], outputs if len(outputs) > 1 else outputs[0])
    _set_weights(pkg, built, read_weights(pkg))
    return model


def _plain_config(pkg: TfjsPackage, name: str, config: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in config.items():
        if key.endswith(_TRAINING_ONLY) or key in ("activity_regularizer", "shared_object_id"):
            continue
        if isinstance(value, dict):
            raise TfjsError(f"{pkg.path}: layer {q(name)} sets {q(key)} to an object; artflow builds layers "
                            "from plain settings (a custom activation needs a plugin's layer class)")
        out[key] = value
    return out


def _set_weights(pkg: TfjsPackage, built: dict[str, Any], weights: dict[str, Any]) -> None:
    """Each layer's variables from the manifest entry named ``layer/variable``; every entry used."""
    used = set()
    for name, layer in built.items():
        for var in layer.weights:
            short = var.path.split("/")[-1] if "/" in var.path else var.name
            key = f"{name}/{short}"
            if key not in weights:
                raise TfjsError(f"{pkg.path}: no weight {q(key)} in weightsManifest; the model.json and its "
                                ".bin files do not belong together")
            value = weights[key]
            if tuple(value.shape) != tuple(var.shape):
                raise TfjsError(f"{pkg.path}: weight {q(key)} has shape {list(value.shape)}, the layer "
                                f"needs {list(var.shape)}")
            var.assign(value.astype(var.dtype))
            used.add(key)
    left = sorted(set(weights) - used)
    if left:
        raise TfjsError(f"{pkg.path}: weights {', '.join(q(k, 40) for k in left[:3])} belong to no layer; "
                        "the model.json and its .bin files do not belong together")
