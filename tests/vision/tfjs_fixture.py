"""A tiny TF.js graph model written by hand (model.json + one .bin shard), shaped like the files
in npm packages: a `_FusedConv2D` without `TArgs`, a `FusedDepthwiseConv2dNative`, float16-quantized
weights, and ops that leave out attrs with defaults (dilations, explicit_paddings, data_format)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np


def _s(text: str) -> dict[str, str]:
    return {"s": base64.b64encode(text.encode()).decode()}


def _ints(*values: int) -> dict[str, dict[str, list[str]]]:
    return {"list": {"i": [str(v) for v in values]}}


def write_tiny_tfjs(folder: Path, *, op: str = "_FusedConv2D", side: int = 16) -> Path:
    """Write model.json and group1-shard1of1.bin into ``folder``; return the model.json path."""
    rng = np.random.default_rng(0)
    weights = {
        "conv_w": rng.normal(0, 0.3, (3, 3, 3, 4)).astype(np.float32),
        "conv_b": rng.normal(0, 0.1, (4,)).astype(np.float32),
        "dw_w": rng.normal(0, 0.3, (3, 3, 4, 1)).astype(np.float32),
        "dw_b": rng.normal(0, 0.1, (4,)).astype(np.float32),
    }
    float_t = {"type": "DT_FLOAT"}
    nodes = [
        {"name": "image", "op": "Placeholder",
         "attr": {"dtype": float_t, "shape": {"shape": {"dim": [{"size": "1"}, {"size": str(side)},
                                                                  {"size": str(side)}, {"size": "3"}]}}}},
        *({"name": k, "op": "Const", "attr": {"dtype": float_t, "value": {"tensor": {"dtype": "DT_FLOAT"}}}}
          for k in weights),
        {"name": "conv", "op": op, "input": ["image", "conv_w", "conv_b"],
         "attr": {"T": float_t, "strides": _ints(1, 1, 1, 1), "padding": _s("SAME"), "num_args": {"i": "1"},
                  "fused_ops": {"list": {"s": [_s("BiasAdd")["s"], _s("Relu")["s"]]}}}},
        {"name": "dw", "op": "FusedDepthwiseConv2dNative", "input": ["conv", "dw_w", "dw_b"],
         "attr": {"T": float_t, "strides": _ints(1, 2, 2, 1), "padding": _s("SAME"), "num_args": {"i": "1"},
                  "fused_ops": {"list": {"s": [_s("BiasAdd")["s"], _s("Relu6")["s"]]}}}},
        {"name": "out", "op": "Sigmoid", "input": ["dw"], "attr": {"T": float_t}},
    ]
    quant = {"dtype": "float16", "original_dtype": "float32"}
    manifest = [{"name": k, "shape": list(v.shape), "dtype": "float32", "quantization": quant}
                for k, v in weights.items()]
    data = b"".join(v.astype(np.float16).tobytes() for v in weights.values())
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "group1-shard1of1.bin").write_bytes(data)
    model = {"format": "graph-model", "generatedBy": "artflow tests", "convertedBy": "hand",
             "modelTopology": {"node": nodes, "versions": {"producer": 1}},
             "signature": {"inputs": {"image": {"name": "image:0"}}, "outputs": {"out": {"name": "out:0"}}},
             "weightsManifest": [{"paths": ["group1-shard1of1.bin"], "weights": manifest}]}
    path = folder / "model.json"
    path.write_text(json.dumps(model))
    return path
