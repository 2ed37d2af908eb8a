"""Data for the classifier: scikit-learn digits, procedural shapes, and a user's image folder.

No TensorFlow here (the folder loader uses Pillow), so tests and benchmarks can draw held-out
data cheaply.

Shapes: the classes are exactly ``circle``, ``square``, ``triangle``, ``star``, ``hexagon``,
drawn with the core drawing helpers (``artflow_core.draw.draw_shape``) in a random colour, size
and rotation over a varied background: the core procedural backgrounds
(``artflow_core.draw.random_background``: solid, gradient, noise, voronoi) or a crop of a
scikit-image photo or texture. The shape colour always differs clearly from the background
under it (so every image has one right answer). Splits never share backgrounds:

- ``train``: photos in :data:`TRAIN_PHOTOS`, procedural backgrounds from seeds ``seed*10**7 + i``;
- ``heldout``: photos in :data:`HELDOUT_PHOTOS` only, procedural backgrounds from seeds in a
  range the training never draws from (``HELDOUT_SEED_BASE + i``).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from artflow.imaging import LUMA

SHAPE_CLASSES: tuple[str, ...] = ("circle", "square", "triangle", "star", "hexagon")
TRAIN_PHOTOS: tuple[str, ...] = (
    "astronaut", "chelsea", "hubble_deep_field", "immunohistochemistry", "retina", "brick", "gravel",
    "camera", "moon", "coins", "cell", "clock", "colorwheel", "text", "page",
)
HELDOUT_PHOTOS: tuple[str, ...] = ("coffee", "rocket", "grass", "stereo_motorcycle")
HELDOUT_SEED_BASE = 9_000_000_000
SHAPES_SIZE = 64
DIGITS_SEED = 0
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")


# ---------------------------------------------------------------------------------------------
# digits


def digits_split(seed: int = DIGITS_SEED, test_size: float = 0.2):  # -> tuple of 4 arrays
    """scikit-learn's 1,797 digits as (x_train, x_test, y_train, y_test): x NHWC (8, 8, 1) in
    [0, 1] (pixel / 16, ink bright on dark), a stratified held-out split with a fixed seed."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = (digits.images.astype(np.float32) / 16.0)[..., None]
    y = digits.target.astype(np.int64)
    return train_test_split(x, y, test_size=test_size, stratify=y, random_state=seed)


# ---------------------------------------------------------------------------------------------
# shapes


def photo_crop(rng: np.random.Generator, names: tuple[str, ...], size: int) -> np.ndarray:
    """A random square crop (scale, flip, tint vary) of one of the named skimage photos."""
    from artflow_core.photos import photo_crop as crop

    return crop(rng, names, size, min_side=8, min_divisor=10)


def _background(rng: np.random.Generator, split: str, size: int) -> np.ndarray:
    from artflow_core.draw import random_background

    photos = HELDOUT_PHOTOS if split == "heldout" else TRAIN_PHOTOS
    if rng.random() < 0.5:
        return photo_crop(rng, photos, size)
    return np.array(random_background(rng, size, size), dtype=np.float32)


def draw_shape_image(seed: int, label: int, split: str = "train", size: int = SHAPES_SIZE) -> np.ndarray:
    """One procedural image (HWC float32 RGB in [0, 1]) of shape class ``label``, from ``seed``."""
    from artflow_core.draw import contrasting_color, draw_shape

    rng = np.random.default_rng(seed)
    canvas = _background(rng, split, size)
    diameter = float(rng.uniform(0.42, 0.95)) * size
    margin = diameter / 2 * 0.85
    cx = float(rng.uniform(margin, size - margin))
    cy = float(rng.uniform(margin, size - margin))
    rotation = float(rng.uniform(0, 360))
    r = int(max(2, diameter * 0.35))
    under = canvas[max(0, int(cy) - r) : int(cy) + r, max(0, int(cx) - r) : int(cx) + r]
    color = contrasting_color(rng, under)
    draw_shape(canvas, SHAPE_CLASSES[label], (cx, cy), diameter, rotation, color)
    if rng.random() < 0.25:  # mild sensor noise
        canvas = np.clip(canvas + rng.normal(0, rng.uniform(0.01, 0.04), canvas.shape), 0, 1)
    return canvas.astype(np.float32)


def _draw_range(args: tuple[int, int, int, str, int]) -> tuple[np.ndarray, np.ndarray]:
    base, start, stop, split, size = args
    xs = np.empty((stop - start, size, size, 3), dtype=np.float32)
    ys = np.empty(stop - start, dtype=np.int64)
    for j, i in enumerate(range(start, stop)):
        label = i % len(SHAPE_CLASSES)
        xs[j] = draw_shape_image(base + i, label, split, size)
        ys[j] = label
    return xs, ys


def shapes_dataset(n: int, *, split: str = "train", seed: int = 0, size: int = SHAPES_SIZE,
                   workers: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """``n`` procedural shape images (NHWC float32) and labels, classes balanced.

    ``split="train"`` draws seeds ``seed*10**7 + i`` over training backgrounds; ``"heldout"``
    draws from a disjoint seed range over held-out photos (backgrounds training never saw).
    """
    if split not in ("train", "heldout"):
        raise ValueError("split is 'train' or 'heldout'")
    base = (HELDOUT_SEED_BASE + seed * 10**7) if split == "heldout" else seed * 10**7
    chunk = max(1, math.ceil(n / max(1, workers * 4)))
    jobs = [(base, s, min(n, s + chunk), split, size) for s in range(0, n, chunk)]
    if workers > 1 and n > 512:
        import multiprocessing as mp

        with mp.get_context("fork").Pool(workers) as pool:
            parts = pool.map(_draw_range, jobs)
    else:
        parts = [_draw_range(j) for j in jobs]
    x = np.concatenate([p[0] for p in parts]) if parts else np.zeros((0, size, size, 3), np.float32)
    y = np.concatenate([p[1] for p in parts]) if parts else np.zeros((0,), np.int64)
    return x, y


# ---------------------------------------------------------------------------------------------
# a user's folder (image_dataset_from_directory layout)


def folder_classes(root: str | Path) -> list[str]:
    """Class names: the sub-folders of ``root`` that hold images, sorted (as Keras does)."""
    from artflow.train.trainer import TrainError

    root = Path(root)
    if not root.is_dir():
        raise TrainError(f"image folder '{root}' not found")
    classes = sorted(d.name for d in root.iterdir() if d.is_dir() and not d.name.startswith(".")
                     and any(f.suffix.lower() in IMAGE_SUFFIXES for f in d.rglob("*")))
    if len(classes) < 2:
        raise TrainError(f"'{root}' needs at least two sub-folders of images, one per class "
                         f"(found {len(classes)})")
    return classes


def load_folder(root: str | Path, size: int, *,
                channels: int = 3) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Every image under ``root/CLASS/`` resized to ``size``², as (x NHWC float32, y, classes).

    The same layout ``keras.utils.image_dataset_from_directory`` reads (class = sub-folder,
    sorted names), loaded with Pillow and artflow's image edge (EXIF orientation, alpha dropped).
    """
    from PIL import Image

    from artflow.imaging import load_image
    from artflow.train.trainer import TrainError

    root = Path(root)
    classes = folder_classes(root)
    xs, ys = [], []
    for label, name in enumerate(classes):
        for path in sorted((root / name).rglob("*")):
            if path.suffix.lower() not in IMAGE_SUFFIXES:
                continue
            img = load_image(path, keep_alpha=False)
            pil = Image.fromarray((img * 255 + 0.5).astype(np.uint8))
            arr = np.asarray(pil.resize((size, size), Image.Resampling.BILINEAR), dtype=np.float32) / 255.0
            if channels == 1:
                arr = (arr @ LUMA)[..., None]
            xs.append(arr)
            ys.append(label)
    if not xs:
        raise TrainError(f"no images found under '{root}'")
    return np.stack(xs).astype(np.float32), np.asarray(ys, dtype=np.int64), classes


def load_folder_views(root: str | Path, size: int, views: int, *,
                      seed: int = 0) -> tuple[np.ndarray, np.ndarray, list[str], list[Path]]:
    """Every image under ``root/CLASS/`` as ``views`` pictures of ``size``²: view 0 is the whole
    image resized (what inference sees), the others random crops (60–100 % of the short side,
    any aspect kept square), mirrored half of the time, with ±10 % brightness. Returns
    (x (N, views, size, size, 3) float32, y, classes, files)."""
    from PIL import Image, ImageOps

    from artflow.imaging import load_image
    from artflow.train.trainer import TrainError

    root = Path(root)
    classes = folder_classes(root)
    rng = np.random.default_rng(seed)
    xs, ys, files = [], [], []
    for label, name in enumerate(classes):
        for path in sorted((root / name).rglob("*")):
            if path.suffix.lower() not in IMAGE_SUFFIXES:
                continue
            img = Image.fromarray((load_image(path, keep_alpha=False)[..., :3] * 255 + 0.5).astype(np.uint8))
            out = [np.asarray(img.resize((size, size), Image.Resampling.BILINEAR), np.float32) / 255.0]
            w, h = img.size
            for _ in range(views - 1):
                side = int(min(w, h) * rng.uniform(0.6, 1.0))
                x0, y0 = int(rng.integers(0, w - side + 1)), int(rng.integers(0, h - side + 1))
                crop = img.crop((x0, y0, x0 + side, y0 + side))
                crop = crop.resize((size, size), Image.Resampling.BILINEAR)
                if rng.random() < 0.5:
                    crop = ImageOps.mirror(crop)
                arr = np.asarray(crop, np.float32) / 255.0 * rng.uniform(0.9, 1.1)
                out.append(np.clip(arr, 0.0, 1.0))
            xs.append(np.stack(out))
            ys.append(label)
            files.append(path)
    if not xs:
        raise TrainError(f"no images found under '{root}'")
    return np.stack(xs).astype(np.float32), np.asarray(ys, dtype=np.int64), classes, files


# ---------------------------------------------------------------------------------------------
# the few-shot fixture: crops of scikit-image textures and photos

FEWSHOT_SOURCES: tuple[str, ...] = ("brick", "grass", "gravel", "coins", "hubble_deep_field")


def fewshot_folder(root: str | Path, per_class: int, *, half: str = "train", seed: int = 0,
                   size: int = 96, sources: tuple[str, ...] = FEWSHOT_SOURCES) -> Path:
    """Write ``root/CLASS/i.png``: ``per_class`` random square crops (30–70 % of the short side,
    resized to ``size``) of each scikit-image picture in ``sources``, taken from its left half
    (``half="train"``) or its right half (``"heldout"``), so the two never share pixels."""
    from artflow_core.photos import sample_photo
    from PIL import Image

    root = Path(root)
    rng = np.random.default_rng(seed + (0 if half == "train" else 1_000_003))
    for name in sources:
        img = (sample_photo(name) * 255 + 0.5).astype(np.uint8)
        w = img.shape[1]
        img = img[:, : w // 2] if half == "train" else img[:, w // 2:]
        h, w = img.shape[:2]
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            side = int(min(h, w) * rng.uniform(0.3, 0.7))
            y, x = int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1))
            crop = Image.fromarray(img[y:y + side, x:x + side])
            crop.resize((size, size), Image.Resampling.BILINEAR).save(root / name / f"{i:03d}.png")
    return root
