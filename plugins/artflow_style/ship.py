"""Ship trained styles as package data and draw the contact sheet.

    python -m artflow_style.ship runs/glass runs/flow runs/halftone runs/marble
    python -m artflow_style.ship --sheet gallery/style_contact_sheet.png

Each run folder holds NAME.onnx (with its card), NAME.keras and NAME_style.png (written by
`artflow train style`); they are copied into models/ and recorded in models/manifest.json with
the sha256 the registry checks, the style image, and the held-out metrics from the card. The
.keras file is for benchmarks (TensorFlow side) and is not package data.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

import numpy as np

from artflow.models import file_sha256
from artflow.models.card import read_card

from . import MODELS_DIR, shipped_models


def ship(runs: list[Path]) -> list[dict[str, Any]]:
    """Copy each run's model, weights and style image into models/; rewrite the manifest."""
    entries = {e["name"]: e for e in shipped_models()}
    MODELS_DIR.mkdir(parents=True, exist_ok=True)
    for run in runs:
        onnx_files = sorted(run.glob("*.onnx"))
        if len(onnx_files) != 1:
            raise SystemExit(f"{run}: expected one .onnx file, found {len(onnx_files)}")
        card = read_card(onnx_files[0])
        if card is None or card.kind != "style":
            raise SystemExit(f"{onnx_files[0]} is not a style model with an artflow card")
        name = card.name
        target = MODELS_DIR / f"{name}.onnx"
        shutil.copyfile(onnx_files[0], target)
        shutil.copyfile(onnx_files[0].with_suffix(".keras"), MODELS_DIR / f"{name}.keras")
        style = run / card.extra["style_image"]
        shutil.copyfile(style, MODELS_DIR / f"{name}_style.png")
        keys = [k for k in card.metrics if k.endswith(("_gram_ratio", "_edge_corr", "_color_ratio"))]
        entries[name] = {
            "name": name, "kind": "style", "file": target.name, "sha256": file_sha256(target),
            "files": {"keras": f"{name}.keras", "style_image": f"{name}_style.png"},
            "description": card.description, "metrics": {k: card.metrics[k] for k in sorted(keys)},
        }
    items = [entries[k] for k in sorted(entries)]
    (MODELS_DIR / "manifest.json").write_text(json.dumps({"models": items}, indent=2) + "\n")
    return items


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
    names = [e["name"] for e in shipped_models()]
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
        entry = next(e for e in shipped_models() if e["name"] == name)
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


if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] == ["--sheet"]:
        print(contact_sheet(Path(args[1] if len(args) > 1 else "gallery/style_contact_sheet.png")))
    else:
        for item in ship([Path(p) for p in args]):
            print(f"{item['name']}: {item['sha256'][:12]} {item['metrics']}")
