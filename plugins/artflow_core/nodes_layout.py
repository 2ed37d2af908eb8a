"""Layout: a batch becomes one contact-sheet image."""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw

from artflow.imaging import check_size
from artflow.nodes import In, NodeContext, Out, node
from artflow.params import Color, Int
from artflow.types import IMAGE, TEXT

from ._util import broadcast_list, f32, font, resize_array, split_alpha, to_rgb8
from .nodes_annotate import over


@node(
    "layout.grid",
    category="layout",
    inputs={
        "image": In(IMAGE, "the images to lay out"),
        "captions": In(TEXT, "a caption under each image", optional=True),
    },
    outputs={"image": Out(IMAGE, "one contact sheet (a batch of 1)")},
    params={
        "columns": Int(0, min=0, max=256, doc="images per row; 0 makes the sheet about square"),
        "gap": Int(8, min=0, max=512, doc="space between and around images, pixels"),
        "background": Color("#1a1a1a", doc="sheet colour; transparent gives RGBA"),
        "cell_width": Int(None, min=8, max=4096, optional=True, doc="resize each image to this width first"),
        "caption_size": Int(0, min=0, max=256, doc="caption text size; 0 scales with the cells"),
        "caption_color": Color("#eeeeee", doc="caption colour"),
    },
)
def layout_grid(
    ctx: NodeContext,
    image: np.ndarray,
    captions: list[str] | None,
    columns: int,
    gap: int,
    background: tuple[float, ...],
    cell_width: int | None,
    caption_size: int,
    caption_color: tuple[float, ...],
) -> np.ndarray:
    """Lay a batch out as one contact-sheet image, optionally with captions."""
    n, h, w = image.shape[:3]
    if cell_width is not None and cell_width != w:
        ch = max(1, round(h * cell_width / w))
        image = np.stack([resize_array(im, cell_width, ch, "lanczos") for im in image])
        h, w = ch, cell_width
    caps = broadcast_list(captions, n, f"node '{ctx.node_id}' captions")
    cols = columns or max(1, math.ceil(math.sqrt(n)))
    cols = min(cols, n)
    rows = math.ceil(n / cols)
    fs = caption_size or max(10, round(w / 20))
    cap_h = int(round(fs * 1.6)) if captions is not None else 0
    sheet_w = cols * w + (cols + 1) * gap
    sheet_h = rows * (h + cap_h) + (rows + 1) * gap
    check_size(sheet_w, sheet_h, f"node '{ctx.node_id}' sheet")
    has_alpha = len(background) == 4 and background[3] < 1.0
    bg = np.asarray(tuple(background[:3]) + ((background[3] if len(background) == 4 else 1.0),), np.float32)
    sheet = np.empty((sheet_h, sheet_w, 4), np.float32)
    sheet[...] = bg
    layer = Image.new("RGBA", (sheet_w, sheet_h), (0, 0, 0, 0))
    d = ImageDraw.Draw(layer)
    fnt = font(fs)
    for i in range(n):
        r, c = divmod(i, cols)
        x = gap + c * (w + gap)
        y = gap + r * (h + cap_h + gap)
        rgb, alpha = split_alpha(image[i])
        a = alpha if alpha is not None else np.ones((h, w, 1), np.float32)
        cell = sheet[y : y + h, x : x + w]
        cell[..., :3] = rgb * a + cell[..., :3] * (1 - a)
        cell[..., 3:] = a + cell[..., 3:] * (1 - a)
        if caps[i]:
            text = caps[i]
            while d.textlength(text, font=fnt) > w and len(text) > 2:
                text = text[:-2] + "…"
            d.text(
                (x + w / 2, y + h + cap_h / 2),
                text,
                font=fnt,
                anchor="mm",
                fill=to_rgb8(caption_color[:3]) + (255,),
            )
    out = over(sheet, layer)
    return f32((out if has_alpha else out[..., :3])[None])


NODES = [layout_grid]
