"""`ae.encode`, `ae.decode`, `ae.blend`: images ↔ spatial latents through an autoencoder's ONNX pair.

No TensorFlow. The encoder (kind ``ae_encoder``) maps NHWC RGB in [0, 1] to (N, H/4, W/4, c); the
decoder (kind ``ae_decoder``) maps back. Any image size: the node edge-pads to a multiple of 4
(the encoder's factor, from its card) and ``ae.decode``/``ae.blend`` crop the pad off again when
they know the size (``ae.blend`` always does; ``ae.decode`` returns the padded size, 4× the latent).
``ae.blend`` mixes two images' latents linearly over ``frames`` steps and decodes every mix: a
batch of frames ready for ``image.save_animation``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from artflow import IMAGE, LATENT_MAP, In, Int, Model, NodeContext, Out, node
from artflow.errors import ArtflowError

_ENCODER = Model("ae_encoder", "photo", doc="registered autoencoder encoder name or path to its .onnx")
_DECODER = Model("ae_decoder", "photo", doc="registered autoencoder decoder name or path to its .onnx")


def _factor(ctx: NodeContext, param: str) -> int:
    card = ctx.session(param).card
    return int((card.extra if card is not None else {}).get("factor", 4))


def _pad(images: np.ndarray, factor: int) -> np.ndarray:
    """Edge-pad an NHWC batch on the bottom/right to a multiple of ``factor``."""
    h, w = images.shape[1:3]
    ph, pw = (-h) % factor, (-w) % factor
    if not (ph or pw):
        return images
    return np.pad(images, [(0, 0), (0, ph), (0, pw), (0, 0)], mode="edge")


def encode(ctx: NodeContext, images: np.ndarray, param: str = "encoder") -> np.ndarray:
    """The latent maps of an IMAGE batch (RGB; alpha dropped, gray repeated)."""
    x = np.asarray(images, np.float32)
    if x.shape[-1] == 1:
        x = np.repeat(x, 3, axis=-1)
    x = _pad(np.ascontiguousarray(x[..., :3]), _factor(ctx, param))
    session = ctx.session(param)
    return np.ascontiguousarray(session.run_batched({session.input_names[0]: x})["latent"], np.float32)


def decode(ctx: NodeContext, latent: np.ndarray, param: str = "decoder") -> np.ndarray:
    """Images from latent maps (channels must match the decoder's)."""
    session = ctx.session(param)
    card = session.card
    want = int((card.extra if card is not None else {}).get("latent_channels", latent.shape[-1]))
    if latent.shape[-1] != want:
        raise ArtflowError(f"the latent has {latent.shape[-1]} channels but the decoder "
                        f"takes {want}; encode and decode with the same autoencoder")
    out = session.run_batched({session.input_names[0]: np.asarray(latent, np.float32)})["image"]
    return np.clip(np.ascontiguousarray(out, np.float32), 0.0, 1.0)


@node(
    "ae.encode",
    category="model",
    inputs={"image": In(IMAGE, "images to encode (any size)")},
    outputs={"latent": Out(LATENT_MAP, "spatial latents (N, ceil(H/4), ceil(W/4), c)")},
    params={"encoder": _ENCODER},
)
def ae_encode(ctx: NodeContext, image: np.ndarray, *, encoder: str) -> np.ndarray:
    """Encode images into the autoencoder's spatial latent."""
    return encode(ctx, image)


@node(
    "ae.decode",
    category="model",
    inputs={"latent": In(LATENT_MAP, "spatial latents from ae.encode")},
    outputs={"image": Out(IMAGE, "decoded images (4× the latent's size)")},
    params={"decoder": _DECODER},
)
def ae_decode(ctx: NodeContext, latent: np.ndarray, *, decoder: str) -> np.ndarray:
    """Decode spatial latents back into images."""
    return decode(ctx, latent)


@node(
    "ae.blend",
    category="model",
    inputs={"a": In(IMAGE, "first image (frame 0)"), "b": In(IMAGE, "last image (resized to a's size)")},
    outputs={"image": Out(IMAGE, "frames mixing a into b in latent space"),
             "latent": Out(LATENT_MAP, "the mixed latents")},
    params={"encoder": _ENCODER, "decoder": _DECODER,
            "frames": Int(12, min=2, max=1024, doc="frames including both ends")},
)
def ae_blend(ctx: NodeContext, a: np.ndarray, b: np.ndarray, *, encoder: str, decoder: str,
             frames: int) -> dict[str, Any]:
    """Linear latent mix of the first image of ``a`` and of ``b``, decoded into ``frames`` frames."""
    from artflow.imaging import resize

    first, last = np.asarray(a[:1], np.float32), np.asarray(b[:1], np.float32)
    h, w = first.shape[1:3]
    if last.shape[1:3] != (h, w):
        last = resize(last, h, w)
    za, zb = encode(ctx, first)[0], encode(ctx, last)[0]
    t = np.linspace(0.0, 1.0, frames, dtype=np.float32)[:, None, None, None]
    z = ((1.0 - t) * za[None] + t * zb[None]).astype(np.float32)
    return {"image": decode(ctx, z)[:, :h, :w], "latent": z}


NODES = [ae_encode, ae_decode, ae_blend]
