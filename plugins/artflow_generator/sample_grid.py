"""The gallery's sample grid of a generator, drawn through ONNX Runtime (no TensorFlow) from fixed
seeds, exactly as `gan.generate` would draw it: ``gallery/generator_NAME_samples.png``."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .latents import draw_latent, seeded_rng

GRID_SEED = 2024


def sample_grid_png(model: Path, out: Path, *, rows: int = 8, cols: int = 8, cell: int = 64) -> Path:
    """A rows×cols grid of samples from fixed seeds (conditional models: one class per column)."""
    from PIL import Image

    from artflow import models as runtime
    from artflow.imaging import to_uint8

    session = runtime.get_session(model, "cpu")
    card = session.card
    latent = int(session.input_shapes["z"][-1] or card.latent_size)
    n = rows * cols
    z = np.stack([draw_latent(seeded_rng(GRID_SEED, k), latent) for k in range(n)])
    feeds = {"z": z}
    if "label" in session.input_names:
        labels = (np.arange(n) % cols).astype(np.int32)
        feeds["label"] = labels[:, None] if len(session.input_shapes["label"]) == 2 else labels
    images = session.run_batched(feeds)["image"]
    h, w, c = images.shape[1:]
    pad = 2
    canvas = Image.new("RGB", (cols * (cell + pad) + pad, rows * (cell + pad) + pad), (20, 20, 24))
    for i, img in enumerate(images):
        arr = to_uint8(img if c == 3 else np.repeat(img, 3, axis=-1))
        tile = Image.fromarray(arr).resize((cell, cell), Image.Resampling.NEAREST if h < cell
                                           else Image.Resampling.BILINEAR)
        canvas.paste(tile, (pad + (i % cols) * (cell + pad), pad + (i // cols) * (cell + pad)))
    out.parent.mkdir(parents=True, exist_ok=True)
    canvas.save(out)
    return out
