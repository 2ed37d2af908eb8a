"""The style contact sheet: every shipped style on the held-out photos, through `style.transfer`.

    python -m artflow_style.ship --sheet gallery/style_contact_sheet.png
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from artflow.shipping import shipped_models

from . import MODELS_DIR


def contact_sheet(path: Path, cell: int = 256) -> Path:
    """Every shipped style on the held-out photos, through the style.transfer node; each caption
    gives the card's Gram ratio, edge r and colour ratio for that photo."""
    from PIL import Image, ImageDraw

    import artflow as af
    from artflow.cache import Cache
    from artflow.engine import Engine
    from artflow.imaging import to_pil

    from .data import heldout_photos

    photos = heldout_photos()
    names = [e["name"] for e in shipped_models(__package__)]
    pad, text = 6, 16
    sheet = Image.new("RGB", (pad + (cell + pad) * (1 + len(photos)),
                              pad + (cell + pad + text) * (1 + len(names))), (24, 24, 28))
    draw = ImageDraw.Draw(sheet)

    def put(img: np.ndarray, col: int, row: int, caption: str) -> None:
        tile = to_pil(img[..., :3])
        tile.thumbnail((cell, cell), Image.Resampling.LANCZOS)
        x, y = pad + col * (cell + pad), pad + row * (cell + pad + text)
        sheet.paste(tile, (x + (cell - tile.width) // 2, y + (cell - tile.height) // 2))
        draw.text((x + 2, y + cell + 2), caption, fill=(230, 230, 230))

    for j, (pname, img) in enumerate(photos.items()):
        put(img, j + 1, 0, pname)
    for i, name in enumerate(names):
        entry = next(e for e in shipped_models(__package__) if e["name"] == name)
        style_file = MODELS_DIR / entry["files"]["style_image"]
        style = np.asarray(Image.open(style_file).convert("RGB"), np.float32) / 255
        put(style, 0, i + 1, f"style: {name}")
        for j, (pname, img) in enumerate(photos.items()):
            g = af.Graph(seed=0)
            src = g.add("image.load", path=str(_photo_file(pname, img)))
            out = g.add("style.transfer", image=src, style=name)
            result = Engine(Cache(disk=False)).run(g, use_cache=False)
            m = entry.get("metrics", {})
            ratio, edge = m.get(f"{pname}_gram_ratio"), m.get(f"{pname}_edge_corr")
            color = m.get(f"{pname}_color_ratio")
            if ratio is None or edge is None:
                caption = "not measured on this photo (older card)"
            else:
                caption = f"gram {ratio:.2f} edge {edge:.2f}"
                caption += f" colour {color:.2f}" if color is not None else ""
            put(result[out][0], j + 1, i + 1, caption)
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(path)
    return path


def _photo_file(name: str, img: np.ndarray) -> Path:
    """The held-out photo as a PNG in the temp folder (lossless: the photos are uint8)."""
    import tempfile

    from artflow.imaging import to_pil

    path = Path(tempfile.gettempdir()) / f"artflow_style_{name}.png"
    if not path.is_file():
        to_pil(img).save(path)
    return path
