"""Fixtures: one quick style model trained per test session (CLI, --quick), and an engine runner."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from artflow.cache import Cache
from artflow.engine import Engine


@pytest.fixture(scope="session")
def quick_style(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`artflow train style --style IMAGE --quick` in a subprocess; the folder it wrote."""
    import os
    import subprocess
    import sys

    from PIL import Image

    root = tmp_path_factory.mktemp("style-train")
    rng = np.random.default_rng(0)
    style = (rng.uniform(0, 1, (8, 8, 3)) * 255).astype(np.uint8)
    Image.fromarray(style).resize((128, 128), Image.Resampling.NEAREST).save(root / "blocks.png")
    exe = Path(sys.executable).parent / "artflow"
    proc = subprocess.run([str(exe), "train", "style", "--style", str(root / "blocks.png"), "--quick",
                           "-o", str(root / "run"), "--json"], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    return root / "run"


def save_png(path: Path, image: np.ndarray) -> np.ndarray:
    """Write an HWC float image as PNG; return exactly what image.load will read back."""
    from artflow.imaging import load_image, to_pil

    to_pil(image).save(path)
    return load_image(path, keep_alpha=False)


def run_node(node_type: str, png: Path, **params: object) -> dict[str, object]:
    """image.load(png) → node, through the engine (cache off); the node's outputs."""
    import artflow as af

    g = af.Graph(seed=3)
    ref = g.add(node_type, image=g.add("image.load", path=str(png)), **params)
    result = Engine(Cache(disk=False)).run(g, use_cache=False)
    assert result.ok, result.errors
    return result.outputs(ref)
