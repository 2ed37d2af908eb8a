"""Ship a trained autoencoder pair as package data and draw the blend GIF for the gallery.

    python -m artflow_autoencoder.ship runs/photo
    python -m artflow_autoencoder.ship --gif gallery/ae_blend.gif

The run folder holds NAME_encoder.onnx and NAME_decoder.onnx (with cards, written by `artflow train
autoencoder`) and their .keras files; the ONNX files are copied into models/ and recorded in
models/manifest.json with the sha256 the registry checks and the held-out PSNR from the card.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

from artflow.models import file_sha256
from artflow.models.card import read_card

from . import MODELS_DIR, shipped_models


def ship(run: Path) -> list[dict[str, Any]]:
    """Copy the run's encoder and decoder into models/; rewrite the manifest."""
    entries = {(e["kind"], e["name"]): e for e in shipped_models()}
    MODELS_DIR.mkdir(parents=True, exist_ok=True)
    for part in ("encoder", "decoder"):
        found = sorted(run.glob(f"*_{part}.onnx"))
        if len(found) != 1:
            raise SystemExit(f"{run}: expected one *_{part}.onnx, found {len(found)}")
        card = read_card(found[0])
        if card is None or card.kind != f"ae_{part}":
            raise SystemExit(f"{found[0]} is not an autoencoder {part} with an artflow card")
        target = MODELS_DIR / found[0].name
        shutil.copyfile(found[0], target)
        keras_file = found[0].with_suffix(".keras")
        if keras_file.is_file():
            shutil.copyfile(keras_file, target.with_suffix(".keras"))
        entries[(card.kind, card.name)] = {
            "name": card.name, "kind": card.kind, "file": target.name, "sha256": file_sha256(target),
            "description": card.description,
            "metrics": {k: v for k, v in card.metrics.items() if k.startswith("psnr")},
        }
    items = [entries[k] for k in sorted(entries)]
    (MODELS_DIR / "manifest.json").write_text(json.dumps({"models": items}, indent=2) + "\n")
    return items


def blend_gif(path: Path, a: str = "astronaut", b: str = "chelsea", frames: int = 16,
              side: int = 256, encoder: str = "photo", decoder: str = "photo") -> Path:
    """ae.blend between two held-out photos (centre crops, ``side``²), saved as a ping-pong GIF."""
    import tempfile

    import numpy as np
    from artflow_style.data import heldout_photos

    import artflow as af
    from artflow.imaging import resize, to_pil

    photos = heldout_photos()
    tmp = Path(tempfile.mkdtemp(prefix="ae-blend-"))
    files = []
    for name in (a, b):
        img = photos[name]
        s = min(img.shape[:2])
        y, x = (img.shape[0] - s) // 2, (img.shape[1] - s) // 2
        to_pil(resize(img[y:y + s, x:x + s], side, side)).save(tmp / f"{name}.png")
        files.append(tmp / f"{name}.png")
    g = af.Graph(seed=0)
    blend = g.add("ae.blend", a=g.add("image.load", path=str(files[0])),
                  b=g.add("image.load", path=str(files[1])), frames=frames, encoder=encoder,
                  decoder=decoder)
    result = g.run(output_dir=tmp / "out")
    seq = np.asarray(result[blend])
    seq = np.concatenate([seq, seq[-2:0:-1]])  # there and back
    pictures = [to_pil(f) for f in seq]
    path.parent.mkdir(parents=True, exist_ok=True)
    pictures[0].save(path, save_all=True, append_images=pictures[1:], duration=90, loop=0)
    return path


if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] == ["--gif"]:
        print(blend_gif(Path(args[1] if len(args) > 1 else "gallery/ae_blend.gif")))
    else:
        for item in ship(Path(args[0])):
            print(f"{item['kind']} {item['name']}: {item['sha256'][:12]} {item['metrics']}")
