"""Detector nodes: `detect.objects`, `detect.crop` and `composite.paste_boxes`.

    image.load → detect.objects → draw.boxes → image.save
    image.load → detect.objects → detect.crop → classify.image → draw.caption
    image.load → detect.objects → detect.crop → style.transfer → composite.paste_boxes

`detect.crop` turns every box of every image into one item of a new batch (in image order,
then box order); `composite.paste_boxes` takes such a batch (restyled, say) and puts each item
back where it came from, so both nodes must be given the same boxes, ``padding``, ``square``
and ``min_score``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from artflow.errors import ArtflowError
from artflow.imaging import LUMA, resize
from artflow.nodes import In, NodeContext, Out, node
from artflow.params import Bool, Float, Int, Model
from artflow.types import BOXES, IMAGE, TEXT, Box

from .detect import detections, to_boxes


@node(
    "detect.objects",
    category="model",
    inputs={"image": In(IMAGE, "images to search (any size; letterboxed to the model's input)")},
    outputs={"boxes": Out(BOXES, "per image: boxes xyxy in its pixels, with label and score, best first")},
    params={
        "model": Model("detector", "shapes", card=True,
                       doc="the detector: a registered one or a path to an .onnx detector with a card"),
        "score_threshold": Float(0.3, min=0.0, max=1.0, doc="drop detections scoring below this"),
        "max_detections": Int(100, min=1, max=100, doc="keep at most this many boxes per image"),
    },
    version=1,
)
def detect_objects(ctx: NodeContext, image: np.ndarray, model: str, score_threshold: float,
                   max_detections: int) -> list[list[Box]]:
    """Find objects in each image with an ONNX detector; labelled boxes in the image's pixels."""
    session = ctx.session("model")
    card = session.card  # present and a detector's: the engine checked it (af.Model card=True)
    found = detections(session, image, score_threshold, max_detections)
    return to_boxes(found, card.labels)


def crop_region(box: tuple[float, float, float, float], padding: float,
                square: bool) -> tuple[int, int, int, int]:
    """The integer pixel rectangle a crop takes for a box (may reach outside the image)."""
    x0, y0, x1, y1 = box
    w, h = max(x1 - x0, 1.0), max(y1 - y0, 1.0)
    if square:
        w = h = max(w, h)
    w, h = w * (1 + 2 * padding), h * (1 + 2 * padding)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    left, top = int(round(cx - w / 2)), int(round(cy - h / 2))
    return left, top, left + max(1, int(round(w))), top + max(1, int(round(h)))


def _kept(boxes: list[list[Box]], n_images: int, min_score: float, what: str) -> list[list[Box]]:
    if len(boxes) != n_images and not (n_images == 1 and len(boxes) >= 1):
        raise ArtflowError(f"{what}: {len(boxes)} box lists for {n_images} images")
    return [[b for b in item if b.score >= min_score] for item in boxes]


def _image_for(image: np.ndarray, i: int) -> np.ndarray:
    return image[0] if len(image) == 1 else image[i]


@node(
    "detect.crop",
    category="model",
    inputs={"image": In(IMAGE, "images the boxes were found in"),
            "boxes": In(BOXES, "boxes per image (from detect.objects)")},
    outputs={"image": Out(IMAGE, "one crop per box, size×size, image by image then box by box"),
             "names": Out(TEXT, "the label of each crop's box")},
    params={
        "size": Int(64, min=4, max=2048, doc="side of every crop in pixels"),
        "padding": Float(0.1, min=0.0, max=2.0, doc="margin around each box, as a fraction of its side"),
        "square": Bool(True, doc="take a square around each box (no distortion when resized)"),
        "min_score": Float(0.0, min=0.0, max=1.0, doc="skip boxes scoring below this"),
    },
)
def detect_crop(ctx: NodeContext, image: np.ndarray, boxes: list[list[Box]], size: int, padding: float,
                square: bool, min_score: float) -> dict[str, Any]:
    """Cut every box out into a batch of same-size crops (edges repeat past the image border)."""
    kept = _kept(boxes, len(image), min_score, f"node '{ctx.node_id}'")
    crops, names = [], []
    for i, item in enumerate(kept):
        im = _image_for(image, i)
        h, w = im.shape[:2]
        for b in item:
            x0, y0, x1, y1 = crop_region(b.box, padding, square)
            rows = np.clip(np.arange(y0, y1), 0, h - 1)
            cols = np.clip(np.arange(x0, x1), 0, w - 1)
            crops.append(resize(im[rows][:, cols], size, size))
            names.append(b.label)
    channels = image.shape[-1]
    out = np.stack(crops) if crops else np.zeros((0, size, size, channels), np.float32)
    return {"image": np.clip(out, 0, 1).astype(np.float32), "names": names}


@node(
    "composite.paste_boxes",
    category="composite",
    inputs={"image": In(IMAGE, "images to paste onto"),
            "boxes": In(BOXES, "the boxes the crops were cut from"),
            "crops": In(IMAGE, "one image per box, in detect.crop's order (e.g. restyled crops)")},
    outputs={"image": Out(IMAGE, "images with each crop pasted back over its box")},
    params={
        "padding": Float(0.1, min=0.0, max=2.0, doc="the padding detect.crop used"),
        "square": Bool(True, doc="the square setting detect.crop used"),
        "min_score": Float(0.0, min=0.0, max=1.0, doc="the min_score detect.crop used"),
        "feather": Int(0, min=0, max=256, doc="soften the pasted edges over this many pixels"),
    },
)
def paste_boxes(ctx: NodeContext, image: np.ndarray, boxes: list[list[Box]], crops: np.ndarray,
                padding: float, square: bool, min_score: float, feather: int) -> np.ndarray:
    """Paste crops back over the boxes they were cut from (the inverse of detect.crop)."""
    kept = _kept(boxes, len(image), min_score, f"node '{ctx.node_id}'")
    if len(image) == 1 and len(kept) > 1:
        image = np.broadcast_to(image, (len(kept),) + image.shape[1:])
    total = sum(len(item) for item in kept)
    if len(crops) != total:
        raise ArtflowError(f"node '{ctx.node_id}': {len(crops)} crops for {total} boxes; "
                           "give it the boxes and settings detect.crop used")
    out = np.array(image, dtype=np.float32, copy=True)
    channels = out.shape[-1]
    j = 0
    for i, item in enumerate(kept):
        h, w = out.shape[1:3]
        for b in item:
            x0, y0, x1, y1 = crop_region(b.box, padding, square)
            patch = resize(np.asarray(crops[j], np.float32), y1 - y0, x1 - x0)
            j += 1
            alpha = patch[..., 3:4] if patch.shape[-1] == 4 else np.ones(patch.shape[:2] + (1,), np.float32)
            rgb = patch[..., :3] if patch.shape[-1] >= 3 else np.repeat(patch, 3, axis=-1)
            if feather:
                ys = np.minimum(np.arange(y1 - y0), np.arange(y1 - y0)[::-1])[:, None]
                xs = np.minimum(np.arange(x1 - x0), np.arange(x1 - x0)[::-1])[None, :]
                ramp = np.clip((np.minimum(ys, xs) + 0.5) / feather, 0, 1).astype(np.float32)
                alpha = alpha * ramp[..., None]
            cx0, cy0, cx1, cy1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
            if cx1 <= cx0 or cy1 <= cy0:
                continue
            sub = (slice(cy0 - y0, cy1 - y0), slice(cx0 - x0, cx1 - x0))
            a = alpha[sub]
            region = out[i, cy0:cy1, cx0:cx1]
            if channels == 1:
                src = (rgb[sub] @ LUMA)[..., None]
                region[...] = region * (1 - a) + src * a
            else:
                region[..., :3] = region[..., :3] * (1 - a) + rgb[sub] * a
                if channels == 4:
                    region[..., 3:] = np.maximum(region[..., 3:], a)
    return np.clip(out, 0, 1).astype(np.float32)


NODES = [detect_objects, detect_crop, paste_boxes]
