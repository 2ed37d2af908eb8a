"""The shipped generators: registered with matching sha256, cards complete, digits classifiable."""

from __future__ import annotations

import numpy as np
import pytest
from artflow_generator import MODELS_DIR

import artflow as af
from artflow.models import file_sha256
from artflow.models.card import read_card
from artflow.shipping import shipped_models


def _manifest() -> dict:
    return {entry["name"]: entry for entry in shipped_models("artflow_generator")}


def test_every_shipped_model_matches_its_manifest_sha256_and_is_small() -> None:
    manifest = _manifest()
    assert {"digits", "art"} <= set(manifest)
    for entry in manifest.values():
        path = MODELS_DIR / entry["file"]
        assert file_sha256(path) == entry["sha256"]
        assert path.stat().st_size < 8 * 2**20


def test_shipped_models_are_registered_as_generators() -> None:
    models = af.get_plugins().models
    assert {"digits", "art"} <= set(models.names("generator"))


@pytest.mark.parametrize("name", ["digits", "art"])
def test_cards_hold_training_record_metrics_and_parity(name: str) -> None:
    card = read_card(MODELS_DIR / _manifest()[name]["file"])
    assert card is not None and card.kind == "generator" and card.name == name
    assert card.training["command"].startswith("artflow train gan")
    assert "seed" in card.training and card.training["data"]
    assert card.metrics["parity_max_abs_diff"] <= 1e-4
    assert card.versions.get("tensorflow") and card.versions.get("onnxruntime")
    assert card.latent_size and [i.name for i in card.inputs][0] == "z"


def test_digits_card_records_classifiability_and_frechet_distance() -> None:
    card = read_card(MODELS_DIR / _manifest()["digits"]["file"])
    assert card.labels == [str(i) for i in range(10)]
    assert card.metrics["classifiable_p90"] >= 0.9
    assert card.metrics["fid_classifier_features"] >= 0.0
    assert card.metrics["fid_classifier_probs"] >= 0.0


def test_art_card_records_its_frechet_distance() -> None:
    card = read_card(MODELS_DIR / _manifest()["art"]["file"])
    assert card.metrics["fid_random_conv"] >= 0.0
    assert card.extra["image_size"] == [64, 64]


def test_shipped_digits_samples_are_read_as_their_class_by_the_digits_classifier() -> None:
    """300 samples (30 per class) through gan.generate → the shipped classifier's probabilities."""
    models = af.get_plugins().models
    if "digits" not in models.names("classifier"):
        pytest.skip("the digits classifier is not installed")
    from artflow_generator.evaluation import classifier_features

    g = af.Graph(seed=2024)
    ref = g.add("gan.generate", "gen", model="digits", count=300)
    images = g.run(use_cache=False)[ref["image"]]
    labels = np.arange(300) % 10
    probs, _ = classifier_features(models.resolve("digits", "classifier"), images)
    p_true = probs[np.arange(300), labels]
    assert (p_true >= 0.9).mean() >= 0.9
    assert (probs.argmax(-1) == labels).mean() >= 0.95
