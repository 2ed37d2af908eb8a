"""The shipped ESRGAN-thick file: UpscalerJS' own fixture against UpscalerJS' own output, tiled
against whole on a photo, and an honest card (source, licence, authors, parity, figures)."""

from __future__ import annotations

import numpy as np
from artflow_upscale.quality import to_uint8
from artflow_upscale.tiling import upscale_tiled
from PIL import Image

import artflow as af
from artflow.models.card import read_card

from .conftest import DATA, fixture_image

LEVEL = 1 / 255


def test_the_fixture_matches_upscalerjs_own_x4_output(thick) -> None:
    """The package's reference is TF.js' output for the whole 128² fixture, rows/columns 160–351;
    a 80² crop around it (24–103) is enough context for the centre 48² (the receptive field's
    weights fade within 16 px: see the tiled test)."""
    lr = fixture_image()[24:104, 24:104]
    got = to_uint8(thick(lr))[(40 - 24) * 4:(88 - 24) * 4, (40 - 24) * 4:(88 - 24) * 4].astype(int)
    want = np.asarray(Image.open(DATA / "reference_x4_160_352.png").convert("RGB")).astype(int)
    assert got.shape == want.shape
    diff = np.abs(got - want)
    assert diff.max() <= 1, f"max {diff.max()} levels, {np.mean(diff > 0):.2%} of values differ"


def test_tiled_equals_whole_within_two_levels_away_from_the_border(thick) -> None:
    from skimage import data

    photo = np.asarray(Image.fromarray(data.astronaut()[40:232, 120:360]).resize((80, 64)), np.float32) / 255
    whole = thick(photo)
    tiled = upscale_tiled(thick, photo, 4, tile=48, overlap=16)
    inner = np.abs(tiled - whole)[16:-16, 16:-16]
    assert inner.max() <= 2 * LEVEL, inner.max() * 255


def test_the_card_says_where_the_model_comes_from_and_how_it_measured() -> None:
    entry = af.get_plugins().models.get("esrgan-thick", "upscale")
    card = read_card(entry.path)
    source = card.extra["source"]
    assert card.kind == "upscale" and card.extra["scale"] == 4
    assert source["package"] == "@upscalerjs/esrgan-thick@1.0.0" and source["licence"] == "MIT"
    assert all(who in source["authors"] for who in ("Kevin Scott", "idealo", "DIV2K"))
    assert "artflow import tfjs" in card.training["command"]
    assert card.metrics["parity_max_abs_diff"] <= LEVEL  # float16 weights against TensorFlow
    assert card.metrics["fixture_x4_max_diff_255"] <= 1
    assert card.metrics["psnr_gain_over_lanczos_db"] >= 0.5
    assert "float16" in card.extra["weights"]
    assert af.models.file_sha256(entry.path) == entry.sha256
