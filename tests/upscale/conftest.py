"""Fixtures of the upscale tests: the shipped ESRGAN-thick session, images on disk, graphs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def thick():
    """The shipped model as the node runs it (a Network over an ONNX Runtime session)."""
    from artflow_upscale.upscale import Network, model_scale

    import artflow as af
    from artflow.models import get_session

    entry = af.get_plugins().models.get("esrgan-thick", "upscale")
    session = get_session(entry, "cpu")
    return Network(session, model_scale(session.card, "esrgan-thick"))


def save_png(path: Path, image: np.ndarray) -> Path:
    """An HWC float image in [0, 1] (RGB or RGBA) written as an 8-bit PNG."""
    Image.fromarray(np.clip(np.round(image * 255), 0, 255).astype(np.uint8)).save(path)
    return path


def fixture_image() -> np.ndarray:
    """UpscalerJS' 128² fixture as a canonical RGB float image."""
    return np.asarray(Image.open(DATA / "fixture.png").convert("RGB"), np.float32) / 255.0
