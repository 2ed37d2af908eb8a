"""Arbitrary style transfer from any image: `style.embed`, `style.apply`, `style.mix` and STYLE.

Magenta's arbitrary image stylization (Ghiasi et al. 2017): a style predictor maps a style image
(centre square, resized to 256²) to a 100-d style vector; a transformer renders a content image
of any size in that style. A STYLE value is a float32 (N, 100) batch of those vectors.

``strength`` s follows the paper — the transformer gets ``(1 - s) · own + s · given``, where
``own`` is the content's own style vector — and the pixels are faded too, ``(1 - s) · content +
s · stylized``: the transformer at the content's own vector does not give the photo back (on
astronaut the mean difference is 0.15, a painterly self-portrait), so s = 0 returns the content
itself and s = 1 the full style. Big images are stylized in tiles that share the whole image's
instance-norm statistics, as `style.transfer` does (the shipped transformer carries the
``stats``/``shared`` inputs added by arbitrary_rewrite). No TensorFlow: NumPy and ONNX Runtime.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from artflow import IMAGE, ArraySocket, Float, In, Int, Model, NodeContext, Out, node
from artflow.budget import Estimate, nbytes
from artflow.errors import NodeError
from artflow.imaging import resize

from .transfer import Stylizer

STYLE_SIZE = 100
PREDICTOR_SIDE = 256


class StyleSocket(ArraySocket):
    """STYLE: float32 (N, 100) style vectors; a batch of another width is refused with the remedy."""

    def check(self, value: Any) -> str | None:
        if isinstance(value, np.ndarray) and (value.ndim != 2 or value.shape[-1] != STYLE_SIZE):
            return (f"expected (N, {STYLE_SIZE}) style vectors for STYLE, got shape {list(value.shape)}; "
                    "make them with style.embed (or style.mix)")
        return super().check(value)


STYLE = StyleSocket("STYLE", f"float32 (N, {STYLE_SIZE}) style vectors (style.embed)", ndim=2)

_PREDICTOR = Model("style_predictor", "magenta_predictor",
                   doc="registered style predictor or its .onnx path")
_TRANSFORMER = Model("style_transformer", "magenta_transformer",
                     doc="registered style transformer or its .onnx path")

#: work units (ARTFLOW_MAX_WORK, about 0.1 µs each) per stylized pixel: the int8 transformer took
#: 3-4 µs per pixel here (1.1 s per 512² on 2 shared cores at load ~10)
WORK_PER_PIXEL = 30
#: working memory per pixel of one pass (peak RSS growth measured: ~200 bytes at 512² and 1024²)
BYTES_PER_PIXEL = 250


def _rgb(image: np.ndarray) -> np.ndarray:
    """HWC RGB float32 of an IMAGE item (alpha dropped, gray repeated)."""
    rgb = image[..., :3] if image.shape[-1] >= 3 else np.repeat(image[..., :1], 3, axis=-1)
    return np.ascontiguousarray(rgb, dtype=np.float32)


def style_square(image: np.ndarray, side: int = PREDICTOR_SIDE) -> np.ndarray:
    """The centre square of an HWC image resized to side² (area when shrinking), as the predictor
    takes it (Magenta's demo crops the same way)."""
    h, w = image.shape[:2]
    s = min(h, w)
    y, x = (h - s) // 2, (w - s) // 2
    return np.clip(resize(_rgb(image)[y:y + s, x:x + s], side, side, "area", enlarge="bicubic"), 0, 1)


def embed(session: Any, images: np.ndarray) -> np.ndarray:
    """The (N, 100) style vectors of an IMAGE batch."""
    out = np.empty((len(images), STYLE_SIZE), np.float32)
    for i, image in enumerate(images):
        out[i] = session.run({"image": style_square(image)[None]})["style"][0]
    return out


class ArbitraryStylizer(Stylizer):
    """The shared-statistics tiling of `style.transfer`, with a style vector fed to every pass."""

    def __init__(self, session: Any, vector: np.ndarray):
        super().__init__(session)
        self.vector = np.asarray(vector, np.float32).reshape(1, STYLE_SIZE)

    def _run(self, x: np.ndarray, stats: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        shared = stats is not None
        feeds = {"image": x[None], "style": self.vector,
                 "stats": stats if shared else np.zeros((1, self.stats_size), np.float32),
                 "shared": np.full([1], 1.0 if shared else 0.0, np.float32)}
        out = self.session.run(feeds)
        return out["stylized"][0], out["norm_stats"]


def apply_style(transformer: Any, image: np.ndarray, vector: np.ndarray, *, strength: float = 1.0,
                own: np.ndarray | None = None, max_whole: int = 1 << 20, tile: int = 512,
                overlap: int = 64) -> np.ndarray:
    """Stylize one HWC image (alpha kept) with a style vector; ``own`` (the content's vector) is
    needed when ``strength`` < 1."""
    rgb = _rgb(image)
    if strength <= 0.0:
        out = rgb
    else:
        v = np.asarray(vector, np.float32)
        if strength < 1.0:
            v = (1.0 - strength) * np.asarray(own, np.float32) + strength * v
        s = ArbitraryStylizer(transformer, v)
        h, w = rgb.shape[:2]
        styled = s.tiled(rgb, tile, overlap) if h * w > max_whole else s.whole(rgb)
        out = np.clip(strength * styled + (1.0 - strength) * rgb, 0, 1) if strength < 1.0 else styled
    out = np.clip(out, 0, 1)
    if image.shape[-1] == 4:
        out = np.concatenate([out, image[..., 3:4]], axis=-1)
    return out.astype(np.float32)


def _pairs(ctx: NodeContext, first: int, second: int, names: tuple[str, str]) -> int:
    """How many outputs two batches make: equal sizes pair up, a batch of one broadcasts."""
    if first == second or first == 1 or second == 1:
        return max(first, second)
    raise NodeError(ctx.node_id, ctx.node_type, f"{first} {names[0]} and {second} {names[1]} do not pair "
                    "up; give one of either, or as many of both")


def _check_width(ctx: NodeContext, socket: str, vectors: np.ndarray) -> None:
    problem = STYLE.check(vectors)
    if problem:
        raise NodeError(ctx.node_id, ctx.node_type, f"input '{socket}': {problem}")


def _embed_estimate(params: dict[str, Any], inputs: dict[str, Any], input_dir: Any) -> Estimate:
    shape = inputs.get("image")
    count = shape[0] if shape else None
    return Estimate({"style": (count, STYLE_SIZE) if count else None},
                    working_bytes=PREDICTOR_SIDE * PREDICTOR_SIDE * BYTES_PER_PIXEL,
                    work=(count or 1) * PREDICTOR_SIDE * PREDICTOR_SIDE * WORK_PER_PIXEL)


def _apply_estimate(params: dict[str, Any], inputs: dict[str, Any], input_dir: Any) -> Estimate:
    """Output as big as the content (× styles); work grows with the pixels stylized; one pass
    holds at most a tile (or the whole image up to max_whole) in ONNX Runtime's memory."""
    shape, styles = inputs.get("image"), inputs.get("style")
    if shape is None:
        return Estimate({"image": None})
    n = max(shape[0], styles[0] if styles else 1)
    channels = 4 if shape[3] == 4 else 3
    out = (n, shape[1], shape[2], channels)
    pixels = shape[1] * shape[2]
    one_pass = pixels if pixels <= int(params["max_whole"]) else max(
        int(params["tile"]) ** 2, min(pixels, 1 << 20))
    passes = 1 + (int(params["strength"] < 1))  # the content's own vector
    return Estimate({"image": out}, working_bytes=one_pass * BYTES_PER_PIXEL + 2 * nbytes(out[1:]),
                    work=n * pixels * WORK_PER_PIXEL * passes)


@node(
    "style.embed",
    category="model",
    inputs={"image": In(IMAGE, "style images (any size; the centre square is used)")},
    outputs={"style": Out(STYLE, f"one {STYLE_SIZE}-d style vector per image")},
    params={"predictor": _PREDICTOR},
    estimate=_embed_estimate,
)
def style_embed(ctx: NodeContext, image: np.ndarray, predictor: str) -> np.ndarray:
    """Style vectors of any images (Magenta's style predictor on the centre square at 256²)."""
    return embed(ctx.session("predictor"), image)


@node(
    "style.apply",
    category="model",
    inputs={"image": In(IMAGE, "content images (any size; alpha kept)"),
            "style": In(STYLE, "style vectors: one, or one per image")},
    outputs={"image": Out(IMAGE, "stylized images, same size")},
    params={
        "strength": Float(1.0, min=0.0, max=1.0,
                          doc="0 keeps the content; between, the content's own style vector mixes "
                              "with the given one and the pixels fade to the content"),
        "transformer": _TRANSFORMER,
        "predictor": _PREDICTOR,
        "max_whole": Int(1 << 20, min=0, max=1 << 28,
                         doc="images above this many pixels are stylized in tiles (0: always tile)"),
        "tile": Int(512, min=64, max=4096, doc="tile side in pixels (multiple of 4)"),
        "overlap": Int(64, min=8, max=1024, doc="overlap between tiles, feathered"),
    },
    estimate=_apply_estimate,
)
def style_apply(ctx: NodeContext, image: np.ndarray, style: np.ndarray, strength: float,
                transformer: str, predictor: str, max_whole: int, tile: int,
                overlap: int) -> np.ndarray:
    """Render images in the style of any style vectors (from style.embed or style.mix)."""
    _check_width(ctx, "style", style)
    n = _pairs(ctx, len(image), len(style), ("images", "style vectors"))
    session = ctx.session("transformer")
    channels = 4 if image.shape[-1] == 4 else 3
    out = np.empty((n,) + image.shape[1:3] + (channels,), np.float32)
    own = embed(ctx.session("predictor"), image) if 0.0 < strength < 1.0 else None
    for i in range(n):
        k = min(i, len(image) - 1)
        out[i] = apply_style(session, image[k], style[min(i, len(style) - 1)], strength=strength,
                             own=None if own is None else own[k], max_whole=max_whole, tile=tile,
                             overlap=overlap)
    return out


@node(
    "style.mix",
    category="model",
    inputs={"a": In(STYLE, "first style (weight 0)"), "b": In(STYLE, "second style (weight 1)")},
    outputs={"style": Out(STYLE, "the blend (1 - weight) · a + weight · b")},
    params={"weight": Float(0.5, min=0.0, max=1.0,
                            doc="share of b; schedule it to animate from one style to the other")},
)
def style_mix(ctx: NodeContext, a: np.ndarray, b: np.ndarray, weight: float) -> np.ndarray:
    """Blend two styles' vectors (one of each, or as many as the other side)."""
    _check_width(ctx, "a", a)
    _check_width(ctx, "b", b)
    n = _pairs(ctx, len(a), len(b), ("styles in a", "in b"))
    w = np.float32(weight)
    out = (1 - w) * np.broadcast_to(a, (n, STYLE_SIZE)) + w * np.broadcast_to(b, (n, STYLE_SIZE))
    return np.ascontiguousarray(out, np.float32)


NODES = [style_embed, style_apply, style_mix]

