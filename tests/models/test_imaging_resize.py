"""Image resampling lives once, in artflow.imaging.resize; the model code uses it."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from artflow import imaging

ROOT = Path(__file__).resolve().parents[2]
# the modules that each had a private float resize before it moved to artflow.imaging
USERS = ["artflow/models/adapter.py", "plugins/artflow_style/onnx_node.py",
         "plugins/artflow_style/transfer.py", "plugins/artflow_style/data.py",
         "plugins/artflow_detector/detect.py", "plugins/artflow_detector/nodes.py",
         "plugins/artflow_core/_util.py"]


def _pillow(plane: np.ndarray, height: int, width: int, flt: Image.Resampling) -> np.ndarray:
    return np.asarray(Image.fromarray(plane.astype(np.float32)).resize((width, height), flt), np.float32)


def test_area_shrinks_by_box_and_enlarges_bilinear_in_float_precision():
    rng = np.random.default_rng(0)
    img = rng.random((33, 47, 3), dtype=np.float32)
    small = imaging.resize(img, 20, 30)
    big = imaging.resize(img, 50, 60)
    for k in range(3):
        assert np.array_equal(small[..., k], _pillow(img[..., k], 20, 30, Image.Resampling.BOX))
        assert np.array_equal(big[..., k], _pillow(img[..., k], 50, 60, Image.Resampling.BILINEAR))
    bicubic = imaging.resize(img, 50, 60, enlarge="bicubic")
    assert np.array_equal(bicubic[..., 0], _pillow(img[..., 0], 50, 60, Image.Resampling.BICUBIC))
    assert small.dtype == np.float32 and len(np.unique(small)) > 256  # never quantised to 8 bits


def test_integer_reductions_are_a_mean_within_one_ulp_of_pillow_and_batches_match_items():
    rng = np.random.default_rng(1)
    batch = rng.random((2, 96, 64, 4), dtype=np.float32)
    fast = imaging.resize(batch, 32, 16)
    exact = imaging.resize(batch, 32, 16, fast=False)
    assert np.array_equal(fast[0], batch[0].reshape(32, 3, 16, 4, 4).mean(axis=(1, 3)))
    assert np.abs(fast - exact).max() <= 1.5e-7
    for i in range(2):
        assert np.array_equal(imaging.resize(batch[i], 40, 30), imaging.resize(batch, 40, 30)[i])
    assert np.array_equal(imaging.resize(batch, 96, 64), batch)  # the same size: unchanged


def test_named_filters_and_bad_input_are_refused_clearly():
    img = np.zeros((4, 4, 3), np.float32)
    assert imaging.resize(img, 8, 8, "nearest").shape == (8, 8, 3)
    with pytest.raises(ValueError, match="unknown resampling 'cubic'"):
        imaging.resize(img, 8, 8, "cubic")
    with pytest.raises(imaging.ImageError, match="HWC image or an NHWC batch"):
        imaging.resize(np.zeros((4, 4), np.float32), 2, 2)


@pytest.mark.parametrize("module", USERS)
def test_model_code_resizes_only_through_artflow_imaging(module: str):
    tree = ast.parse((ROOT / module).read_text())
    own = [n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and "resize" in n.name
           and n.name != "resize_array"]
    pillow = [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Attribute) and n.attr == "resize"
              and not (isinstance(n.value, ast.Name) and n.value.id == "imaging")]
    assert not own or module.endswith("data.py"), f"{module} defines its own resize: {own}"
    assert not pillow, f"{module} resizes with Pillow itself at lines {pillow}"
