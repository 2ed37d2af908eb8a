"""Every node type of the style plugin, in the order `artflow nodes` lists them."""

from .onnx_node import onnx_model
from .transfer import style_transfer

NODES = [style_transfer, onnx_model]
