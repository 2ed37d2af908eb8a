"""Fixtures for the model pipeline tests: the shipped classifier files and a fresh registry."""

from __future__ import annotations

import shutil
from pathlib import Path

import artflow_classifier
import pytest

from artflow import models as runtime

MODELS = Path(artflow_classifier.__file__).parent / "models"


def shipped(name: str) -> Path:
    path = MODELS / f"{name}.onnx"
    if not path.is_file():
        pytest.skip(f"shipped model {name}.onnx is not there yet")
    return path


@pytest.fixture
def digits_onnx() -> Path:
    return shipped("digits")


@pytest.fixture
def shapes_onnx() -> Path:
    return shipped("shapes")


@pytest.fixture
def model_copy(tmp_path: Path, digits_onnx: Path) -> Path:
    """A private copy of a small model with a card, safe to tamper with."""
    target = tmp_path / "copy.onnx"
    shutil.copyfile(digits_onnx, target)
    return target


@pytest.fixture(autouse=True)
def _fresh_sessions():
    runtime.clear_sessions()
    yield
    runtime.clear_sessions()
