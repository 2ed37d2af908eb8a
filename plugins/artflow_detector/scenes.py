"""Seeded procedural detection scenes: 1–8 shapes with exact visible boxes over varied backgrounds.

    from artflow_detector.scenes import render_scene, scene_batch
    scene = render_scene(seed=7, size=256)            # Scene(image HWC float32, boxes (n, 4), classes (n,))
    x, boxes, classes = scene_batch(100, split="heldout", size=256)

Objects are the classes of :data:`CLASSES` (the names of the ``shapes`` classifier), drawn with
``artflow_core.draw`` at 8 %–40 % of the image side, in a colour that stands out from what lies
under it, rotated, and overlapping: a later shape may hide part of an earlier one, never more
than :data:`MAX_HIDDEN` of it, and a shape may reach past the edge by :data:`MAX_OUTSIDE`. Each
box is the exact extent of what stays *visible* (the drawn polygon's exact box where nothing
hides it; otherwise that box cut down to the visible pixels).

Splits never share backgrounds:

- ``train``: crops of the photos in :data:`TRAIN_PHOTOS` or the core procedural backgrounds
  (solid, gradient, noise, Voronoi), scene seeds ``seed * 10**7 + i``;
- ``heldout``: crops of the photos in :data:`HELDOUT_PHOTOS` only (never used in training),
  scene seeds from :data:`HELDOUT_SEED_BASE` on (a range training never draws from).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

CLASSES: tuple[str, ...] = ("circle", "square", "triangle", "star", "hexagon")
TRAIN_PHOTOS: tuple[str, ...] = (
    "astronaut", "chelsea", "hubble_deep_field", "immunohistochemistry", "retina", "brick", "gravel",
    "camera", "moon", "coins", "cell", "clock", "colorwheel", "text", "page",
)
HELDOUT_PHOTOS: tuple[str, ...] = ("coffee", "rocket", "grass", "stereo_motorcycle")
HELDOUT_SEED_BASE = 9_000_000_000
MIN_SIZE, MAX_SIZE = 0.08, 0.40
MAX_OBJECTS = 8
MAX_HIDDEN = 0.35  # at most this share of a shape hidden: what stays visible still says its class
MAX_OUTSIDE = 0.15  # a shape may reach past the image edge by this share of its size
SCENES_VERSION = 2  # bump when the drawing changes (cache file names carry it)


@dataclass
class Scene:
    """One scene: image (H, W, 3) float32 in [0, 1], boxes (n, 4) xyxy pixels, classes (n,) ints."""

    image: np.ndarray
    boxes: np.ndarray
    classes: np.ndarray

    @property
    def labels(self) -> list[str]:
        return [CLASSES[int(c)] for c in self.classes]


def photo_crop(rng: np.random.Generator, names: tuple[str, ...], size: int) -> np.ndarray:
    """A random square crop (scale, flips and tint vary) of one of the named scikit-image photos."""
    from artflow_core.photos import photo_crop as crop

    return crop(rng, names, size, min_side=16, min_divisor=6, box_downscale=True)


def background(rng: np.random.Generator, split: str, size: int) -> np.ndarray:
    """A background for a split: held-out photos only, or training photos / procedural ones."""
    from artflow_core.draw import random_background

    if split == "heldout":
        return photo_crop(rng, HELDOUT_PHOTOS, size)
    if rng.random() < 0.45:
        return photo_crop(rng, TRAIN_PHOTOS, size)
    return np.array(random_background(rng, size, size), dtype=np.float32)


def render_scene(seed: int, size: int = 256, split: str = "train", *,
                 n_objects: int | None = None) -> Scene:
    """Draw one scene from ``seed`` (same seed, size and split → same pixels and boxes)."""
    from artflow_core.draw import contrasting_color, shape_coverage

    rng = np.random.default_rng(seed)
    canvas = background(rng, split, size)
    n = int(n_objects if n_objects is not None else rng.integers(1, MAX_OBJECTS + 1))
    visible: list[np.ndarray] = []  # per object: bool mask of its visible pixels (full canvas)
    areas: list[int] = []
    exact: list[tuple[float, float, float, float]] = []
    classes: list[int] = []
    for _ in range(n):
        for _attempt in range(12):
            cls = int(rng.integers(len(CLASSES)))
            diameter = float(rng.uniform(MIN_SIZE, MAX_SIZE)) * size
            margin = diameter * MAX_OUTSIDE
            cx = float(rng.uniform(-margin + diameter / 2, size + margin - diameter / 2))
            cy = float(rng.uniform(-margin + diameter / 2, size + margin - diameter / 2))
            rotation = float(rng.uniform(0, 360))
            (rows, cols), cov, box = shape_coverage(CLASSES[cls], (cx, cy), diameter, rotation, size, size)
            if cov.size == 0 or (box[2] - box[0]) < 0.06 * size or (box[3] - box[1]) < 0.06 * size:
                continue
            solid = np.zeros((size, size), dtype=bool)
            solid[rows, cols] = cov >= 0.5
            if any((v & ~solid).sum() < (1 - MAX_HIDDEN) * a for v, a in zip(visible, areas, strict=True)):
                continue  # it would hide too much of an earlier shape
            color = contrasting_color(rng, canvas[rows, cols][cov >= 0.5])
            region = canvas[rows, cols]
            a = cov[..., None]
            region[...] = region * (1 - a) + np.asarray(color, np.float32) * a
            for v in visible:
                v &= ~solid
            visible.append(solid)
            areas.append(int(solid.sum()))
            exact.append(box)
            classes.append(cls)
            break
    boxes = np.zeros((len(classes), 4), dtype=np.float32)
    for i, (v, box) in enumerate(zip(visible, exact, strict=True)):
        if v.sum() == areas[i]:
            boxes[i] = box
            continue
        ys = np.flatnonzero(v.any(axis=1))
        xs = np.flatnonzero(v.any(axis=0))
        boxes[i] = (max(box[0], xs[0]), max(box[1], ys[0]), min(box[2], xs[-1] + 1), min(box[3], ys[-1] + 1))
    if rng.random() < 0.25:  # mild sensor noise
        canvas = canvas + rng.normal(0, rng.uniform(0.01, 0.04), canvas.shape).astype(np.float32)
    return Scene(np.clip(canvas, 0, 1).astype(np.float32), boxes, np.asarray(classes, dtype=np.int64))


def scene_seed(i: int, split: str = "train", seed: int = 0) -> int:
    """The seed of scene ``i`` of a split (training and held-out ranges never meet)."""
    if split not in ("train", "heldout"):
        raise ValueError("split is 'train' or 'heldout'")
    base = HELDOUT_SEED_BASE + seed * 10**7 if split == "heldout" else seed * 10**7
    return base + i


def _render_range(args: tuple[int, int, str, int, int],
                  ) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]:
    start, stop, split, size, seed = args
    images = np.empty((stop - start, size, size, 3), dtype=np.uint8)
    boxes, classes = [], []
    for j, i in enumerate(range(start, stop)):
        s = render_scene(scene_seed(i, split, seed), size, split)
        images[j] = (s.image * 255 + 0.5).astype(np.uint8)
        boxes.append(s.boxes)
        classes.append(s.classes)
    return images, boxes, classes


def scene_batch(n: int, *, split: str = "train", size: int = 256, seed: int = 0, start: int = 0,
                workers: int = 1) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]:
    """Scenes ``start … start+n-1`` of a split as (uint8 NHWC images, boxes per image, classes per image)."""
    chunk = max(1, math.ceil(n / max(1, workers * 4)))
    jobs = [(start + s, start + min(n, s + chunk), split, size, seed) for s in range(0, n, chunk)]
    if workers > 1 and n >= 64:
        import multiprocessing as mp

        with mp.get_context("fork").Pool(workers) as pool:
            parts = pool.map(_render_range, jobs)
    else:
        parts = [_render_range(j) for j in jobs]
    images = np.concatenate([p[0] for p in parts]) if parts else np.zeros((0, size, size, 3), np.uint8)
    boxes = [b for p in parts for b in p[1]]
    classes = [c for p in parts for c in p[2]]
    return images, boxes, classes
