"""Annotation: labelled boxes and caption bands, drawn as an overlay composited in float."""

from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from artflow.errors import ArtflowError
from artflow.imaging import LUMA
from artflow.nodes import In, NodeContext, Out, node
from artflow.params import Bool, Choice, Color, Float, Int, Str
from artflow.types import BOXES, IMAGE, LABELS, TEXT, Box, Label

from ._util import broadcast_list, f32, font, label_color, split_alpha, to_rgb8


def over(image: np.ndarray, layer: Image.Image) -> np.ndarray:
    """Composite an RGBA PIL overlay onto one float HWC image (alpha of the image kept)."""
    ov = np.asarray(layer, dtype=np.float32) / 255.0
    a = ov[..., 3:]
    rgb, alpha = split_alpha(image)
    out = rgb * (1 - a) + ov[..., :3] * a
    if alpha is None:
        return out
    return np.concatenate([out, np.maximum(alpha, a)], axis=-1)


def _text_color(bg: tuple[float, ...]) -> tuple[int, int, int, int]:
    lum = float(np.asarray(bg[:3], np.float32) @ LUMA)
    return (0, 0, 0, 255) if lum > 0.55 else (255, 255, 255, 255)


def _pair(image: np.ndarray, items: list[Any] | None, what: str) -> tuple[np.ndarray, list[Any]]:
    """Broadcast an image batch of 1 against per-item annotations (or the other way round)."""
    if items is not None and len(image) == 1 and len(items) > 1:
        image = np.broadcast_to(image, (len(items),) + image.shape[1:])
    return image, broadcast_list(items, len(image), what)


@node(
    "draw.boxes",
    category="annotate",
    inputs={"image": In(IMAGE, "images to draw on"), "boxes": In(BOXES, "boxes per image (xyxy pixels)")},
    outputs={"image": Out(IMAGE, "images with labelled boxes")},
    params={
        "line_width": Int(0, min=0, max=64, doc="outline width in pixels; 0 scales with the image"),
        "font_size": Int(0, min=0, max=256, doc="label text size; 0 scales with the image"),
        "show_label": Bool(True, doc="write the class name"),
        "show_score": Bool(True, doc="write the score"),
        "min_score": Float(0.0, min=0.0, max=1.0, doc="skip boxes scoring below this"),
        "color": Color(None, optional=True, doc="one colour for all boxes; null gives each label its own"),
        "fill_opacity": Float(0.12, min=0.0, max=1.0, doc="tint inside each box"),
    },
)
def draw_boxes(
    ctx: NodeContext,
    image: np.ndarray,
    boxes: list[list[Box]],
    line_width: int,
    font_size: int,
    show_label: bool,
    show_score: bool,
    min_score: float,
    color: tuple[float, ...] | None,
    fill_opacity: float,
) -> np.ndarray:
    """Draw legible labelled boxes with scores, a colour per label."""
    if len(image) not in (1, len(boxes)):
        raise ArtflowError(f"node '{ctx.node_id}': {len(boxes)} box lists for {len(image)} images")
    image, per_item = _pair(image, boxes, f"node '{ctx.node_id}' boxes")
    out = []
    for im, item_boxes in zip(image, per_item, strict=False):
        h, w = im.shape[:2]
        lw = line_width or max(2, round(min(w, h) / 160))
        fs = font_size or max(11, round(min(w, h) / 30))
        fnt = font(fs, bold=True)
        layer = Image.new("RGBA", (w, h), (0, 0, 0, 0))
        d = ImageDraw.Draw(layer)
        kept = sorted((b for b in item_boxes or [] if b.score >= min_score), key=lambda b: b.score)
        for b in kept:  # the best-scoring boxes are drawn last, on top
            x0, y0, x1, y1 = (float(v) for v in b.box)
            rgb8 = to_rgb8(color[:3] if color is not None else label_color(b.label))
            if fill_opacity > 0:
                d.rectangle([x0, y0, x1, y1], fill=rgb8 + (int(fill_opacity * 255),))
            d.rectangle([x0 - lw / 2, y0 - lw / 2, x1 + lw / 2, y1 + lw / 2], outline=rgb8 + (255,), width=lw)
        placed: list[tuple[float, float, float, float]] = []
        for b in reversed(kept):  # tags after every outline; the best-scoring pick their place first
            parts = ([b.label] if show_label else []) + ([f"{b.score:.2f}"] if show_score else [])
            if not parts:
                continue
            col = color[:3] if color is not None else label_color(b.label)
            text = " ".join(parts)
            tx0, ty0, tx1, ty1 = d.textbbox((0, 0), text, font=fnt)
            pad = max(2, fs // 5)
            tag_w, tag_h = tx1 - tx0 + 2 * pad, ty1 - ty0 + 2 * pad
            lx, ly = _tag_place(tuple(float(v) for v in b.box), tag_w, tag_h, lw, w, h, placed)
            placed.append((lx, ly, lx + tag_w, ly + tag_h))
            d.rectangle([lx, ly, lx + tag_w, ly + tag_h], fill=to_rgb8(col) + (235,))
            d.text((lx + pad - tx0, ly + pad - ty0), text, font=fnt, fill=_text_color(col))
        out.append(over(im, layer))
    return f32(np.stack(out))


def _tag_place(box: tuple[float, ...], tag_w: float, tag_h: float, lw: int, w: int, h: int,
               placed: list[tuple[float, float, float, float]]) -> tuple[float, float]:
    """Where a box's tag goes: above its top-left corner, else inside the top edge, else below
    the box, else inside the bottom edge (each also at the right end), the first spot inside the
    picture that no earlier tag covers; when every spot is taken, the first one inside."""
    x0, y0, x1, y1 = box
    rows = (y0 - lw / 2 - tag_h, y0 + lw / 2, y1 + lw / 2, y1 - lw / 2 - tag_h)
    cols = (x0 - lw / 2, x1 + lw / 2 - tag_w)
    spots = [(min(max(0.0, x), max(0.0, w - tag_w)), y) for y in rows for x in cols]
    inside = [(x, y) for x, y in spots if 0 <= y and y + tag_h <= h] or [(spots[0][0], max(0.0, y0))]

    def free(x: float, y: float) -> bool:
        return all(x + tag_w <= a or a2 <= x or y + tag_h <= b or b2 <= y for a, b, a2, b2 in placed)

    return next(((x, y) for x, y in inside if free(x, y)), inside[0])


def _caption_text(
    template: str, ctx: NodeContext, index: int, caption: str | None, labels: list[Label] | None
) -> str:
    top = labels[0] if labels else None
    if not template:
        if caption is not None:
            return caption
        if top is not None:
            return f"{top.label} ({top.score:.0%})"
        return ""
    values = {
        "caption": caption or "",
        "label": top.label if top else "",
        "score": f"{top.score:.2f}" if top else "",
        "index": index,
        "seed": ctx.seed,
    }
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError) as exc:
        raise ArtflowError(
            f"node '{ctx.node_id}': caption '{template}' has a bad placeholder ({exc}); use "
            "{caption}, {label}, {score}, {index} or {seed}"
        ) from None


@node(
    "draw.caption",
    category="annotate",
    inputs={
        "image": In(IMAGE, "images to caption"),
        "captions": In(TEXT, "one caption per image (the {caption} placeholder)", optional=True),
        "labels": In(LABELS, "class guesses; the best fills {label} and {score}", optional=True),
    },
    outputs={"image": Out(IMAGE, "captioned images")},
    params={
        "text": Str(
            "",
            doc="caption template with {caption}, {label}, {score}, {index}, {seed}; empty uses the "
            "captions input, else 'label (score)'",
        ),
        "position": Choice(["bottom", "top"], "bottom", doc="where the band goes"),
        "overlay": Bool(False, doc="lay the band over the image instead of extending the canvas"),
        "font_size": Int(0, min=0, max=512, doc="text size; 0 scales with the image"),
        "color": Color("white", doc="text colour"),
        "background": Color("#111111", doc="band colour"),
        "opacity": Float(0.75, min=0.0, max=1.0, doc="band opacity when overlaid"),
    },
)
def draw_caption(
    ctx: NodeContext,
    image: np.ndarray,
    captions: list[str] | None,
    labels: list[list[Label]] | None,
    text: str,
    position: str,
    overlay: bool,
    font_size: int,
    color: tuple[float, ...],
    background: tuple[float, ...],
    opacity: float,
) -> np.ndarray:
    """Write a caption band (text, or the top label and score) at the bottom or top."""
    n = max(len(image), len(captions or []), len(labels or []))
    if len(image) == 1 and n > 1:
        image = np.broadcast_to(image, (n,) + image.shape[1:])
    caps = broadcast_list(captions, len(image), f"node '{ctx.node_id}' captions")
    labs = broadcast_list(labels, len(image), f"node '{ctx.node_id}' labels")
    h, w = image.shape[1:3]
    fs = font_size or max(12, round(min(w, h) / 18))
    fnt = font(fs)
    band_h = int(round(fs * 1.8))
    out = []
    for i, im in enumerate(image):
        line = _caption_text(text, ctx, i, caps[i], labs[i])
        canvas_h = h if overlay else h + band_h
        base = np.zeros((canvas_h, w, im.shape[-1]), np.float32)
        y_img = band_h if (position == "top" and not overlay) else 0
        base[y_img : y_img + h] = im
        band_y = 0 if position == "top" else canvas_h - band_h
        layer = Image.new("RGBA", (w, canvas_h), (0, 0, 0, 0))
        d = ImageDraw.Draw(layer)
        band_alpha = int(round((opacity if overlay else 1.0) * 255))
        d.rectangle([0, band_y, w - 1, band_y + band_h - 1], fill=to_rgb8(background[:3]) + (band_alpha,))
        if line:
            while d.textlength(line, font=fnt) > w * 0.96 and len(line) > 2:
                line = line[:-2] + "…"
            d.text(
                (w / 2, band_y + band_h / 2), line, font=fnt, anchor="mm", fill=to_rgb8(color[:3]) + (255,)
            )
        res = over(base, layer)
        if res.shape[-1] == 4 and not overlay:
            res[band_y : band_y + band_h, :, 3] = 1.0
        out.append(res)
    return f32(np.stack(out))


NODES = [draw_boxes, draw_caption]
