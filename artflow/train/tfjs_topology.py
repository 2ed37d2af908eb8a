"""Checking a TF.js model's topology without TensorFlow: a graph model's nodes (unique names, inputs
that name nodes, no cycles, constants whose declared size is counted) and a layers model's Keras
layers (known classes, inbound layers that exist, no cycles), plus the shape check both use;
see :mod:`artflow.train.tfjs_checks`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import ModelError, one_line

MAX_RANK = 8
MAX_DIM = 2**31 - 1
GRAPH_DTYPES = {"DT_FLOAT": 4, "DT_INT32": 4, "DT_BOOL": 1, "DT_HALF": 2, "DT_UINT8": 1, "DT_INT8": 1,
                "DT_UINT16": 2, "DT_INT16": 2, "DT_INT64": 8, "DT_DOUBLE": 8, "DT_COMPLEX64": 8,
                "DT_STRING": 8}
#: Keras layer classes a layers model may use without a plugin declaring them
KERAS_LAYERS = frozenset({
    "InputLayer", "Conv2D", "Conv2DTranspose", "DepthwiseConv2D", "SeparableConv2D", "Dense",
    "Activation", "ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax", "Concatenate", "Add", "Subtract",
    "Multiply", "Average", "Maximum", "Minimum", "UpSampling2D", "MaxPooling2D", "AveragePooling2D",
    "GlobalAveragePooling2D", "GlobalMaxPooling2D", "BatchNormalization", "ZeroPadding2D",
    "Cropping2D", "Reshape", "Flatten", "Dropout"})


class TfjsError(ModelError):
    """The TF.js model cannot be read or converted; the message names the file, field or op."""


def q(value: Any, limit: int = 80) -> str:
    """A name from the file, quoted and printable, cut to ``limit`` characters."""
    text = str(value)
    return "'" + one_line(text[:limit] + ("…" if len(text) > limit else "")) + "'"


def check_shape(what: str, shape: Any) -> tuple[int, ...]:
    """A list of at most 8 integers in 0..2**31-1 (TF.js writes ints; protobuf JSON writes strings)."""
    if not isinstance(shape, list) or len(shape) > MAX_RANK:
        raise TfjsError(f"{what}: shape {q(shape)} is not a list of at most {MAX_RANK} sizes")
    dims = []
    for d in shape:
        if isinstance(d, str) and d.isascii() and d.lstrip("-").isdigit() and len(d) < 20:
            d = int(d)
        if isinstance(d, bool) or not isinstance(d, int) or not 0 <= d <= MAX_DIM:
            raise TfjsError(f"{what}: shape {q(shape)} has {q(d)}, not a size from 0 to {MAX_DIM}")
        dims.append(d)
    return tuple(dims)


def check_graph(path: Path, topology: dict[str, Any], signature: Any) -> int:
    """A graph model's nodes: names, ops, inputs and acyclicity; returns the bytes its declared
    constants expand to (a constant may give its shape and one value to repeat)."""
    nodes = topology.get("node")
    if not isinstance(nodes, list):
        raise TfjsError(f"{path}: modelTopology.node is not a list of nodes")
    if not all(isinstance(topology.get(k, {}), dict) for k in ("library", "versions")):
        raise TfjsError(f"{path}: modelTopology.library/versions are not objects")
    edges: dict[str, list[str]] = {}
    const_bytes = 0
    for i, node in enumerate(nodes):
        if not isinstance(node, dict) or not isinstance(node.get("name"), str) or not node["name"] \
                or not isinstance(node.get("op"), str) or not node["op"]:
            raise TfjsError(f"{path}: node {i} has no name or op")
        name = node["name"]
        if name in edges:
            raise TfjsError(f"{path}: two nodes are named {q(name)}")
        inputs = node.get("input", [])
        attr = node.get("attr", {})
        if not isinstance(inputs, list) or not all(isinstance(x, str) and x for x in inputs) \
                or not isinstance(attr, dict) or not all(isinstance(v, dict) for v in attr.values()):
            raise TfjsError(f"{path}: node {q(name)} has inputs that are not names or attrs that are "
                            "not objects")
        edges[name] = [x.lstrip("^").split(":")[0] for x in inputs]
        const_bytes += _declared_bytes(path, name, attr)
    for name, inputs in edges.items():
        for x in inputs:
            if x not in edges:
                raise TfjsError(f"{path}: node {q(name)} takes {q(x)}, which is not a node of the graph")
    _acyclic(path, "node", edges)
    if signature is not None:
        _check_signature(path, signature, edges)
    return const_bytes


def _declared_bytes(path: Path, name: str, attr: dict[str, Any]) -> int:
    """Bytes of a node's ``value`` tensor as declared by its shape (what TensorFlow allocates)."""
    tensor = attr.get("value", {}).get("tensor")
    if tensor is None:
        return 0
    if not isinstance(tensor, dict):
        raise TfjsError(f"{path}: node {q(name)}'s value is not a tensor")
    shape = tensor.get("tensorShape", {})
    dims = shape.get("dim", []) if isinstance(shape, dict) else None
    if not isinstance(dims, list) or not all(isinstance(d, dict) for d in dims):
        raise TfjsError(f"{path}: node {q(name)}'s value has a shape that is not a list of dims")
    sizes = check_shape(f"{path}: node {q(name)}'s value", [d.get("size", 0) for d in dims])
    count = 1
    for d in sizes:
        count *= d
    dtype = tensor.get("dtype", "DT_FLOAT")
    return count * (GRAPH_DTYPES.get(dtype, 8) if isinstance(dtype, str) else 8)


def _check_signature(path: Path, signature: Any, edges: dict[str, list[str]]) -> None:
    if not isinstance(signature, dict):
        raise TfjsError(f"{path}: signature is not an object")
    for side in ("inputs", "outputs"):
        entries = signature.get(side, {})
        if not isinstance(entries, dict):
            raise TfjsError(f"{path}: signature.{side} is not an object")
        for key, entry in entries.items():
            tensor = entry.get("name") if isinstance(entry, dict) else None
            if not isinstance(tensor, str) or not tensor:
                raise TfjsError(f"{path}: signature.{side} {q(key)} has no tensor name")
            if tensor.split(":")[0] not in edges:
                raise TfjsError(f"{path}: signature.{side} {q(key)} names {q(tensor)}, which is not a node")


def _acyclic(path: Path, what: str, edges: dict[str, list[str]]) -> list[str]:
    """Kahn's order of ``edges`` (name -> the names it takes); a cycle or self-loop is refused."""
    waiting = {n: len(set(ins)) for n, ins in edges.items()}
    users: dict[str, list[str]] = {n: [] for n in edges}
    for n, ins in edges.items():
        for x in set(ins):
            users[x].append(n)
    ready = [n for n, k in waiting.items() if k == 0]
    order = []
    while ready:
        n = ready.pop()
        order.append(n)
        for u in users[n]:
            waiting[u] -= 1
            if waiting[u] == 0:
                ready.append(u)
    if len(order) < len(edges):
        stuck = sorted(n for n, k in waiting.items() if k > 0)
        raise TfjsError(f"{path}: the {what}s {', '.join(q(n, 40) for n in stuck[:3])}"
                        f"{' …' if len(stuck) > 3 else ''} form a cycle; a model is a graph without loops")
    return order


def check_layers(path: Path, topology: dict[str, Any], known: set[str]) -> list[dict[str, Any]]:
    """A layers model's Keras topology → its layers in run order, each with ``inputs`` (names)."""
    config = topology.get("model_config", topology)
    if not isinstance(config, dict) or not isinstance(config.get("config"), dict):
        raise TfjsError(f"{path}: modelTopology.model_config is not a Keras model config")
    kind = config.get("class_name")
    body = config["config"]
    layers = body.get("layers")
    if kind not in ("Functional", "Model", "Sequential") or not isinstance(layers, list) or not layers:
        raise TfjsError(f"{path}: a layers model must be a Keras Functional or Sequential model with "
                        f"layers (got class {q(kind)})")
    by_name: dict[str, dict[str, Any]] = {}
    previous = None
    for i, layer in enumerate(layers):
        if not isinstance(layer, dict) or not isinstance(layer.get("class_name"), str) \
                or not isinstance(layer.get("config"), dict):
            raise TfjsError(f"{path}: layer {i} is not an object with class_name and config")
        name = layer.get("name", layer["config"].get("name"))
        if not isinstance(name, str) or not name:
            raise TfjsError(f"{path}: layer {i} ({q(layer['class_name'])}) has no name")
        if name in by_name:
            raise TfjsError(f"{path}: two layers are named {q(name)}")
        if layer["class_name"] not in known:
            raise TfjsError(f"{path}: layer {q(name)} is of class {q(layer['class_name'])}, which neither "
                            "Keras nor a loaded plugin provides; a plugin declares it with "
                            "register_import_layers (see `artflow import --help`)")
        inputs = _inbound(path, name, layer.get("inbound_nodes", [])) if kind != "Sequential" else \
            ([previous] if previous else [])
        by_name[name] = {**layer, "name": name, "inputs": inputs}
        previous = name
    edges = {n: list(v["inputs"]) for n, v in by_name.items()}
    for n, ins in edges.items():
        for x in ins:
            if x not in by_name:
                raise TfjsError(f"{path}: layer {q(n)} takes {q(x)}, which is not a layer of the model")
    order = _acyclic(path, "layer", edges)
    if kind == "Sequential":
        return [by_name[n] for n in by_name]
    for side in ("input_layers", "output_layers"):
        ends = body.get(side)
        if not isinstance(ends, list) or not ends or not all(
                isinstance(e, list) and e and isinstance(e[0], str) and e[0] in by_name for e in ends):
            raise TfjsError(f"{path}: {side} must list the model's {side.split('_')[0]} layers by name")
    return [by_name[n] for n in order]


def _inbound(path: Path, name: str, nodes: Any) -> list[str]:
    """The names a layer takes, from Keras 2's ``[[["name", 0, 0, {}], …]]`` (called once)."""
    if not isinstance(nodes, list) or len(nodes) > 1:
        raise TfjsError(f"{path}: layer {q(name)} is called {len(nodes) if isinstance(nodes, list) else '?'} "
                        "times or its inbound_nodes are not a list; artflow imports layers used once")
    if not nodes:
        return []
    refs = nodes[0]
    if not isinstance(refs, list) or not all(
            isinstance(r, list) and len(r) >= 3 and isinstance(r[0], str) and r[1] == 0 and r[2] == 0
            for r in refs):
        raise TfjsError(f"{path}: layer {q(name)} has inbound_nodes that are not "
                        "[[[\"layer\", 0, 0, {}], …]]")
    return [r[0] for r in refs]


#: size settings of Keras' layers (ints or lists of ints): each at most MAX_LAYER_SIZE
SIZE_KEYS = ("filters", "units", "kernel_size", "strides", "size", "padding", "cropping", "dilation_rate",
             "pool_size", "target_shape", "depth_multiplier", "groups")
MAX_LAYER_SIZE = 4096
#: weighted Keras layers: (kernel variable, the kernel dim that holds the declared width, its setting)
KERNELS = {"Conv2D": ("kernel", -1, "filters"), "Conv2DTranspose": ("kernel", 2, "filters"),
           "Dense": ("kernel", -1, "units"), "DepthwiseConv2D": ("depthwise_kernel", None, None),
           "SeparableConv2D": ("pointwise_kernel", -1, "filters")}


def check_layer_sizes(path: Path, layers: list[dict[str, Any]], shapes: dict[str, tuple[int, ...]]) -> None:
    """Keras' own layers declare only small sizes, and a weighted layer's kernel size and width match
    its weights in the manifest, so building the model allocates no more than the shards hold."""
    for layer in layers:
        cls, name, config = layer["class_name"], layer["name"], layer["config"]
        if cls not in KERAS_LAYERS:
            continue  # a plugin's layer: its builder checks its own config
        for key in SIZE_KEYS:
            values = config.get(key)
            flat = values if isinstance(values, list) else [values]
            flat = [v for x in flat for v in (x if isinstance(x, list) else [x])]
            low = -1 if key == "target_shape" else 0
            if any(isinstance(v, bool) or (isinstance(v, int) and not low <= v <= MAX_LAYER_SIZE) or
                   isinstance(v, float) for v in flat):
                raise TfjsError(f"{path}: layer {q(name)} sets {key} to {q(values, 60)}; artflow imports "
                                f"layers whose sizes are whole numbers up to {MAX_LAYER_SIZE}")
        if cls not in KERNELS:
            continue
        var, axis, setting = KERNELS[cls]
        shape = shapes.get(f"{name}/{var}")
        if shape is None or len(shape) != (2 if cls == "Dense" else 4):
            rank = 2 if cls == "Dense" else 4
            raise TfjsError(f"{path}: layer {q(name)} ({cls}) has no {rank}-d weight {q(f'{name}/{var}')} "
                            "in weightsManifest")
        kernel = config.get("kernel_size")
        if cls != "Dense" and cls != "SeparableConv2D" and kernel is not None:
            want = [kernel, kernel] if isinstance(kernel, int) else kernel
            if list(shape[:2]) != want:
                raise TfjsError(f"{path}: layer {q(name)} has kernel_size {q(kernel)} but its weight is "
                                f"{list(shape)}")
        if setting is not None and config.get(setting) != shape[axis]:
            raise TfjsError(f"{path}: layer {q(name)} has {setting} {q(config.get(setting))} but its "
                            f"weight is {list(shape)}")
