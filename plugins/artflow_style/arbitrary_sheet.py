"""The arbitrary-style pictures in gallery/: styles × photos, and strips of style.mix and strength.

    python -m artflow_style.arbitrary_sheet gallery/      # arbitrary_style_contact_sheet.png, _mix.png

Everything is rendered through the nodes (style.embed → style.mix → style.apply) from PNG files, as
a user would; the captions are the figures the transformer's card records.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np

CELL, PAD, TEXT = 256, 6, 16
BACKGROUND, INK = (24, 24, 28), (230, 230, 230)


def _files(folder: Path) -> dict[str, Path]:
    """The evaluation photos and every measured style image as PNGs in ``folder``."""
    from artflow_core.photos import sample_photo

    from artflow.imaging import to_pil

    from .arbitrary_styles import EVAL_PHOTOS, MISSED, SHIPPED, style_image

    out = {}
    for name in EVAL_PHOTOS:
        out[name] = folder / f"{name}.png"
        to_pil(sample_photo(name)).save(out[name])
    for name in SHIPPED + MISSED:
        out[name] = folder / f"{name}.png"
        to_pil(style_image(name)).save(out[name])
    return out


class _Sheet:
    def __init__(self, cols: int, rows: int):
        from PIL import Image, ImageDraw

        size = (PAD + (CELL + PAD) * cols, PAD + (CELL + PAD + TEXT) * rows)
        self.image = Image.new("RGB", size, BACKGROUND)
        self.draw = ImageDraw.Draw(self.image)

    def put(self, img: np.ndarray, col: int, row: int, caption: str) -> None:
        from PIL import Image

        from artflow.imaging import to_pil

        tile = to_pil(np.clip(img[..., :3], 0, 1))
        tile.thumbnail((CELL, CELL), Image.Resampling.LANCZOS)
        x, y = PAD + col * (CELL + PAD), PAD + row * (CELL + PAD + TEXT)
        self.image.paste(tile, (x + (CELL - tile.width) // 2, y + (CELL - tile.height) // 2))
        self.draw.text((x + 2, y + CELL + 2), caption, fill=INK)


def contact_sheet(out_dir: Path) -> list[Path]:
    """Write the styles × photos sheet and the mix/strength strips; return their paths."""
    import artflow as af
    from artflow.cache import Cache
    from artflow.engine import Engine
    from artflow.imaging import load_image
    from artflow.models.card import read_card

    from .arbitrary_ship import FOLDER, MODELS
    from .arbitrary_styles import EVAL_PHOTOS, MISSED, SHIPPED

    metrics = read_card(FOLDER / f"{MODELS['style_transformer'][1]}.onnx").metrics
    engine = Engine(Cache(disk=False))
    with tempfile.TemporaryDirectory() as tmp:
        files = _files(Path(tmp))
        g = af.Graph(seed=0)
        photos = {p: g.add("image.load", path=str(files[p])) for p in EVAL_PHOTOS}
        styles = {s: g.add("style.embed", image=g.add("image.load", path=str(files[s])))
                  for s in SHIPPED + MISSED}
        cells = {(s, p): g.add("style.apply", image=photos[p], style=styles[s])
                 for s in styles for p in photos}
        a, b = styles[SHIPPED[0]], styles[SHIPPED[1]]
        weights = (0.0, 0.25, 0.5, 0.75, 1.0)
        mixes = {w: g.add("style.apply", image=photos["coffee"], style=g.add("style.mix", a=a, b=b, weight=w))
                 for w in weights}
        strengths = {s: g.add("style.apply", image=photos["coffee"], style=a, strength=s) for s in weights}
        result = engine.run(g, use_cache=False)
        images = {k: load_image(v, keep_alpha=False) for k, v in files.items()}

    sheet = _Sheet(1 + len(EVAL_PHOTOS), 1 + len(styles))
    for j, p in enumerate(EVAL_PHOTOS):
        sheet.put(images[p], j + 1, 0, p)
    for i, s in enumerate(styles):
        sheet.put(images[s], 0, i + 1, f"style: {s}" + (" (missed a bar)" if s in MISSED else ""))
        for j, p in enumerate(EVAL_PHOTOS):
            caption = (f"colour {metrics[f'{s}_{p}_color_ratio']:.2f} "
                       f"edge {metrics[f'{s}_{p}_edge_corr']:.2f}")
            sheet.put(result[cells[s, p]][0], j + 1, i + 1, caption)
    strip = _Sheet(2 + len(weights), 2)
    strip.put(images[SHIPPED[0]], 0, 0, f"a: {SHIPPED[0]}")
    strip.put(images[SHIPPED[1]], 1 + len(weights), 0, f"b: {SHIPPED[1]}")
    for k, w in enumerate(weights):
        strip.put(result[mixes[w]][0], k + 1, 0, f"style.mix weight {w:g}")
        strip.put(result[strengths[w]][0], k + 1, 1, f"a, strength {w:g}")
    strip.put(images["coffee"], 0, 1, "coffee (content)")
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / "arbitrary_style_contact_sheet.png", out_dir / "arbitrary_style_mix.png"]
    for picture, path in zip((sheet.image, strip.image), paths, strict=True):
        tmp_path = path.with_name(f".{path.name}.tmp")
        picture.save(tmp_path, format="PNG", optimize=True)
        tmp_path.replace(path)
    return paths


if __name__ == "__main__":
    for written in contact_sheet(Path(sys.argv[1] if len(sys.argv) > 1 else "gallery")):
        print(written)
