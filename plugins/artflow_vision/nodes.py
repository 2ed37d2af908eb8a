"""Pretrained-vision nodes: HED line art, pose keypoints and skeletons, person mattes.

    image.load → edges.hed → image.save                       (dark lines on white)
    image.load → pose.estimate → draw.pose(image) → image.save
    image.load → matte.person → composite.blend(base=background, top=photo, mask=matte)

Every model is an ONNX file whose graph already holds its adapter (it takes artflow's canonical
image) and its decoding (keypoints in input units, a mask in [0, 1]); these nodes only fit images
into the model's input (letterbox for fixed-size models), run, and map results back to pixels.
No TensorFlow.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from artflow import IMAGE, MASK, POSES, Bool, Color, Float, In, Int, Model, ModelError, Out, node
from artflow.imaging import gaussian_blur, resize

from .geometry import letterbox

SKELETON = [("nose", "left_eye"), ("nose", "right_eye"), ("left_eye", "left_ear"), ("right_eye", "right_ear"),
            ("left_shoulder", "right_shoulder"), ("left_shoulder", "left_elbow"),
            ("left_elbow", "left_wrist"),
            ("right_shoulder", "right_elbow"), ("right_elbow", "right_wrist"), ("left_shoulder", "left_hip"),
            ("right_shoulder", "right_hip"), ("left_hip", "right_hip"), ("left_hip", "left_knee"),
            ("left_knee", "left_ankle"), ("right_hip", "right_knee"), ("right_knee", "right_ankle")]


def _side(card: Any, default: int) -> int:
    """The square input side a fixed-size model declares (``default`` for any-size models)."""
    spec = card.input()
    return int(spec.size[0]) if spec is not None and spec.size else default


def _rgb(image: np.ndarray) -> np.ndarray:
    x = np.asarray(image, dtype=np.float32)
    if x.shape[-1] == 4:
        return x[..., :3]
    if x.shape[-1] == 1:
        return np.repeat(x, 3, axis=-1)
    return x


# --- edges.hed -----------------------------------------------------------------------------------


def thin_edges(edge: np.ndarray) -> np.ndarray:
    """Non-maximum suppression across each edge (HED's usual thinning): keep a pixel only where
    it is at least as strong as both neighbours along the edge map's gradient."""
    e = np.pad(edge, 1, mode="edge")
    gy = (e[2:, 1:-1] - e[:-2, 1:-1]) * 0.5
    gx = (e[1:-1, 2:] - e[1:-1, :-2]) * 0.5
    angle = (np.rad2deg(np.arctan2(gy, gx)) + 180.0) % 180.0
    c = e[1:-1, 1:-1]
    out = np.zeros_like(edge)
    offsets = {0: ((0, 1), (0, -1)), 45: ((1, 1), (-1, -1)), 90: ((1, 0), (-1, 0)), 135: ((1, -1), (-1, 1))}
    sector = (np.round(angle / 45.0).astype(int) % 4) * 45
    for deg, ((dy1, dx1), (dy2, dx2)) in offsets.items():
        n1 = e[1 + dy1:e.shape[0] - 1 + dy1, 1 + dx1:e.shape[1] - 1 + dx1]
        n2 = e[1 + dy2:e.shape[0] - 1 + dy2, 1 + dx2:e.shape[1] - 1 + dx2]
        keep = (sector == deg) & (c >= n1) & (c >= n2)
        out[keep] = c[keep]
    return out


@node(
    "edges.hed",
    category="model",
    inputs={"image": In(IMAGE, "photos or drawings (any size)")},
    outputs={"image": Out(IMAGE, "line art: dark lines on white, the input's size")},
    params={
        "model": Model("edges", "hed", card=True,
                       doc="the edge model: a registered one or a path to an .onnx with a card"),
        "strength": Float(1.0, min=0.1, max=5.0,
                          doc="line darkness: edge probabilities are multiplied by this"),
        "threshold": Float(0.1, min=0.0, max=1.0, doc="edge probabilities below this become white"),
        "thin": Bool(False, doc="thin lines to one pixel (non-maximum suppression across each edge)"),
        "max_side": Int(512, min=64, max=4096,
                        doc="larger images are scaled down to this side for the model, lines scaled back up"),
    },
    version=1,
)
def edges_hed(ctx: Any, image: np.ndarray, model: str, strength: float, threshold: float, thin: bool,
              max_side: int) -> np.ndarray:
    """Holistically-Nested Edge Detection: dark lines on white, with a line-strength control."""
    session = ctx.session("model")
    x = _rgb(image)
    n, h, w = x.shape[:3]
    scale = min(1.0, max_side / max(h, w))
    mh, mw = max(16, round(h * scale)), max(16, round(w * scale))
    if (mh, mw) != (h, w):
        x = resize(x, mh, mw)
    edges = session.run_batched({session.input_names[0]: np.ascontiguousarray(x)}, batch_size=1,
                                outputs=["edges"])["edges"]
    if (mh, mw) != (h, w):
        edges = resize(edges, h, w)
    out = np.empty((n, h, w, 1), np.float32)
    for i in range(n):
        e = np.clip(edges[i, ..., 0], 0.0, 1.0)
        if thin:  # one-pixel lines carry no width to read as dark: draw them at sqrt strength
            e = np.sqrt(thin_edges(e))
        e = np.where(e >= threshold, e, 0.0)
        out[i, ..., 0] = 1.0 - np.clip(e * strength, 0.0, 1.0)
    return np.repeat(out, 3, axis=-1)


# --- pose.estimate / draw.pose -------------------------------------------------------------------


@node(
    "pose.estimate",
    category="model",
    inputs={"image": In(IMAGE, "photos with people (any size; letterboxed to the model's input)")},
    outputs={"poses": Out(POSES, "per image: people with 17 named keypoints in its pixels and a score")},
    params={
        "model": Model("pose", "movenet-multipose", card=True,
                       doc="the pose model: a registered one or a path to an .onnx with a card"),
        "min_person_score": Float(0.2, min=0.0, max=1.0, doc="drop people scoring below this"),
    },
    version=1,
)
def pose_estimate(ctx: Any, image: np.ndarray, model: str,
                  min_person_score: float) -> list[list[dict[str, Any]]]:
    """Find people's keypoints (nose, eyes, ears, shoulders, … ankles) with a MoveNet model."""
    session = ctx.session("model")
    card = session.card
    side = _side(card, 256)
    x, geo = letterbox(_rgb(image), side)
    out = session.run_batched({session.input_names[0]: x}, outputs=["keypoints", "scores"])
    names = card.labels
    result: list[list[dict[str, Any]]] = []
    for kp, scores in zip(out["keypoints"], out["scores"], strict=True):
        people = []
        for person, score in sorted(zip(kp, scores, strict=True), key=lambda p: -float(p[1])):
            if float(score) < min_person_score:
                continue
            xy = geo.to_image(person[:, :2])
            points = [{"name": names[j] if j < len(names) else str(j), "x": float(xy[j, 0]),
                       "y": float(xy[j, 1]), "score": float(person[j, 2])} for j in range(len(person))]
            people.append({"points": points, "score": float(score)})
        result.append(people)
    return result


@node(
    "draw.pose",
    category="annotate",
    inputs={"image": In(IMAGE, "images the poses were found in (or anything that size)"),
            "poses": In(POSES, "people per image (from pose.estimate)")},
    outputs={"image": Out(IMAGE, "images with each person's skeleton drawn over them")},
    params={
        "color": Color("#39ff14", doc="bone colour"),
        "joint_color": Color("#ff2d95", doc="keypoint colour"),
        "width": Int(0, min=0, max=64, doc="line width in pixels (0: 1/100 of the image's longer side)"),
        "min_score": Float(0.3, min=0.0, max=1.0, doc="skip keypoints scoring below this (and their bones)"),
    },
)
def draw_pose(ctx: Any, image: np.ndarray, poses: list[list[dict[str, Any]]], color: tuple[float, ...],
              joint_color: tuple[float, ...], width: int, min_score: float) -> np.ndarray:
    """Draw skeletons (bones between confident keypoints, dots on the joints) over the images."""
    from PIL import Image, ImageDraw

    if len(poses) != len(image) and len(image) != 1:
        raise ModelError(f"node '{ctx.node_id}': {len(poses)} pose lists for {len(image)} images")
    alpha = image.shape[-1] == 4
    out = []
    for i, people in enumerate(poses):
        im = image[0] if len(image) == 1 else image[i]
        h, w = im.shape[:2]
        factor = 4 if max(h, w) <= 1024 else 2  # supersampled, then averaged down: smooth lines
        big = Image.new("RGBA", (w * factor, h * factor), (0, 0, 0, 0))
        pen = ImageDraw.Draw(big)
        lw = (width or max(2, round(max(h, w) / 100))) * factor
        rgba = tuple(int(round(c * 255)) for c in (list(color[:3]) + [1.0]))
        jrgba = tuple(int(round(c * 255)) for c in (list(joint_color[:3]) + [1.0]))
        for person in people:
            pts = {p["name"]: (p["x"] * factor, p["y"] * factor) for p in person["points"]
                   if p["score"] >= min_score}
            for a, b in SKELETON:
                if a in pts and b in pts:
                    pen.line([pts[a], pts[b]], fill=rgba, width=lw)
            r = lw * 0.9
            for x, y in pts.values():
                pen.ellipse([x - r, y - r, x + r, y + r], fill=jrgba)
        layer = np.asarray(big.resize((w, h), Image.Resampling.BOX), np.float32) / 255.0
        a = layer[..., 3:4]
        rgb = _rgb(im[None])[0]
        mixed = rgb * (1 - a) + layer[..., :3] * a
        out.append(np.concatenate([mixed, np.maximum(im[..., 3:], a)], -1) if alpha else mixed)
    return np.clip(np.stack(out), 0, 1).astype(np.float32)


# --- matte.person --------------------------------------------------------------------------------


@node(
    "matte.person",
    category="model",
    inputs={"image": In(IMAGE, "photos with people (any size)")},
    outputs={"mask": Out(MASK, "per image: 1 on people, 0 on the background, the input's size")},
    params={
        "model": Model("matte", "selfie", card=True,
                       doc="the matting model: a registered one or a path to an .onnx with a card"),
        "threshold": Float(0.0, min=0.0, max=1.0,
                           doc="0: soft mask (probabilities); above 0: hard mask at this probability"),
        "feather": Int(0, min=0, max=64, doc="soften the mask's edge over about this many pixels"),
    },
    version=1,
)
def matte_person(ctx: Any, image: np.ndarray, model: str, threshold: float, feather: int) -> np.ndarray:
    """Separate people from the background: a mask for composite nodes (background replacement)."""
    session = ctx.session("model")
    card = session.card
    side = _side(card, 256)
    x, geo = letterbox(_rgb(image), side)
    masks = session.run_batched({session.input_names[0]: x}, outputs=["mask"])["mask"]
    n, h, w = image.shape[:3]
    out = np.empty((n, h, w, 1), np.float32)
    for i in range(n):
        m = geo.crop(masks[i])
        m = resize(m[None], h, w)[0]
        if threshold > 0:
            m = (m >= threshold).astype(np.float32)
        if feather:
            m = gaussian_blur(m, feather / 2, axes=(0, 1))  # edges fade over about `feather` px
        out[i] = np.clip(m, 0.0, 1.0)
    return out


NODES = [edges_hed, pose_estimate, draw_pose, matte_person]
