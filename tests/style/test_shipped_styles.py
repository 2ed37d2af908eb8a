"""The shipped styles: registered with their style image, sha-checked, ≤ 2 MB, cards with metrics."""

from __future__ import annotations

import json
from pathlib import Path

import artflow_style

from artflow.models.card import read_card
from artflow.shipping import shipped_models


def test_every_shipped_style_lists_its_style_image_and_held_out_metrics(artflow_cli):
    proc = artflow_cli("models", "--json")
    assert proc.returncode == 0, proc.stderr
    listed = {m["name"]: m for m in json.loads(proc.stdout) if m["kind"] == "style"}
    shipped = shipped_models("artflow_style")
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
    for entry in shipped_models("artflow_style"):
        card = read_card(artflow_style.MODELS_DIR / entry["file"])
        for photo in ("astronaut", "coffee"):
            assert card.metrics[f"{photo}_gram_ratio"] <= 0.5, (entry["name"], photo)
            assert card.metrics[f"{photo}_edge_corr"] >= 0.55, (entry["name"], photo)
            assert entry["metrics"][f"{photo}_edge_corr"] == card.metrics[f"{photo}_edge_corr"]


def test_every_shipped_style_image_is_the_one_style_image_makes():
    """Each style image is reproducible: drawn by artflow's generate nodes (data.draw_style) or a
    scikit-image photo/texture (data.PHOTO_STYLES); at least one is a real photo or texture."""
    import numpy as np
    from artflow_style.data import PHOTO_STYLES, style_image

    from artflow.imaging import load_image

    names = [e["name"] for e in shipped_models("artflow_style")]
    for name in names:
        shipped = load_image(artflow_style.MODELS_DIR / f"{name}_style.png", keep_alpha=False)[..., :3]
        assert np.abs(shipped - style_image(name, 512)).max() <= 2.5 / 255, name
    assert set(PHOTO_STYLES) & set(names)
