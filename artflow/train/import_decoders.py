"""The two ends an import builds into an ONNX graph around a pretrained model, in TensorFlow:
the adapter (artflow's canonical image → what the model expects) and the decoders (raw outputs →
artflow's canonical outputs). Core has the generic decoders only (identity, image, mask); plugins
add theirs (boxes, keypoints, …) with ``register_import_decoders``. A spec names its decoder by
key (``[decode] kind = "mask"``); see :mod:`artflow.train.importer`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..import_registry import Decoder, ImportDecoder, summary

# --------------------------------------------------------------------------------------------
# adapter: canonical image (NHWC RGB [0, 1]) → what the model expects, inside the graph

def adapt(x: Any, spec: dict[str, Any]) -> Any:
    """TensorFlow ops turning a canonical image batch into the model's declared input."""
    import tensorflow as tf

    if spec.get("color", "rgb") == "bgr":
        x = x[..., ::-1]
    lo, hi = (spec.get("range") or [0.0, 1.0])[:2]
    if spec.get("mean") is not None:  # mean/std are on the 0–255 scale
        x = x * 255.0 - tf.constant(spec["mean"], tf.float32)
        if spec.get("std") is not None:
            x = x / tf.constant(spec["std"], tf.float32)
    elif (lo, hi) != (0.0, 1.0):
        x = x * float(hi - lo) + float(lo)
    dtype = spec.get("dtype", "float32")
    if dtype != "float32":
        x = tf.cast(tf.round(tf.clip_by_value(x, lo, hi)), dtype)
    if spec.get("layout", "NHWC") == "NCHW":
        x = tf.transpose(x, [0, 3, 1, 2])
    return x


# --------------------------------------------------------------------------------------------
# decoders: raw model outputs → artflow's canonical outputs (batch first), in TensorFlow

DECODERS: dict[str, Decoder] = {}


def decoder(name: str) -> Callable[[Decoder], Decoder]:
    def wrap(fn: Decoder) -> Decoder:
        DECODERS[name] = fn
        return fn

    return wrap


def find_decoder(name: str) -> ImportDecoder:
    """A core decoder or one a loaded plugin registered; one line listing the known ones if none."""
    from ..errors import ModelError
    from ..plugins import get_plugins

    if name in DECODERS:
        return ImportDecoder(name, DECODERS[name], summary(DECODERS[name]), "core")
    found = get_plugins().imports.decoders.get(name) if isinstance(name, str) else None
    if found is None:
        raise ModelError(f"unknown decoder {name!r} (known: {', '.join(known_decoders())}); a plugin "
                         "adds one with register_import_decoders")
    return found


def known_decoders() -> list[str]:
    """Every decoder name an import may use now: core's and the loaded plugins'."""
    from ..plugins import get_plugins

    return sorted(set(DECODERS) | set(get_plugins().imports.decoders))


@decoder("identity")
def _identity(raw: dict[str, Any], cfg: dict[str, Any], model: Any) -> dict[str, Any]:
    """The model's outputs as they are, by name."""
    return dict(raw)


@decoder("image")
def _image(raw: dict[str, Any], cfg: dict[str, Any], model: Any) -> dict[str, Any]:
    """An image output in the model's range (``range = [0, 255]``) → an IMAGE in [0, 1], named
    ``output`` (an ONNX output cannot share the input's name ``image``)."""
    import tensorflow as tf

    out = raw[cfg.get("output", next(iter(raw)))]
    lo, hi = (cfg.get("range") or [0.0, 1.0])[:2]
    if (lo, hi) != (0.0, 1.0):
        out = (out - float(lo)) / float(hi - lo)
    if cfg.get("color", "rgb") == "bgr":
        out = out[..., ::-1]
    return {"output": tf.clip_by_value(out, 0.0, 1.0)}


@decoder("mask")
def _mask(raw: dict[str, Any], cfg: dict[str, Any], model: Any) -> dict[str, Any]:
    """A segmentation map [N, H, W, C] → the chosen channel as a mask in [0, 1] (sigmoid if logits)."""
    import tensorflow as tf

    out = raw[cfg.get("output", "output_0")]
    m = out[..., int(cfg.get("channel", 0)):int(cfg.get("channel", 0)) + 1]
    if cfg.get("logits"):
        m = tf.sigmoid(m)
    return {"mask": tf.clip_by_value(m, 0.0, 1.0)}
