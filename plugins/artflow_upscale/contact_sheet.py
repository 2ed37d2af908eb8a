"""The upscale contact sheet: held-out photos reduced 4× with bicubic, then enlarged 4× again by
`image.upscale` with Lanczos and with the shipped model, beside the original.

    python -m artflow_upscale.contact_sheet gallery/upscale_contact_sheet.png

Rows are the 256² centre crops the quality test uses (quality.PHOTOS); each caption gives that
crop's PSNR / SSIM against the original. Needs scikit-image (the train extra).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np


def _upscaled(path: Path, method: str) -> np.ndarray:
    """The image at ``path`` through `image.upscale` ×4 (engine, no cache)."""
    import artflow as af
    from artflow.cache import Cache
    from artflow.engine import Engine

    g = af.Graph(seed=0)
    out = g.add("image.upscale", image=g.add("image.load", path=str(path)), scale=4, method=method)
    return Engine(Cache(disk=False)).run(g, use_cache=False)[out][0]


def contact_sheet(path: Path, names: tuple[str, ...] = ("chelsea", "rocket", "camera", "motorcycle"),
                  side: int = 256) -> Path:
    """One row per photo: the 4×-reduced input (shown with nearest-neighbour), Lanczos ×4,
    ESRGAN-thick ×4, the original crop."""
    from PIL import Image, ImageDraw

    from artflow.imaging import to_pil

    from .quality import bicubic_down, centre_crop, photo, scores, to_uint8

    pad, text = 6, 16
    heads = ["input (64x64, shown 4x nearest)", "lanczos x4", "esrgan-thick x4", "original"]
    sheet = Image.new("RGB", (pad + (side + pad) * 4, pad + text + (side + pad + text) * len(names)),
                      (24, 24, 28))
    draw = ImageDraw.Draw(sheet)
    for col, head in enumerate(heads):
        draw.text((pad + col * (side + pad) + 2, pad), head, fill=(230, 230, 230))
    with tempfile.TemporaryDirectory() as tmp:
        for row, name in enumerate(names):
            hr = centre_crop(photo(name), side)
            lr = bicubic_down(hr, 4)
            lr_file = Path(tmp) / f"{name}.png"
            to_pil(lr).save(lr_file)
            cells = [(to_uint8(np.repeat(np.repeat(lr, 4, 0), 4, 1)), name)]
            for method in ("lanczos", "model"):
                up = to_uint8(_upscaled(lr_file, method))
                p, s = scores(hr, up)
                cells.append((up, f"PSNR {p:.2f} dB  SSIM {s:.3f}"))
            cells.append((hr, "original"))
            y = pad + text + row * (side + pad + text)
            for col, (img, caption) in enumerate(cells):
                x = pad + col * (side + pad)
                sheet.paste(Image.fromarray(img), (x, y))
                draw.text((x + 2, y + side + 2), caption, fill=(230, 230, 230))
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(path)
    return path


if __name__ == "__main__":
    print(contact_sheet(Path(sys.argv[1] if len(sys.argv) > 1 else "gallery/upscale_contact_sheet.png")))
