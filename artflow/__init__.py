"""artflow: script-first creative coding with typed image-node graphs.

    import artflow as af
    g = af.Graph(seed=7)
    img = g.add("generate.gradient", width=256, height=256)
    g.add("image.save", image=g.add("filter.blur", image=img, radius=4), path="out.png")
    g.run()

Heavy libraries (TensorFlow, ONNX Runtime, Ray) are imported only by the code that needs them.

ONNX Runtime (1.31+) records usage telemetry in a database under the user's home and uploads it
when it can; artflow turns that off (``ORT_DISABLE_TELEMETRY=1``) unless the variable is already
set, so rendering someone's pictures reports nothing anywhere.
"""

from __future__ import annotations

import os as _os
from typing import Any

__version__ = "0.1.0"

_os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

from . import handoff as _handoff
from .errors import ArtflowError, GraphError, ImageError, ModelError, NodeError, ParamError, PluginError

# the graph and a run's result hand work up the layers through these (see artflow/handoff.py)
_handoff.provide("graph.run", "artflow.engine:run_graph")
_handoff.provide("graph.repr", "artflow.display:graph_repr")
_handoff.provide("graph.svg", "artflow.diagram:graph_svg")
_handoff.provide("result.html", "artflow.display:result_html")
_handoff.provide("result.show", "artflow.display:show")

# the node, param and socket names import numpy: loaded on first use, so `artflow --help` (and a
# plain `import artflow`) stays light
_LAZY = {
    **{name: ("artflow.nodes", name) for name in ("In", "NodeContext", "NodeSpec", "Out", "node")},
    **{name: ("artflow.params", name) for name in ("Bool", "Choice", "Color", "File", "Float", "Floats",
                                                   "Int", "Ints", "Model", "Path", "Str", "Strings")},
    **{name: ("artflow.types", name) for name in ("BOXES", "IMAGE", "LABELS", "LATENT", "LATENT_MAP", "MASK",
                                                  "NUMBER", "POSES", "TEXT", "ArraySocket", "Box",
                                                  "JsonSocket", "Label", "SocketType")},
    "hookimpl": ("artflow.hookspecs", "hookimpl"),
    "Graph": ("artflow.graph", "Graph"),
    "NodeRef": ("artflow.graph", "NodeRef"),
    "Engine": ("artflow.engine", "Engine"),
    "RunResult": ("artflow.engine", "RunResult"),
    "get_plugins": ("artflow.plugins", "get_plugins"),
    "keyframes": ("artflow.schedule", "keyframes"),
    "wave": ("artflow.schedule", "wave"),
    "wobble": ("artflow.schedule", "wobble"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'artflow' has no attribute {name!r}")


__all__ = [
    "ArtflowError", "GraphError", "ImageError", "ModelError", "NodeError", "ParamError", "PluginError",
    "hookimpl", "In", "NodeContext", "NodeSpec", "Out", "node",
    "Bool", "Choice", "Color", "File", "Float", "Floats", "Int", "Ints", "Model", "Path", "Str", "Strings",
    "BOXES", "IMAGE", "LABELS", "LATENT", "LATENT_MAP", "MASK", "NUMBER", "POSES", "TEXT", "Box", "Label",
    "ArraySocket", "JsonSocket", "SocketType",
    "Graph", "NodeRef", "Engine", "RunResult", "get_plugins", "__version__",
    "keyframes", "wave", "wobble",
]
