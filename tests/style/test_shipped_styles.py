"""The shipped styles: registered with their style image, sha-checked, ≤ 2 MB, cards with metrics."""

from __future__ import annotations

import json
from pathlib import Path

import artflow_style

from artflow.models.card import read_card


def test_every_shipped_style_lists_its_style_image_and_held_out_metrics(artflow_cli):
    proc = artflow_cli("models", "--json")
    assert proc.returncode == 0, proc.stderr
    listed = {m["name"]: m for m in json.loads(proc.stdout) if m["kind"] == "style"}
    shipped = artflow_style.shipped_models()
    assert len(shipped) >= 2 and set(listed) == {e["name"] for e in shipped}
    for entry in shipped:
        model = listed[entry["name"]]
        assert Path(model["style_image"]).is_file()
        path = artflow_style.MODELS_DIR / entry["file"]
        assert path.stat().st_size <= 2 * 1024 * 1024
        card = read_card(path)
        assert card is not None and card.kind == "style"
        for photo in ("astronaut", "coffee"):
            assert f"{photo}_gram_ratio" in card.metrics and f"{photo}_edge_corr" in card.metrics
        assert card.training["command"].startswith("artflow train style")


def test_every_shipped_style_meets_the_style_and_structure_bars():
    """On both held-out photos: Gram distance ≤ 0.5 × the photo's, smoothed-edge correlation ≥ 0.55."""
    for entry in artflow_style.shipped_models():
        card = read_card(artflow_style.MODELS_DIR / entry["file"])
        for photo in ("astronaut", "coffee"):
            assert card.metrics[f"{photo}_gram_ratio"] <= 0.5, (entry["name"], photo)
            assert card.metrics[f"{photo}_edge_corr"] >= 0.55, (entry["name"], photo)
            assert entry["metrics"][f"{photo}_edge_corr"] == card.metrics[f"{photo}_edge_corr"]


def test_shipped_halftone_style_image_is_the_one_draw_style_draws():
    import numpy as np
    from artflow_style.data import draw_style

    from artflow.imaging import load_image

    shipped = load_image(artflow_style.MODELS_DIR / "halftone_style.png", keep_alpha=False)[..., :3]
    assert np.abs(shipped - draw_style("halftone", 512)).max() <= 2.5 / 255
