"""Training images for the GAN trainer, as float32 NHWC arrays in [0, 1] (labels where there are classes).

- ``digits``: scikit-learn's ``load_digits`` (8×8 grey, values 0..16 scaled by 1/16), 10 classes;
  the same stratified 80/20 split with a fixed seed as the shipped digits classifier, so the
  held-out 20% stays unseen for the Fréchet distance.
- ``textures``: random crops of scikit-image's sample photos and textures (some photos held out).
- ``art``: procedural art (Voronoi mosaics, flow fields, smooth noise) drawn in numpy.
- a folder of the user's images, centre-cropped and resized to the requested size.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from artflow.errors import ArtflowError
from artflow.nodes import NodeContext

DIGITS_SPLIT_SEED = 0
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".gif", ".tif", ".tiff"}
TEXTURE_TRAIN = ("brick", "grass", "gravel", "coffee", "chelsea", "rocket", "astronaut", "retina",
                 "immunohistochemistry", "colorwheel")
TEXTURE_HELD_OUT = ("hubble_deep_field", "cat")


@dataclass
class ImageSet:
    """Images in [0, 1] NHWC, with integer labels and class names when the set is conditional."""

    images: np.ndarray
    labels: np.ndarray | None = None
    class_names: list[str] = field(default_factory=list)
    description: str = ""

    @property
    def classes(self) -> int:
        return len(self.class_names)


def digits_split() -> tuple[ImageSet, ImageSet]:
    """load_digits as 8×8×1 images in [0, 1]: (train 80%, held-out 20%), stratified, fixed seed."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    data = load_digits()
    x = (data.images.astype(np.float32) / 16.0)[..., None]
    y = data.target.astype(np.int32)
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.2, stratify=y, random_state=DIGITS_SPLIT_SEED)
    names = [str(i) for i in range(10)]
    desc = f"sklearn load_digits, stratified 80/20 split (random_state={DIGITS_SPLIT_SEED})"
    return (ImageSet(xtr, ytr, names, desc + ", train part"),
            ImageSet(xte, yte, names, desc + ", held-out part"))


def load_folder(folder: str | Path, size: int, channels: int = 3) -> ImageSet:
    """Every image under ``folder`` (recursively), centre-cropped to a square and resized."""
    root = Path(folder).expanduser()
    if not root.is_dir():
        raise ArtflowError(f"image folder '{folder}' not found")
    paths = sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    if not paths:
        raise ArtflowError(f"no images ({', '.join(sorted(IMAGE_SUFFIXES))}) under '{folder}'")
    out = []
    for p in paths:
        with Image.open(p) as im:
            im = im.convert("L" if channels == 1 else "RGB")
            w, h = im.size
            s = min(w, h)
            im = im.crop(((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s))
            im = im.resize((size, size), Image.Resampling.LANCZOS if s > size else Image.Resampling.BICUBIC)
            arr = np.asarray(im, dtype=np.float32) / 255.0
        out.append(arr[..., None] if channels == 1 else arr)
    return ImageSet(np.stack(out), description=f"{len(out)} images from {root.name}/")


def texture_patches(count: int, size: int, seed: int, names: tuple[str, ...] = TEXTURE_TRAIN) -> ImageSet:
    """Random crops (at random scales 1–3×, flips) of scikit-image's sample photos and textures."""
    rng = np.random.default_rng(seed)
    from artflow_core.photos import sample_photo

    sources = [sample_photo(n) for n in names]
    out = np.empty((count, size, size, 3), np.float32)
    for i in range(count):
        src = sources[rng.integers(len(sources))]
        h, w = src.shape[:2]
        crop = int(min(h, w, size * rng.uniform(1.0, 3.0)))
        y, x = rng.integers(0, h - crop + 1), rng.integers(0, w - crop + 1)
        patch = Image.fromarray((src[y : y + crop, x : x + crop] * 255).astype(np.uint8))
        arr = np.asarray(patch.resize((size, size), Image.Resampling.LANCZOS), np.float32) / 255.0
        out[i] = arr[:, ::-1] if rng.random() < 0.5 else arr
    return ImageSet(out, description=f"{count} random crops of skimage.data {', '.join(names)}")


def _palette(rng: np.random.Generator, n: int) -> np.ndarray:
    """A harmonious palette: hues around a random base, varied lightness."""
    import colorsys

    base = rng.random()
    spread = rng.uniform(0.05, 0.5)
    cols = []
    for _ in range(n):
        hue = (base + rng.normal(0, spread)) % 1.0
        cols.append(colorsys.hsv_to_rgb(hue, rng.uniform(0.35, 0.95), rng.uniform(0.25, 1.0)))
    return np.asarray(cols, np.float32)


def _smooth_noise(rng: np.random.Generator, size: int, cells: int) -> np.ndarray:
    """Value noise: a random cells×cells grid upsampled bicubically to size×size, in [0, 1]."""
    grid = rng.random((cells + 3, cells + 3)).astype(np.float32)
    im = Image.fromarray(grid, "F").resize((size * (cells + 3) // cells,) * 2, Image.Resampling.BICUBIC)
    arr = np.asarray(im)[size // cells : size // cells + size, size // cells : size // cells + size]
    arr = arr - arr.min()
    return arr / max(float(arr.max()), 1e-6)


def _voronoi(rng: np.random.Generator, size: int) -> np.ndarray:
    n = int(rng.integers(6, 40))
    pts = rng.random((n, 2)) * size
    cols = _palette(rng, n)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) + 0.5
    d = (yy[..., None] - pts[:, 0]) ** 2 + (xx[..., None] - pts[:, 1]) ** 2
    order = np.argsort(d, axis=-1)
    img = cols[order[..., 0]]
    if rng.random() < 0.6:
        d.sort(axis=-1)
        edge = np.sqrt(d[..., 1]) - np.sqrt(d[..., 0]) < rng.uniform(0.8, 2.0)
        img[edge] = _palette(rng, 1)[0] * rng.uniform(0.0, 0.4)
    return img


def _flow_field(rng: np.random.Generator, size: int) -> np.ndarray:
    """Streaks along a smooth angle field: bands of colour advected by the field."""
    angle = _smooth_noise(rng, size, int(rng.integers(2, 4))) * np.pi * rng.uniform(1.0, 2.5)
    phase = _smooth_noise(rng, size, int(rng.integers(2, 4)))
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    freq = rng.uniform(2.5, 7)
    stripes = 0.5 + 0.5 * np.sin(freq * (np.cos(angle) * xx + np.sin(angle) * yy) * np.pi * 2 + phase * 3)
    cols = _palette(rng, 3)
    t = stripes[..., None]
    img = cols[0] * (1 - t) + cols[1] * t
    mix = _smooth_noise(rng, size, 2)[..., None]
    return img * (1 - 0.5 * mix) + cols[2] * 0.5 * mix


def _noise_art(rng: np.random.Generator, size: int) -> np.ndarray:
    """Layered value noise mapped through a palette gradient."""
    n = sum(_smooth_noise(rng, size, c) / (i + 1) for i, c in enumerate((2, 4, 8, 16)))
    n = (n - n.min()) / max(float(n.max() - n.min()), 1e-6)
    cols = _palette(rng, 4)
    idx = np.clip(n * 3, 0, 2.999)
    lo = idx.astype(int)
    frac = (idx - lo)[..., None]
    return cols[lo] * (1 - frac) + cols[lo + 1] * frac


def _core_drawers() -> list[Callable[[np.random.Generator, int], np.ndarray]] | None:
    """Drawers built on artflow_core (stained-glass Voronoi, fBm noise ramps, the flow-field node),
    or None when the core plugin is not importable."""
    try:
        from artflow_core import draw
        from artflow_core.nodes_generate import generate_flow_field
    except ImportError:
        return None

    def voronoi(rng: np.random.Generator, size: int) -> np.ndarray:
        lines = float(rng.choice([0.0, 1.0, 1.5, 2.0]))
        return draw.stained_glass(rng, size, size, int(rng.integers(5, 30)), _palette(rng, 5),
                                  line_width=lines, texture=float(rng.uniform(0.0, 0.4)), relax=1)

    def noise(rng: np.random.Generator, size: int) -> np.ndarray:
        return draw.random_background(rng, size, size, "noise", palette=_palette(rng, 4))

    def flow(rng: np.random.Generator, size: int) -> np.ndarray:
        seed = int(rng.integers(2**31))
        ctx = NodeContext("art", "generate.flow_field", seed, Path("."))
        fn = getattr(generate_flow_field, "fn", generate_flow_field)
        bg = tuple(float(v) for v in _palette(rng, 1)[0] * rng.uniform(0.1, 0.6))
        return fn(ctx, lines=int(rng.integers(60, 220)), steps=40, step_length=1.0,
                  scale=float(rng.uniform(12, 48)), curl=float(rng.uniform(0.5, 2.5)),
                  stroke=float(rng.uniform(0.6, 1.6)), opacity=0.8,
                  color_by=str(rng.choice(["random", "angle", "position"])), background=bg,
                  palette="random", custom=None, count=1, width=size, height=size)[0]

    return [voronoi, flow, noise]


def procedural_art(count: int, size: int, seed: int) -> ImageSet:
    """Voronoi mosaics, flow fields and palette noise, one third each, drawn at ``size``×``size``
    with the core plugin's drawing code (numpy stand-ins when artflow_core is not installed)."""
    core = _core_drawers()
    kinds = core or [_voronoi, _flow_field, _noise_art]
    out = np.empty((count, size, size, 3), np.float32)
    for i in range(count):
        item = np.random.default_rng([seed, i])
        out[i] = np.clip(kinds[i % len(kinds)](item, size), 0, 1)[..., :3]
    source = "artflow_core drawing code" if core else "numpy stand-ins"
    return ImageSet(out, description=f"{count} procedural images (Voronoi mosaics, flow fields, fBm noise; "
                                     f"{source}; seed {seed})")
