"""The model-quality bars for styles trained with the pretrained loss network (issue 13): every such
shipped style carries its palette (colour ratio ≤ 0.7 on the four held-out photos) and keeps
structure (edge r ≥ 0.45 on chelsea and rocket; astronaut and coffee keep the shipped-style bars
checked in test_shipped_styles.py), and its card says which loss network trained it."""

from __future__ import annotations

import artflow_style

from artflow.models.card import read_card

PHOTOS = ("astronaut", "coffee", "chelsea", "rocket")


def _pretrained_cards() -> list:
    cards = [read_card(artflow_style.MODELS_DIR / e["file"]) for e in artflow_style.shipped_models()]
    return [c for c in cards if c.extra.get("loss_network", {}).get("kind") == "vgg16"]


def test_every_style_trained_with_the_pretrained_network_carries_its_palette_and_structure():
    for card in _pretrained_cards():
        for photo in PHOTOS:
            assert card.metrics[f"{photo}_color_ratio"] <= 0.7, (card.name, photo)
        for photo in ("chelsea", "rocket"):
            assert card.metrics[f"{photo}_edge_corr"] >= 0.45, (card.name, photo)
        assert card.training["settings"]["chain"], card.name  # the runs that made it


def test_every_shipped_style_names_its_loss_network():
    for entry in artflow_style.shipped_models():
        card = read_card(artflow_style.MODELS_DIR / entry["file"])
        assert card.extra["loss_network"]["kind"] in ("vgg16", "random", "vgg19"), entry["name"]
