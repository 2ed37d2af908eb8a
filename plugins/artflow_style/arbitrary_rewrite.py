"""ONNX rewrites that turn Magenta's arbitrary-style models into the forms `style.apply` runs.

    predictor = named_predictor(onnx.load("imported_predictor.onnx"))  # image 256² → style (1, 100)
    transformer, stats_size = shared_norm_transformer(onnx.load("imported_transformer.onnx"))

They take what `artflow import onnx` wrote (adapter, symbolic sizes: see arbitrary_ship) or the
package's original files alike: inputs are found by shape, not by name.

The transformer gets artflow's I/O names (``image`` NHWC in [0, 1] of any size, ``style`` (1, 100),
``stylized``) and, like the trained styles, its 13 conditional instance norms can take their
mean and variance from outside: ``stats`` (1, S) and ``shared`` (1,) in, ``norm_stats`` (1, S)
out. With ``shared = 0`` every norm uses its own statistics (the original network, bit for bit);
with ``shared = 1`` it uses ``stats``, so tiles of a big image all normalise with the whole
image's statistics. Needs the ``onnx`` package (the train extra); rendering never does.
"""

from __future__ import annotations

from typing import Any

import numpy as np

STYLE_SIZE = 100


def _rename_value(graph: Any, old: str, new: str) -> None:
    """Rename a value everywhere it is produced or consumed."""
    for node in graph.node:
        node.input[:] = [new if n == old else n for n in node.input]
        node.output[:] = [new if n == old else n for n in node.output]
    for seq in (graph.input, graph.output, graph.value_info):
        for v in seq:
            if v.name == old:
                v.name = new


def _symbolic(value: Any, axes: dict[int, str]) -> None:
    dims = value.type.tensor_type.shape.dim
    for axis, name in axes.items():
        dims[axis].ClearField("dim_value")
        dims[axis].dim_param = name


def _image_and_vector_inputs(graph: Any) -> tuple[Any, Any | None]:
    """The NHWC image input (3 channels) and the (1, 1, 1, 100) or (1, 100) style input, if any."""
    image = vector = None
    for value in graph.input:
        dims = [d.dim_value for d in value.type.tensor_type.shape.dim]
        if dims and dims[-1] == 3 and len(dims) == 4:
            image = value
        elif dims and dims[-1] == STYLE_SIZE:
            vector = value
    if image is None:
        raise ValueError("no NHWC RGB image input found")
    return image, vector


def _vector_output(graph: Any, helper: Any, numpy_helper: Any, name: str) -> None:
    """Make the graph's only output a (1, 100) tensor called ``name``."""
    out = graph.output[0]
    old = out.name
    shape = numpy_helper.from_array(np.array([1, STYLE_SIZE], np.int64), f"{name}_shape")
    graph.initializer.append(shape)
    graph.node.append(helper.make_node("Reshape", [old, shape.name], [name], name=f"{name}_reshape"))
    del graph.output[:]
    graph.output.append(helper.make_tensor_value_info(name, 1, [1, STYLE_SIZE]))


def named_predictor(model: Any) -> Any:
    """The style predictor with inputs/outputs ``image`` (1, 256, 256, 3) → ``style`` (1, 100)."""
    from onnx import helper, numpy_helper

    graph = model.graph
    image, _ = _image_and_vector_inputs(graph)
    _rename_value(graph, image.name, "image")
    _vector_output(graph, helper, numpy_helper, "style")
    return model


def shared_norm_transformer(model: Any) -> tuple[Any, int]:
    """The transformer with I/O ``image`` (any H, W), ``style`` (1, 100), ``stats``, ``shared`` →
    ``stylized``, ``norm_stats``; returns the model and S, the length of the statistics vector.

    Every instance norm is a pair of GlobalAveragePool nodes (mean, then variance around that
    mean); each pool's result is routed through ``Where(shared, slice of stats, own)``.
    """
    import onnx
    from onnx import helper, numpy_helper

    graph = model.graph
    image, vector = _image_and_vector_inputs(graph)
    if vector is None:
        raise ValueError("no (…, 100) style-vector input found")
    _rename_value(graph, image.name, "image")
    _symbolic(image, {1: "height", 2: "width"})
    out = graph.output[0]
    _rename_value(graph, out.name, "stylized")
    _symbolic(graph.output[0], {1: "height", 2: "width"})
    del graph.value_info[:]
    pools = [n for n in graph.node if n.op_type == "GlobalAveragePool"]
    channels = _pool_channels(model, [p.output[0] for p in pools])

    # the style vector comes in as (1, 100) and is reshaped to what the network takes
    old_vec = vector.name
    target = [d.dim_value for d in vector.type.tensor_type.shape.dim]
    graph.input.remove(vector)
    graph.input.append(helper.make_tensor_value_info("style", 1, [1, STYLE_SIZE]))
    vshape = numpy_helper.from_array(np.array(target, np.int64), "style_shape")
    graph.initializer.append(vshape)
    reshape = helper.make_node("Reshape", ["style", vshape.name], [old_vec], name="style_reshape")

    graph.input.append(helper.make_tensor_value_info("stats", 1, [1, sum(channels)]))
    graph.input.append(helper.make_tensor_value_info("shared", 1, [1]))
    half = numpy_helper.from_array(np.array([0.5], np.float32), "shared_half")
    graph.initializer.append(half)
    new_nodes = [reshape, helper.make_node("Greater", ["shared", half.name], ["shared_on"], name="shared_on")]
    flats = []
    offset = 0
    by_output = {}
    for k, (pool, c) in enumerate(zip(pools, channels, strict=True)):
        own, used = f"{pool.output[0]}__own", pool.output[0]
        pool.output[0] = own
        starts = numpy_helper.from_array(np.array([offset], np.int64), f"norm{k}_start")
        ends = numpy_helper.from_array(np.array([offset + c], np.int64), f"norm{k}_end")
        axes = numpy_helper.from_array(np.array([1], np.int64), f"norm{k}_axes")
        shape = numpy_helper.from_array(np.array([1, c, 1, 1], np.int64), f"norm{k}_shape")
        flat = numpy_helper.from_array(np.array([1, c], np.int64), f"norm{k}_flat")
        graph.initializer.extend([starts, ends, axes, shape, flat])
        by_output[own] = [
            helper.make_node("Slice", ["stats", starts.name, ends.name, axes.name], [f"norm{k}_given"]),
            helper.make_node("Reshape", [f"norm{k}_given", shape.name], [f"norm{k}_given4"]),
            helper.make_node("Where", ["shared_on", f"norm{k}_given4", own], [used], name=f"norm{k}_where"),
            helper.make_node("Reshape", [own, flat.name], [f"norm{k}_own_flat"]),
        ]
        flats.append(f"norm{k}_own_flat")
        offset += c
    nodes = new_nodes
    for node in graph.node:
        nodes.append(node)
        nodes.extend(by_output.get(node.output[0], []) if node.output else [])
    nodes.append(helper.make_node("Concat", flats, ["norm_stats"], axis=1, name="norm_stats"))
    del graph.node[:]
    graph.node.extend(nodes)
    graph.output.append(helper.make_tensor_value_info("norm_stats", 1, [1, offset]))
    onnx.checker.check_model(model)
    return model, offset


def _pool_channels(model: Any, names: list[str]) -> list[int]:
    """Channel count of each pooled tensor, found by running the model once at 64² with them
    as extra outputs (the quantized graph defeats ONNX shape inference)."""
    import onnx
    import onnxruntime as ort

    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    for name in names:
        probe.graph.output.append(onnx.helper.make_empty_tensor_value_info(name))
    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(probe.SerializeToString(), options, providers=["CPUExecutionProvider"])
    feeds = {}
    for arg in session.get_inputs():
        shape = [d if isinstance(d, int) else 64 for d in arg.shape]
        feeds[arg.name] = np.full(shape, 0.5, np.float32)
    values = session.run(names, feeds)
    return [int(v.shape[1]) for v in values]
