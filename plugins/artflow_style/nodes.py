"""Every node type of the style plugin, in the order `artflow nodes` lists them."""

from .arbitrary import style_apply, style_embed, style_mix
from .onnx_node import onnx_model
from .transfer import style_transfer

NODES = [style_transfer, style_embed, style_apply, style_mix, onnx_model]
