"""Exact graph rewrites that make exported models faster in ONNX Runtime.

The trained Keras model stays what it is; an exporter may emit an *equivalent* function built
from the same weights in a form that ONNX Runtime's CPU kernels run faster, and the export's
parity check (``export_function(..., reference=original)``) proves the two agree.

The rewrites, each exact (up to float summation order):

- **Nearest-neighbour upsampling by an integer factor** as one ONNX ``Resize`` with the
  ``asymmetric`` coordinate mode and constant scales (:func:`nearest_upsample_tf`). Keras'
  ``UpSampling2D`` exports as a chain of Tile/Reshape ops, and ``tf.image.resize`` as a Resize
  in the deprecated ``tf_half_pixel_for_nn`` mode; neither runs in ONNX Runtime's blocked
  (NCHWc) layout, so every upsample costs two layout conversions. For an integer factor s and
  floor rounding the modes pick the same pixels: ⌊(x + ½)/s⌋ = ⌊x/s⌋.
- **A k×k convolution with few output channels at full resolution** (the RGB head of a style
  network) is a ⌈(k+b-1)/b⌉² convolution over ``space_to_depth(b)`` of its input with
  b²× the output channels, followed by ``depth_to_space(b)``: :func:`space_to_depth_kernel`.
  A 3-channel output is a bad shape for ONNX Runtime's blocked kernels (padded to 16 output
  channels on AVX-512 machines); b² × 3 channels at 1/b² of the pixels is a good one.
- **Nearest ×2 upsampling then a 3×3 "same" convolution** is a 3×3 convolution at the low
  resolution with 4× the output channels, whose output is ``space_to_depth(2)`` of the original
  (:func:`subpixel_kernel`, :func:`upsample_conv_blocks_tf`); a following "same" convolution can
  run on that block form directly (:func:`same_conv_blocks_tf`), so a generator's last stage
  never makes its full-resolution feature map.

- **Transposes that undo each other** (:func:`cancel_inverse_transposes`): tf2onnx works in NCHW
  and transposes back to NHWC at every graph output; an output taken mid-network (a backbone's
  feature maps) is transposed to NHWC and straight back for the layers after it. Those layers
  read the NCHW tensor directly instead (exact: no arithmetic). Applied to every export.

Kernels are NHWC/HWIO (TensorFlow's layout); channel order after ``depth_to_space`` follows
TensorFlow's: input channel ``(dy * b + dx) * C + c`` lands at ``(b*i + dy, b*j + dx, c)``.
The kernel functions need only numpy; the ``*_tf`` helpers import TensorFlow (export only).
"""

from __future__ import annotations

from typing import Any

import numpy as np

# For nearest ×2 then a 3-tap filter: output phase a (0 or 1) reads low-res offsets -1, 0, +1
# with these sums of the original taps (indices into the taps at offsets -1, 0, +1).
_PHASE_TAPS = {0: ((0,), (1, 2), ()), 1: ((), (0, 1), (2,))}


def subpixel_kernel(kernel: np.ndarray) -> np.ndarray:
    """(3, 3, Cin, Cout) kernel of a "same" conv after nearest ×2 upsampling → the (3, 3, Cin,
    4·Cout) kernel of the equivalent "same" conv at the low resolution, whose output is
    ``space_to_depth(2)`` of the original's."""
    kernel = np.asarray(kernel)
    if kernel.shape[:2] != (3, 3):
        raise ValueError(f"subpixel_kernel needs a 3x3 kernel, got {kernel.shape[:2]}")
    cin, cout = kernel.shape[2:]
    out = np.zeros((3, 3, cin, 4 * cout), kernel.dtype)
    for a in (0, 1):
        for b in (0, 1):
            phase = (a * 2 + b) * cout
            for oy, ys in enumerate(_PHASE_TAPS[a]):
                for ox, xs in enumerate(_PHASE_TAPS[b]):
                    for ky in ys:
                        for kx in xs:
                            out[oy, ox, :, phase:phase + cout] += kernel[ky, kx]
    return out


def space_to_depth_kernel(kernel: np.ndarray, block: int) -> np.ndarray:
    """(k, k, Cin, Cout) kernel of a VALID conv → the (m, m, b²·Cin, b²·Cout) kernel of the VALID
    conv over ``space_to_depth(b)`` of the same (padded) input, m = ⌈(k + b - 1) / b⌉; its
    ``depth_to_space(b)`` is the original output. The padded input's sides must be multiples of
    b, and the output then has ``side / b - m + 1`` blocks (crop the original's extra rows)."""
    kernel = np.asarray(kernel)
    k, k2, cin, cout = kernel.shape
    if k != k2:
        raise ValueError(f"space_to_depth_kernel needs a square kernel, got {kernel.shape[:2]}")
    m = -(-(k + block - 1) // block)
    out = np.zeros((m, m, block * block * cin, block * block * cout), kernel.dtype)
    for p in range(block):  # output phase (row)
        for q in range(block):  # output phase (column)
            o = (p * block + q) * cout
            for dy in range(k):
                my, r = divmod(p + dy, block)
                for dx in range(k):
                    mx, s = divmod(q + dx, block)
                    i = (r * block + s) * cin
                    out[my, mx, i:i + cin, o:o + cout] += kernel[dy, dx]
    return out


def upsample_conv_blocks_tf(x: Any, kernel: np.ndarray) -> Any:
    """``space_to_depth(2)`` of ``conv3x3_same(nearest_x2(x))``, computed at x's resolution."""
    import tensorflow as tf

    return tf.nn.conv2d(x, tf.constant(subpixel_kernel(kernel)), 1, "SAME")


def same_conv_blocks_tf(blocks: Any, kernel: np.ndarray, bias: np.ndarray | None, block: int) -> Any:
    """``space_to_depth(b)`` of a zero-padded "same" conv (odd k) of x, computed from
    ``blocks = space_to_depth(b)(x)`` without leaving block space: x padded by whole blocks
    P ≥ k//2 and the kernel shifted by P - k//2 zero taps is a VALID conv of the padded input,
    rewritten over blocks as in :func:`space_to_depth_kernel`."""
    import tensorflow as tf

    k = kernel.shape[0]
    t = -(-(k // 2) // block)  # whole blocks of padding
    shift = t * block - k // 2
    shifted = np.zeros((k + shift, k + shift, *kernel.shape[2:]), kernel.dtype)
    shifted[shift:, shift:] = kernel
    bk = space_to_depth_kernel(shifted, block)
    padded = tf.pad(blocks, [[0, 0], [t, t], [t, t], [0, 0]])
    y = tf.nn.conv2d(padded, tf.constant(bk), 1, "VALID")
    shape = tf.shape(blocks)
    y = y[:, :shape[1], :shape[2]]
    if bias is not None:
        y = y + tf.constant(np.tile(np.asarray(bias), block * block))
    return y


def nearest_upsample_tf(x: Any, factor: int = 2) -> Any:
    """Nearest-neighbour upsampling of an NHWC tensor with a static spatial shape by an integer
    factor, in the form that exports to one asymmetric-mode ONNX Resize with constant scales."""
    import tensorflow as tf

    h, w = x.shape[1], x.shape[2]
    if h is None or w is None:
        raise ValueError("nearest_upsample_tf needs a static spatial shape")
    return tf.compat.v1.image.resize_nearest_neighbor(x, (h * factor, w * factor), align_corners=False,
                                                      half_pixel_centers=False)


def space_to_depth_conv_tf(x_padded: Any, kernel: np.ndarray, bias: np.ndarray | None = None, *,
                           block: int = 4, aligned: bool = False) -> Any:
    """The VALID conv of ``kernel`` over ``x_padded`` (NHWC), computed as a conv over
    ``space_to_depth(block)`` and cropped to the VALID output size. Sides that are not multiples
    of ``block`` get zero rows at the bottom/right; ``aligned=True`` promises they are (a
    dynamic-size model whose inputs are multiples of the block), which keeps a no-op Pad out of
    the graph."""
    import tensorflow as tf

    k = kernel.shape[0]
    m = -(-(k + block - 1) // block)
    shape = tf.shape(x_padded)
    out_h, out_w = shape[1] - k + 1, shape[2] - k + 1
    # zero rows/columns at the bottom/right so the sides are multiples of the block and the
    # block conv covers every original output (they only feed outputs that are cropped away)
    extra = block * m - (k + block - 1)
    pad_h = extra + (-(shape[1] + extra)) % block
    pad_w = extra + (-(shape[2] + extra)) % block
    if extra or (not aligned and (x_padded.shape[1] is None or x_padded.shape[1] % block
                                  or x_padded.shape[2] is None or x_padded.shape[2] % block)):
        x_padded = tf.pad(x_padded, [[0, 0], [0, pad_h], [0, pad_w], [0, 0]])
    z = tf.nn.conv2d(tf.nn.space_to_depth(x_padded, block),
                     tf.constant(space_to_depth_kernel(kernel, block)), 1, "VALID")
    if bias is not None:
        z = z + tf.constant(np.tile(np.asarray(bias), block * block))
    return tf.nn.depth_to_space(z, block)[:, :out_h, :out_w]


def cancel_inverse_transposes(graph: Any) -> int:
    """Rewire the readers of ``Transpose(p2, Transpose(p1, x))`` with p2 ∘ p1 = identity to read
    ``x``, and drop the second transpose (ONNX ``GraphProto``, edited in place). Returns how many
    were dropped; a transpose that is a graph output itself is kept."""
    producer = {out: n for n in graph.node for out in n.output}
    outputs = {o.name for o in graph.output}

    def perm(n: Any) -> list[int]:
        return next((list(a.ints) for a in n.attribute if a.name == "perm"), [])

    dropped = []
    for second in graph.node:
        if second.op_type != "Transpose" or second.output[0] in outputs:
            continue
        first = producer.get(second.input[0])
        if first is None or first.op_type != "Transpose":
            continue
        p1, p2 = perm(first), perm(second)
        if not p1 or len(p1) != len(p2) or [p1[i] for i in p2] != list(range(len(p1))):
            continue
        for n in graph.node:
            for i, name in enumerate(n.input):
                if name == second.output[0]:
                    n.input[i] = first.input[0]
        dropped.append(second)
    for n in dropped:
        graph.node.remove(n)
    return len(dropped)
