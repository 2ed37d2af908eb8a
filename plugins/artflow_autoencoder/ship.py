"""Ship a trained autoencoder pair (NAME_encoder/decoder.onnx and .keras from `artflow train
autoencoder`) as package data, and draw the blend GIF for the gallery (blend_gif.py).

    python -m artflow_autoencoder.ship runs/photo
    python -m artflow_autoencoder.ship --gif gallery/ae_blend.gif
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from artflow import shipping


def ship(run: Path) -> list[dict[str, Any]]:
    """Ship the run's NAME_encoder.onnx and NAME_decoder.onnx (and their .keras) into models/."""
    items = []
    for part in ("encoder", "decoder"):
        model = shipping.only_model(run, f"*_{part}.onnx")
        keras = model.with_suffix(".keras")
        items.append(shipping.ship(__package__, model, kind=f"ae_{part}",
                                   files={"keras": keras} if keras.is_file() else None,
                                   metrics=lambda key: key.startswith("psnr")))
    return items


if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] == ["--gif"]:
        from .blend_gif import blend_gif

        print(blend_gif(Path(args[1] if len(args) > 1 else "gallery/ae_blend.gif")))
    else:
        for item in ship(Path(args[0])):
            print(f"{item['kind']} {item['name']}: {item['sha256'][:12]} {item['metrics']}")
