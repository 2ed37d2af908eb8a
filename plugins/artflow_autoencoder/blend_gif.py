"""The gallery's ae.blend GIF: between two held-out photos, through the engine.

    python -m artflow_autoencoder.ship --gif gallery/ae_blend.gif
"""

from __future__ import annotations

from pathlib import Path


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
