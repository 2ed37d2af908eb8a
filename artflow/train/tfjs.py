"""TF.js graph models (model.json + .bin shards) → a TensorFlow GraphDef that TensorFlow runs and
tf2onnx converts: the one graph both sides of the import's parity check see.

tf2onnx 1.17's own ``--tfjs`` reader fails on the models that ship in npm packages today
(``np.product`` is gone in NumPy 2; ``_FusedConv2D`` nodes come without ``TArgs``; ops lack
default attrs such as ``index_type``). This reader does not patch it: it builds a plain GraphDef
itself and

- checks every shard named by ``weightsManifest`` exists and that the shards hold exactly the
  bytes the manifest's weights need (else one line naming the file and what to do);
- dequantizes weights (float16, or uint8/uint16 with scale and min) to their original dtype and
  puts them into the graph's ``Const`` nodes;
- rewrites TF.js' fused ops (``_FusedConv2D``, ``FusedDepthwiseConv2dNative``, ``_FusedMatMul``)
  into the plain ops they stand for (convolution, ``BiasAdd``, activation), so neither side needs
  ``TArgs`` or TF.js-only kernels;
- gives each constant the dtype its node declares (TF.js stores int64 weights as int32);
- fills every attr a node leaves out with the default of TensorFlow's registered op definition;
- refuses an op TensorFlow does not know, naming it and its node.

Only TensorFlow (imported inside the functions) and NumPy; the result is used by
:mod:`artflow.train.importer`.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import describe, one_line
from .tfjs_checks import TfjsPackage, Weight, check_package, read_shards
from .tfjs_topology import TfjsError, q


@dataclass
class TfjsGraph:
    """A TF.js graph model read into TensorFlow terms."""

    graph_def: Any
    inputs: dict[str, tuple[str, list[int], str]]  # signature key -> (tensor name, shape, dtype)
    outputs: dict[str, str]  # signature key -> tensor name
    files: dict[str, str] = field(default_factory=dict)  # file name -> sha256
    meta: dict[str, Any] = field(default_factory=dict)  # generatedBy, convertedBy, format


_NP_DTYPES = {"float32": np.float32, "int32": np.int32, "bool": np.bool_, "float16": np.float16,
              "uint8": np.uint8, "uint16": np.uint16, "int64": np.int64, "complex64": np.complex64}
_ACTIVATIONS = {"Relu", "Relu6", "Elu", "Sigmoid", "Tanh", "LeakyRelu", "Prelu"}


def _sha256(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def read_weights(pkg: TfjsPackage) -> dict[str, np.ndarray]:
    """Every weight of a checked package by name, dequantized to its declared dtype."""
    weights: dict[str, np.ndarray] = {}
    for group, data in zip(pkg.groups, read_shards(pkg), strict=True):
        offset = 0
        for w in group.weights:
            weights[w.name] = _decode_weight(w, data[offset:offset + w.nbytes])
            offset += w.nbytes
    return weights


def _decode_weight(weight: Weight, data: bytes) -> np.ndarray:
    shape = list(weight.shape)
    dtype = np.dtype(_NP_DTYPES[weight.dtype])
    q = weight.quantization
    if not q:
        return np.frombuffer(data, dtype=dtype).reshape(shape).copy()
    raw = np.frombuffer(data, dtype=np.dtype(_NP_DTYPES[q["dtype"]]))
    if "scale" in q:
        values = raw.astype(np.float32) * np.float32(q["scale"]) + np.float32(q["min"])
        return values.astype(dtype).reshape(shape)
    return raw.astype(dtype).reshape(shape)


def package_files(pkg: TfjsPackage) -> dict[str, str]:
    """sha256 of the model.json and of each shard (what the imported model came from)."""
    files = {pkg.path.name: _sha256(pkg.raw)}
    for group in pkg.groups:
        for name, shard, size in group.shards:
            with open(shard, "rb") as fh:
                files[name] = _sha256(fh.read(size))
    return files


def read_tfjs(path: str | Path | TfjsPackage) -> TfjsGraph:
    """Read a TF.js graph model (model.json and its shards) into a checked TensorFlow GraphDef."""
    from google.protobuf.json_format import ParseDict, ParseError
    from tensorflow.core.framework import graph_pb2, node_def_pb2

    pkg = path if isinstance(path, TfjsPackage) else check_package(path)
    path = pkg.path
    if pkg.format != "graph":
        raise TfjsError(f"{path}: a TF.js layers model; read it with artflow.train.tfjs_layers")
    weights = read_weights(pkg)
    files = package_files(pkg)
    model = pkg.model
    topology = model["modelTopology"]
    if topology.get("library", {}).get("function"):
        raise TfjsError(f"{path}: the graph has functions (control flow); "
                        "artflow imports flat graph models only")
    graph_def = graph_pb2.GraphDef()
    producer = topology.get("versions", {}).get("producer", 0)
    if isinstance(producer, (int, str)) and str(producer).isdigit() and len(str(producer)) < 10:
        graph_def.versions.producer = int(producer)
    nodes: list[Any] = []
    for item in topology.get("node", []):
        item = json.loads(json.dumps(item))
        node = node_def_pb2.NodeDef()
        try:
            _fix_string_attrs(item)
            ParseDict(item, node)
            node.ClearField("device")
            if node.op == "Const":
                _fill_const(node, weights, path)
            nodes.extend(_unfuse(node, path))
        except TfjsError:
            raise
        except (ParseError, ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
            raise TfjsError(f"{path}: node {q(item.get('name'))} cannot be read "
                            f"({one_line(str(exc)[:120])})") from None
    for node in nodes:
        _fill_defaults(node, path)
    graph_def.node.extend(nodes)

    signature = model.get("signature") or topology.get("signature") or {}
    by_name = {n.name: n for n in nodes}
    inputs: dict[str, tuple[str, list[int], str]] = {}
    if signature.get("inputs"):
        for key, v in signature["inputs"].items():
            name = v["name"].split(":")[0]
            inputs[key] = _placeholder_info(by_name.get(name), name)
    else:
        for n in nodes:
            if n.op == "Placeholder":
                inputs[n.name] = _placeholder_info(n, n.name)
    outputs = {k: _tensor(v["name"]) for k, v in (signature.get("outputs") or {}).items()}
    if not outputs:
        consumed = {i.split(":")[0].lstrip("^") for n in nodes for i in n.input}
        outputs = {n.name: n.name + ":0" for n in nodes
                   if n.name not in consumed and n.op not in ("Const", "NoOp")}
    meta = {k: model.get(k) for k in ("format", "generatedBy", "convertedBy") if model.get(k)}
    return TfjsGraph(graph_def, inputs, outputs, files, meta)


def _tensor(name: str) -> str:
    return name if ":" in name else name + ":0"


def _placeholder_info(node: Any, name: str) -> tuple[str, list[int], str]:
    import tensorflow as tf

    if node is None:
        return _tensor(name), [], "float32"
    shape = [int(d.size) for d in node.attr["shape"].shape.dim] if "shape" in node.attr else []
    try:
        dtype = tf.as_dtype(node.attr["dtype"].type).name
    except TypeError:
        raise TfjsError(f"input {q(name)} declares no dtype TensorFlow knows") from None
    return _tensor(node.name), shape, dtype


def _fix_string_attrs(item: dict[str, Any]) -> None:
    """Older TF.js files store strings as lists of byte values; protobuf wants base64."""
    def fix(v: Any) -> Any:
        return base64.b64encode(bytes(v)).decode() if isinstance(v, list) else v

    for v in item.get("attr", {}).values():
        if "s" in v:
            v["s"] = fix(v["s"])
        if "list" in v and "s" in v["list"]:
            v["list"]["s"] = [fix(x) for x in v["list"]["s"]]


def _fill_const(node: Any, weights: dict[str, np.ndarray], path: Path) -> None:
    import tensorflow as tf

    if node.name in weights:
        arr = weights[node.name]
        if "dtype" in node.attr and node.attr["dtype"].type:
            arr = arr.astype(tf.as_dtype(node.attr["dtype"].type).as_numpy_dtype)
        node.attr["value"].tensor.CopyFrom(tf.make_tensor_proto(arr))
        node.attr["dtype"].type = tf.as_dtype(arr.dtype).as_datatype_enum
    elif not node.attr["value"].tensor.ByteSize():
        raise TfjsError(f"{path}: constant '{node.name}' has no weights in weightsManifest; the model.json "
                        "and its .bin files do not belong together")


def _attr_str(node: Any, key: str) -> list[str]:
    return [s.decode() for s in node.attr[key].list.s] if key in node.attr else []


def _unfuse(node: Any, path: Path) -> list[Any]:
    """TF.js fused ops → the plain ops they stand for (same output name on the last one)."""
    from tensorflow.core.framework import node_def_pb2

    kinds = {"_FusedConv2D": "Conv2D", "FusedDepthwiseConv2dNative": "DepthwiseConv2dNative",
             "_FusedDepthwiseConv2dNative": "DepthwiseConv2dNative", "_FusedMatMul": "MatMul"}
    if node.op not in kinds:
        return [node]
    fused = _attr_str(node, "fused_ops")
    data = [i for i in node.input if not i.startswith("^")]
    control = [i for i in node.input if i.startswith("^")]
    args = data[2:]
    unknown = [f for f in fused if f not in ({"BiasAdd"} | _ACTIVATIONS)]
    if unknown:
        raise TfjsError(f"{path}: op {node.op} with fused_ops {fused} (node '{node.name}') "
                        f"cannot be converted: "
                        f"artflow does not know how to split {unknown}; re-export the model without fusing")
    base = node_def_pb2.NodeDef(name=node.name + "/artflow_core", op=kinds[node.op])
    base.input.extend(data[:2] + control)
    keep = {"Conv2D": ("T", "strides", "padding", "data_format", "dilations", "explicit_paddings",
                       "use_cudnn_on_gpu"),
            "DepthwiseConv2dNative": ("T", "strides", "padding", "data_format", "dilations",
                                      "explicit_paddings"),
            "MatMul": ("T", "transpose_a", "transpose_b")}[base.op]
    for k in keep:
        if k in node.attr:
            base.attr[k].CopyFrom(node.attr[k])
    out = [base]
    last = base.name
    arg = 0
    steps = [f for f in fused if f]
    for i, op in enumerate(steps):
        name = node.name if i == len(steps) - 1 else f"{node.name}/artflow_{op.lower()}"
        step = node_def_pb2.NodeDef(name=name, op=op)
        step.attr["T"].CopyFrom(node.attr["T"])
        if op == "BiasAdd":
            step.input.extend([last, args[arg]])
            arg += 1
            if "data_format" in node.attr:
                step.attr["data_format"].CopyFrom(node.attr["data_format"])
        elif op == "Prelu":  # relu(x) - alpha * relu(-x), as plain ops
            alpha = args[arg]
            arg += 1
            out.extend(_prelu(node, last, alpha, name))
            last = name
            continue
        else:
            step.input.append(last)
            if op == "LeakyRelu" and "leakyrelu_alpha" in node.attr:
                step.attr["alpha"].f = node.attr["leakyrelu_alpha"].f
        out.append(step)
        last = name
    if len(steps) == 0:
        base.name = node.name
    return out


def _prelu(node: Any, x: str, alpha: str, name: str) -> list[Any]:
    from tensorflow.core.framework import node_def_pb2

    def make(n: str, op: str, *inputs: str) -> Any:
        nd = node_def_pb2.NodeDef(name=n, op=op)
        nd.input.extend(inputs)
        nd.attr["T"].CopyFrom(node.attr["T"])
        return nd

    p = node.name + "/artflow_prelu"
    return [make(p + "/pos", "Relu", x), make(p + "/neg_in", "Neg", x),
            make(p + "/neg", "Relu", p + "/neg_in"),
            make(p + "/scaled", "Mul", alpha, p + "/neg"), make(name, "Sub", p + "/pos", p + "/scaled")]


def _fill_defaults(node: Any, path: Path) -> None:
    """Fill the attrs a node leaves out with TensorFlow's registered defaults; refuse unknown ops."""
    from tensorflow.python.framework import op_def_registry

    op_def = op_def_registry.get(node.op)
    if op_def is None:
        raise TfjsError(f"{path}: op '{node.op}' (node '{node.name}') cannot be converted: TensorFlow has no "
                        "such op; re-export the model with standard ops")
    for attr in op_def.attr:
        if attr.name not in node.attr and attr.HasField("default_value"):
            node.attr[attr.name].CopyFrom(attr.default_value)
    if node.op == "_FusedConv2D" and "TArgs" not in node.attr:  # pragma: no cover - unfused above
        node.attr["TArgs"].list.type.extend([node.attr["T"].type] * int(node.attr["num_args"].i))


def as_function(graph: TfjsGraph, inputs: list[str], outputs: list[str],
                batch: int | str | None = "keep", fixed: dict[str, float] | None = None) -> Any:
    """The GraphDef as a TensorFlow concrete function: ``fn(*inputs) -> [outputs]`` (tensor names).

    ``batch`` (e.g. None for any) replaces the batch dimension of the image placeholders first;
    ``fixed`` turns other placeholders into scalar constants (a recurrent model's first state, a
    downsample ratio)."""
    import tensorflow as tf

    gd = graph.graph_def
    if batch != "keep" or fixed:
        gd = type(gd)()
        gd.CopyFrom(graph.graph_def)
        fed = {i.split(":")[0] for i in inputs}
        consts = {k.split(":")[0]: v for k, v in (fixed or {}).items()}
        for node in gd.node:
            if node.op == "Placeholder" and node.name in consts:
                dtype = tf.as_dtype(node.attr["dtype"].type)
                value = tf.make_tensor_proto(np.asarray(consts[node.name], dtype.as_numpy_dtype))
                node.op = "Const"
                node.ClearField("attr")
                node.attr["dtype"].type = dtype.as_datatype_enum
                node.attr["value"].tensor.CopyFrom(value)
            elif batch != "keep" and node.op == "Placeholder" and node.name in fed and "shape" in node.attr:
                dims = node.attr["shape"].shape.dim
                if len(dims) == 4:
                    dims[0].size = -1 if batch is None else int(batch)

    def _load() -> None:
        tf.compat.v1.import_graph_def(gd, name="")

    try:
        wrapped = tf.compat.v1.wrap_function(_load, [])
    except (ValueError, TypeError, KeyError, tf.errors.OpError) as exc:
        reason = one_line(describe(exc, with_type=False))[:200]
        raise TfjsError(f"TensorFlow cannot load the graph: {reason}; the model.json is "
                        "inconsistent (re-export it with tensorflowjs_converter)") from None
    g = wrapped.graph
    try:
        return wrapped.prune([g.as_graph_element(i) for i in inputs],
                             [g.as_graph_element(o) for o in outputs])
    except (KeyError, ValueError) as exc:
        raise TfjsError(f"the model has no tensor {str(exc)[:120]}; "
                        "check the spec's input/output names") from None
