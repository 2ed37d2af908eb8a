"""artflow.shipping: the one path every plugin ships models by (copy, check, hash, manifest)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import artflow_classifier
import pytest

from artflow.errors import ModelError
from artflow.models import file_sha256
from artflow.shipping import carded, only_model, read_manifest, register_manifest, ship

DIGITS = Path(artflow_classifier.__file__).parent / "models" / "digits.onnx"


def test_ship_copies_the_model_and_its_files_and_records_them_in_the_manifest(tmp_path: Path):
    run = tmp_path / "run"
    run.mkdir()
    shutil.copyfile(DIGITS, run / "exported.onnx")
    (run / "weights.bin").write_bytes(b"w" * 10)
    models = tmp_path / "pkg" / "models"
    entry = ship(models, run / "exported.onnx", kind="classifier",
                 files={"weights": (run / "weights.bin", "digits_weights.bin")},
                 metrics=("accuracy", "not_a_metric"), labels=["0", "1"])
    assert sorted(p.name for p in models.iterdir()) == ["digits.onnx", "digits_weights.bin", "manifest.json"]
    assert entry["sha256"] == file_sha256(models / "digits.onnx") == file_sha256(DIGITS)
    assert entry["files"] == {"weights": "digits_weights.bin"} and list(entry["metrics"]) == ["accuracy"]
    assert read_manifest(models) == [entry]

    registered = []
    register_manifest(lambda **kw: registered.append(kw), models)
    assert registered[0]["kind"] == "classifier" and registered[0]["labels"] == ["0", "1"]
    assert registered[0]["weights"] == str(models / "digits_weights.bin")


def test_ship_refuses_a_model_whose_card_is_of_another_kind_and_writes_nothing(tmp_path: Path):
    models = tmp_path / "models"
    with pytest.raises(ModelError, match=r"has a classifier card, not a style card"):
        ship(models, DIGITS, kind="style")
    assert not models.exists()
    assert carded(DIGITS, "classifier").name == "digits"


def test_shipping_again_replaces_the_entry_and_keeps_the_others(tmp_path: Path):
    models = tmp_path / "models"
    models.mkdir()
    (models / "manifest.json").write_text(json.dumps({"models": [
        {"name": "zz", "kind": "style", "file": "zz.onnx", "sha256": "0" * 64}]}))
    ship(models, DIGITS, kind="classifier")
    ship(models, models / "digits.onnx", kind="classifier", note="again")  # in place: no copy
    entries = read_manifest(models)
    assert [(e["name"], e.get("note")) for e in entries] == [("digits", "again"), ("zz", None)]
    assert not [p for p in models.iterdir() if p.name.startswith(".")]  # no temp files left


def test_only_model_wants_exactly_one_match(tmp_path: Path):
    with pytest.raises(ModelError, match=r"expected one \*\.onnx, found 0"):
        only_model(tmp_path)
    (tmp_path / "a.onnx").write_bytes(b"")
    assert only_model(tmp_path) == tmp_path / "a.onnx"


def test_reship_records_a_rewritten_model_again_keeping_its_fields(tmp_path: Path):
    from artflow.shipping import reship

    models = tmp_path / "models"
    run = tmp_path / "run"
    run.mkdir()
    (run / "w.bin").write_bytes(b"w")
    ship(models, DIGITS, kind="classifier", files={"weights": run / "w.bin"}, labels=["a"])
    pytest.importorskip("onnx")
    from artflow.shipping import rewrite_card

    card = carded(models / "digits.onnx", "classifier")
    card.extra["note"] = "recalibrated"
    rewrite_card(models / "digits.onnx", card)  # rewritten in place
    again = reship(models, models / "digits.onnx", kind="classifier")
    assert again["sha256"] == file_sha256(models / "digits.onnx") != file_sha256(DIGITS)
    assert again["labels"] == ["a"] and again["files"] == {"weights": "w.bin"}
    assert read_manifest(models) == [again]
