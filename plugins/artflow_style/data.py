"""Training and evaluation images: scikit-image content photos and the shipped style drawings.

    photos = content_photos()                     # training photos (astronaut, coffee held out)
    held = heldout_photos()                       # {"astronaut": ..., "coffee": ..., "chelsea", "rocket"}
    batch = random_crops(photos, rng, 4, 160)     # NHWC float32 crops with scale jitter and flips
    image = draw_style("glass", 512)              # a style image drawn by artflow's generate nodes

Pillow and NumPy only; scikit-image is imported inside the functions that need it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from artflow_core.photos import sample_photo
from PIL import Image

from artflow import imaging
from artflow.errors import ArtflowError

# astronaut and coffee carry the shipped-style bars; chelsea and rocket are the two more photos the
# model-quality bars are measured on: none of the four is trained on
HELD_OUT = ("astronaut", "coffee", "chelsea", "rocket")
TRAIN_PHOTOS = ("hubble_deep_field", "immunohistochemistry", "retina",
                "stereo_motorcycle", "colorwheel", "camera", "coins", "moon", "clock", "brick",
                "grass", "gravel", "cell", "page")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")


def _as_rgb(a: np.ndarray) -> np.ndarray:
    """Any uint8/bool/float image as float32 HWC RGB in [0, 1]."""
    if a.dtype == bool:
        a = a.astype(np.float32)
    elif a.dtype != np.float32 or a.max() > 1.0:
        a = a.astype(np.float32) / (255.0 if a.max() > 1.0 else 1.0)
    if a.ndim == 2:
        a = a[..., None]
    if a.shape[-1] == 1:
        a = np.repeat(a, 3, axis=-1)
    return np.ascontiguousarray(a[..., :3], dtype=np.float32)


def content_photos(folder: str | None = None, *, limit: int | None = None) -> list[np.ndarray]:
    """Training content: the images in ``folder``, or scikit-image's photos minus the held-out ones."""
    if folder:
        files = sorted(p for p in Path(folder).rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise ArtflowError(f"no images in content folder '{folder}'")
        images = [_as_rgb(np.asarray(Image.open(f).convert("RGB"))) for f in files[:limit]]
    else:
        images = [sample_photo(n) for n in TRAIN_PHOTOS[:limit]]
    return [im for im in images if min(im.shape[:2]) >= 32]


def heldout_photos() -> dict[str, np.ndarray]:
    """The evaluation photos, never trained on: astronaut (512²), coffee (400×600), chelsea
    (300×451) and rocket (427×640)."""
    return {name: sample_photo(name) for name in HELD_OUT}


def resize(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """Resize an HWC float image (area when shrinking, bicubic when enlarging)."""
    if image.shape[:2] == (height, width):
        return image
    return np.clip(imaging.resize(image, height, width, "area", enlarge="bicubic", fast=False), 0, 1)


def fit_short_side(image: np.ndarray, side: int) -> np.ndarray:
    """Resize so the shorter side is ``side`` pixels."""
    h, w = image.shape[:2]
    s = side / min(h, w)
    return resize(image, max(side, round(w * s)), max(side, round(h * s)))


def random_crops(photos: list[np.ndarray], rng: np.random.Generator, n: int, size: int) -> np.ndarray:
    """n random square crops (scale jitter 0.35–1 of the short side, flips), resized to ``size``."""
    out = np.empty((n, size, size, 3), np.float32)
    for i in range(n):
        im = photos[int(rng.integers(len(photos)))]
        h, w = im.shape[:2]
        side = int(min(h, w) * rng.uniform(0.35, 1.0))
        side = max(min(side, h, w), min(size, h, w))
        y = int(rng.integers(0, h - side + 1))
        x = int(rng.integers(0, w - side + 1))
        crop = resize(im[y:y + side, x:x + side], size, size)
        if rng.random() < 0.5:
            crop = crop[:, ::-1]
        if rng.random() < 0.2:
            crop = crop[::-1]
        out[i] = crop
    return out


# ---------------------------------------------------------------------------------------------
# style images, drawn by artflow's own generate nodes


STYLES = ("glass", "flow", "halftone", "marble", "confetti")
# styles whose image is a real photo or texture from scikit-image, not a drawing
PHOTO_STYLES = {"stain": "immunohistochemistry"}


def style_image(name: str, size: int = 512, seed: int = 11) -> np.ndarray:
    """Any shipped style's image: drawn (:func:`draw_style`) or a scikit-image photo/texture."""
    if name in PHOTO_STYLES:
        return fit_short_side(sample_photo(PHOTO_STYLES[name]), size)
    return draw_style(name, size, seed)


def draw_style(name: str, size: int = 512, seed: int = 11) -> np.ndarray:
    """A shipped style image (HWC float32 in [0, 1]), drawn reproducibly by artflow's nodes."""
    import artflow as af
    from artflow.cache import Cache
    from artflow.engine import Engine

    g = af.Graph(seed=seed)
    if name == "glass":
        node = g.add("generate.voronoi", width=size, height=size, cells=70, line_width=4.0,
                     texture=0.45, palette="vivid")
    elif name == "flow":
        node = g.add("generate.flow_field", width=size, height=size, lines=1400, steps=90,
                     stroke=2.6, opacity=0.8, scale=140.0, curl=1.2, palette="neon",
                     background="#10122a", color_by="angle")
    elif name == "confetti":
        g = af.Graph(seed=5)  # the seed the shipped confetti image was drawn with
        node = g.add("generate.shapes", width=size, height=size, min_shapes=160, max_shapes=200,
                     min_size=0.04, max_size=0.16, background="solid", background_color="#1d2b53",
                     palette="bauhaus")
    elif name == "marble":
        node = g.add("generate.noise", width=size, height=size, kind="turbulence", scale=140.0,
                     octaves=6, color="twilight")
    elif name == "halftone":
        base = g.add("generate.noise", width=size, height=size, kind="fbm", scale=180.0, octaves=3,
                     color="rgb")
        result = Engine(Cache(disk=False)).run(g, use_cache=False)
        # coarse dots (24 px, 12 px at the trainer's 256-px style size): with 10-px cells the
        # dot texture sat at the scale of the photos' own edges and the network traded them away
        return halftone(result[base][0], cell=24)
    else:
        raise ArtflowError(f"unknown style drawing '{name}' (known: {', '.join(STYLES)})")
    result = Engine(Cache(disk=False)).run(g, use_cache=False)
    return np.asarray(result[node][0][..., :3], dtype=np.float32)


def halftone(image: np.ndarray, cell: int = 10) -> np.ndarray:
    """A CMY halftone of an RGB image: dots on rotated grids, sized by ink, on paper white."""
    h, w = image.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    paper = np.array([0.97, 0.95, 0.9], np.float32)
    out = np.ones((h, w, 3), np.float32) * paper
    inks = {0: np.array([0.0, 0.68, 0.94]), 1: np.array([0.93, 0.0, 0.55]), 2: np.array([1.0, 0.93, 0.0])}
    for c, angle in ((0, 15.0), (1, 75.0), (2, 0.0)):
        a = np.deg2rad(angle)
        u = (xx * np.cos(a) + yy * np.sin(a)) / cell
        v = (-xx * np.sin(a) + yy * np.cos(a)) / cell
        du, dv = u - np.round(u), v - np.round(v)
        dist = np.sqrt(du ** 2 + dv ** 2)
        ink = 1.0 - image[..., c]  # cyan absorbs red, magenta green, yellow blue
        ink = np.clip((ink - 0.15) / 0.7, 0, 1)
        radius = 0.62 * np.sqrt(ink)
        cover = np.clip((radius - dist) * cell * 0.9 + 0.5, 0, 1)[..., None]
        out = out * (1 - cover) + out * inks[c] * cover
    return np.clip(out, 0, 1).astype(np.float32)
