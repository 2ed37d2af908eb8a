"""The shipped styles: registered with their style image, sha-checked, ≤ 2 MB, cards with metrics."""

from __future__ import annotations

import json
from pathlib import Path

import artflow_style

from artflow.modelcard import read_card


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
