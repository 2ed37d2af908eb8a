"""artflow's built-in creative image nodes, registered like any third-party plugin.

The drawing helpers in :mod:`artflow_core.draw` (shapes with exact boxes, gradients, Voronoi,
random backgrounds) and :mod:`artflow_core.noise` are plain functions other plugins may import.
"""

from artflow.registry import plugin_hooks, register_modules

MODULES = ("nodes_io", "nodes_video", "nodes_const", "nodes_transform", "nodes_color", "nodes_filter",
           "nodes_composite", "nodes_generate", "nodes_annotate", "nodes_layout")


def all_nodes() -> list:
    """Every core node spec, in module order."""
    return register_modules(lambda spec: None, __package__, *MODULES)


register_nodes, register_models, register_trainers = plugin_hooks(__package__, *MODULES)
