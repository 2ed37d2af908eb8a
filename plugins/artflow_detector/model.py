"""The detector network (CenterNet-style), its training targets and loss, and the in-graph decoder.

The network maps an image (S×S RGB in [0, 1]) to a stride-4 grid of ``C`` class heatmap logits,
box sizes (log of width and height in grid cells) and centre offsets (sub-cell). The exported
function adds decoding: peaks are the cells equal to the 3×3 max-pool of the logits (the
peak extraction CenterNet uses instead of NMS), then ``top_k`` keeps :data:`MAX_DETECTIONS`
candidates with their class, score and box. Outputs, all for a batch of N:

- ``boxes`` (N, K, 4): xyxy in units of the input side (0…1 spans the model input);
- ``scores`` (N, K): sigmoid of the peak logit, best first (0 for candidates under
  :data:`MIN_SCORE`, whose boxes and classes are zeroed too, so near-ties in the noise floor
  cannot make ONNX Runtime and TensorFlow disagree);
- ``classes`` (N, K): class index as float.

TensorFlow is imported inside functions only; target building is NumPy.
"""

from __future__ import annotations

from typing import Any

import numpy as np

STRIDE = 4
MAX_DETECTIONS = 100
MIN_SCORE = 0.05


def build_network(size: int, classes: int, width: str = "full", upsample: str = "repeat") -> Any:
    """The Keras network: ``full`` (shipped) or ``tiny`` (``--quick``); output (N, S/4, S/4, C+4).

    ``upsample``: ``repeat`` (UpSampling2D, for training) or ``resize`` (a nearest-neighbour
    Resizing layer: the same numbers, but it exports as one ONNX Resize instead of a chain of
    Tile/Reshape/Transpose, which ONNX Runtime runs much faster at large batches). The two
    variants share their weights (``set_weights``).
    """
    import keras
    from keras import layers

    w = {"full": (16, 32, 48, 96, 128), "tiny": (8, 12, 16, 24, 32)}[width]

    class NearestUp(layers.Layer):
        """2x nearest-neighbour upsampling that exports as one ONNX Resize (asymmetric, floor)."""

        def __init__(self, to: int, **kwargs: Any):
            super().__init__(**kwargs)
            self.to = to

        def call(self, x: Any) -> Any:
            import tensorflow as tf

            return tf.compat.v1.image.resize_nearest_neighbor(x, (self.to, self.to), align_corners=False,
                                                              half_pixel_centers=False)

        def compute_output_shape(self, shape: Any) -> Any:
            return (shape[0], self.to, self.to, shape[3])

    def up(x: Any, to: int) -> Any:
        return NearestUp(to)(x) if upsample == "resize" else layers.UpSampling2D(2)(x)

    def conv(x: Any, ch: int, stride: int = 1, k: int = 3) -> Any:
        x = layers.Conv2D(ch, k, strides=stride, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        return layers.ReLU()(x)

    inputs = keras.Input((size, size, 3), name="image")
    x = layers.Rescaling(2.0, offset=-1.0)(inputs)
    x = conv(x, w[0], 2)                 # /2
    c4 = conv(conv(x, w[1], 2), w[1])    # /4
    c8 = conv(conv(c4, w[2], 2), w[2])   # /8
    c16 = conv(conv(c8, w[3], 2), w[3])  # /16
    c32 = conv(conv(c16, w[4], 2), w[4])  # /32
    p16 = conv(layers.Add()([up(conv(c32, w[3], k=1), size // 16), conv(c16, w[3], k=1)]), w[3])
    p8 = conv(layers.Add()([up(conv(p16, w[2], k=1), size // 8), conv(c8, w[2], k=1)]), w[2])
    p4 = conv(layers.Add()([up(conv(p8, w[1], k=1), size // 4), conv(c4, w[1], k=1)]), w[1])
    head = conv(p4, w[1])
    heat = layers.Conv2D(classes, 1, bias_initializer=keras.initializers.Constant(-4.6), name="heat")(head)
    reg = layers.Conv2D(4, 1, name="reg")(conv(p4, w[1]))
    out = layers.Concatenate(name="raw")([heat, reg])
    return keras.Model(inputs, out, name=f"centernet_{width}")


def make_targets(boxes: list[np.ndarray], classes: list[np.ndarray], size: int, n_classes: int) -> np.ndarray:
    """Dense targets (N, G, G, C+5): gaussian heatmaps, log size, offset, and the centre mask.

    ``boxes`` are xyxy in pixels of the S×S input; G = S / 4.
    """
    g = size // STRIDE
    out = np.zeros((len(boxes), g, g, n_classes + 5), dtype=np.float32)
    ys, xs = np.mgrid[0:g, 0:g].astype(np.float32)
    for i, (bx, cl) in enumerate(zip(boxes, classes, strict=True)):
        order = np.argsort(-(bx[:, 2] - bx[:, 0]) * (bx[:, 3] - bx[:, 1])) if len(bx) else []
        for j in order:  # large first, so a small object's centre values win where they meet
            x0, y0, x1, y1 = (float(v) / STRIDE for v in bx[j])
            w, h = max(x1 - x0, 1e-3), max(y1 - y0, 1e-3)
            cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
            ix, iy = min(g - 1, max(0, int(cx))), min(g - 1, max(0, int(cy)))
            sx, sy = max(0.5, 0.09 * w), max(0.5, 0.09 * h)  # TTFNet: 0.54 * side / 6
            gauss = np.exp(-((xs - ix) ** 2) / (2 * sx * sx) - ((ys - iy) ** 2) / (2 * sy * sy))
            c = int(cl[j])
            out[i, :, :, c] = np.maximum(out[i, :, :, c], gauss)
            out[i, iy, ix, c] = 1.0
            out[i, iy, ix, n_classes:n_classes + 5] = (np.log(w), np.log(h), cx - ix, cy - iy, 1.0)
    return out


def detection_loss(n_classes: int) -> Any:
    """Penalty-reduced focal loss on the heatmap + L1 on log size and offset at object centres."""
    import tensorflow as tf

    def loss(y_true: Any, y_pred: Any) -> Any:
        gt = y_true[..., :n_classes]
        logits = y_pred[..., :n_classes]
        p = tf.clip_by_value(tf.sigmoid(logits), 1e-4, 1 - 1e-4)
        pos = tf.cast(gt >= 1.0, tf.float32)
        neg = 1.0 - pos
        pos_loss = -tf.math.log(p) * tf.square(1 - p) * pos
        neg_loss = -tf.math.log(1 - p) * tf.square(p) * tf.pow(1 - gt, 4) * neg
        mask = y_true[..., n_classes + 4:n_classes + 5]
        n = tf.maximum(tf.reduce_sum(mask), 1.0)
        focal = (tf.reduce_sum(pos_loss) + tf.reduce_sum(neg_loss)) / n
        reg_true = y_true[..., n_classes:n_classes + 4]
        reg_pred = y_pred[..., n_classes:n_classes + 4]
        l1 = tf.abs(reg_true - reg_pred) * mask
        size_l = tf.reduce_sum(l1[..., :2]) / n
        off_l = tf.reduce_sum(l1[..., 2:]) / n
        return focal + 1.0 * size_l + 1.0 * off_l

    return loss


def decode(raw: Any, n_classes: int, size: int, k: int = MAX_DETECTIONS) -> dict[str, Any]:
    """TF ops from the raw grid (N, G, G, C+4) to final boxes, scores and classes (see module doc)."""
    import tensorflow as tf

    g = size // STRIDE
    logits = raw[..., :n_classes]
    peak = tf.nn.max_pool2d(logits, ksize=3, strides=1, padding="SAME")
    scores = tf.where(tf.equal(logits, peak), tf.sigmoid(logits), tf.zeros_like(logits))
    flat = tf.reshape(scores, [-1, g * g * n_classes])
    top, idx = tf.math.top_k(flat, k=k, sorted=True)
    cls = idx % n_classes
    cell = idx // n_classes
    cy = cell // g
    cx = cell % g
    reg = tf.reshape(raw[..., n_classes:n_classes + 4], [-1, g * g, 4])
    picked = tf.gather(reg, cell, batch_dims=1)
    w = tf.exp(picked[..., 0]) / g
    h = tf.exp(picked[..., 1]) / g
    x = (tf.cast(cx, tf.float32) + picked[..., 2]) / g
    y = (tf.cast(cy, tf.float32) + picked[..., 3]) / g
    boxes = tf.stack([x - w / 2, y - h / 2, x + w / 2, y + h / 2], axis=-1)
    keep = top >= MIN_SCORE
    keep_f = tf.cast(keep, tf.float32)
    return {
        "boxes": boxes * keep_f[..., None],
        "scores": top * keep_f,
        "classes": tf.cast(cls, tf.float32) * keep_f,
    }


def decode_numpy(raw: np.ndarray, n_classes: int, size: int,
                 k: int = MAX_DETECTIONS) -> dict[str, np.ndarray]:
    """The same decoding in NumPy (for tests and for checking the graph)."""
    from numpy.lib.stride_tricks import sliding_window_view

    g = size // STRIDE
    logits = raw[..., :n_classes]
    pad = np.pad(logits, ((0, 0), (1, 1), (1, 1), (0, 0)), constant_values=-np.inf)
    peak = sliding_window_view(pad, (3, 3), axis=(1, 2)).max(axis=(-1, -2))
    scores = np.where(logits == peak, 1 / (1 + np.exp(-logits)), 0).reshape(len(raw), -1)
    idx = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    top = np.take_along_axis(scores, idx, 1)
    cls, cell = idx % n_classes, idx // n_classes
    reg = raw[..., n_classes:].reshape(len(raw), g * g, 4)
    picked = np.take_along_axis(reg, cell[..., None], 1)
    w, h = np.exp(picked[..., 0]) / g, np.exp(picked[..., 1]) / g
    x, y = (cell % g + picked[..., 2]) / g, (cell // g + picked[..., 3]) / g
    keep = (top >= MIN_SCORE).astype(np.float32)
    boxes = np.stack([x - w / 2, y - h / 2, x + w / 2, y + h / 2], -1) * keep[..., None]
    return {"boxes": boxes.astype(np.float32), "scores": (top * keep).astype(np.float32),
            "classes": (cls * keep).astype(np.float32)}
