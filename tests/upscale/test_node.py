"""`image.upscale` through the engine: sizes, routes for ×2/×8, alpha on its own, Lanczos, and the
one-line refusals (a scale not in 2/4/8, a size past the budget, no model)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import artflow as af

from .conftest import save_png


def upscale(path: Path, **params: object) -> np.ndarray:
    g = af.Graph(seed=1)
    out = g.add("image.upscale", image=g.add("image.load", path=str(path)), **params)
    return g.run()[out]


@pytest.fixture
def small_rgba(tmp_path: Path) -> Path:
    rng = np.random.default_rng(7)
    rgb = np.clip(rng.normal(0.5, 0.15, (20, 24, 3)), 0, 1)
    alpha = np.linspace(0, 1, 24)[None, :, None].repeat(20, axis=0)
    return save_png(tmp_path / "small.png", np.concatenate([rgb, alpha], axis=-1))


@pytest.mark.parametrize("scale", [2, 4, 8])
def test_every_scale_gives_that_many_times_the_size_with_alpha_by_lanczos(small_rgba: Path,
                                                                          scale: int) -> None:
    from artflow_upscale.upscale import lanczos

    from artflow.imaging import load_image

    out = upscale(small_rgba, scale=scale)
    assert out.shape == (1, 20 * scale, 24 * scale, 4) and out.dtype == np.float32
    alpha = load_image(small_rgba)[..., 3:4]
    np.testing.assert_allclose(out[0, ..., 3:], lanczos(alpha, scale), atol=1e-6)


def test_colour_does_not_depend_on_alpha(small_rgba: Path, tmp_path: Path) -> None:
    from artflow.imaging import load_image

    opaque = save_png(tmp_path / "opaque.png", load_image(small_rgba)[..., :3])
    with_alpha = upscale(small_rgba, scale=4)[0, ..., :3]
    np.testing.assert_allclose(with_alpha, upscale(opaque, scale=4)[0], atol=1e-6)


def test_x2_is_the_x4_network_then_two_by_two_means(small_rgba: Path) -> None:
    from artflow_upscale.upscale import mean_shrink

    x4 = upscale(small_rgba, scale=4)[0, ..., :3]
    np.testing.assert_allclose(upscale(small_rgba, scale=2)[0, ..., :3], mean_shrink(x4, 2), atol=1e-6)


def test_lanczos_runs_no_network_and_differs_from_the_model(small_rgba: Path) -> None:
    from artflow_upscale.upscale import lanczos

    from artflow.imaging import load_image

    plain = upscale(small_rgba, scale=4, method="lanczos", model=None)
    np.testing.assert_allclose(plain[0], lanczos(load_image(small_rgba), 4), atol=1e-6)
    assert np.abs(plain - upscale(small_rgba, scale=4)).max() > 0.02


def _graph(tmp_path: Path, image: Path, **params: object) -> Path:
    graph = {"artflow": 1, "seed": 1, "nodes": {
        "photo": {"type": "image.load", "params": {"path": str(image)}},
        "big": {"type": "image.upscale", "inputs": {"image": "photo"}, "params": params},
        "out": {"type": "image.save", "inputs": {"image": "big"}, "params": {"path": "big.png"}}}}
    path = tmp_path / "graph.json"
    path.write_text(json.dumps(graph))
    return path


@pytest.mark.parametrize(("params", "env", "words"), [
    ({"scale": 3}, {}, ["'scale' = 3", "2, 4, 8"]),
    ({"scale": 8}, {"ARTFLOW_MAX_PIXELS": "10000"}, ["image.upscale", "ARTFLOW_MAX_PIXELS"]),
    ({"scale": 4}, {"ARTFLOW_MAX_MEMORY_MB": "2"}, ["'big'", "ARTFLOW_MAX_MEMORY_MB"]),
    ({"scale": 4}, {"ARTFLOW_MAX_WORK": "1000"}, ["'big'", "ARTFLOW_MAX_WORK"]),
    ({"scale": 4, "model": None}, {}, ["needs a model", "lanczos"]),
    ({"scale": 4, "model": "edges-nope"}, {}, ["'model'", "edges-nope"]),
], ids=["scale-3", "pixels", "memory", "work", "no-model", "unknown-model"])
def test_bad_input_is_refused_in_one_line_before_anything_is_written(
        artflow_cli, tmp_path: Path, small_rgba: Path, params: dict, env: dict, words: list[str]) -> None:
    out = tmp_path / "out"
    proc = artflow_cli("run", str(_graph(tmp_path, small_rgba, **params)), "-o", str(out), env=env)
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert proc.returncode == 2 and len(lines) == 1, proc.stderr
    assert all(w in lines[0] for w in words), lines[0]
    assert not out.exists() or not any(out.iterdir())


def test_a_model_of_another_kind_is_refused(tmp_path: Path, small_rgba: Path) -> None:
    other = next(m for m in af.get_plugins().models if m.kind == "style")
    with pytest.raises(af.ModelError, match="not a upscale model|not an upscale model"):
        upscale(small_rgba, model=str(other.path))


def test_a_512_image_at_x4_fits_a_1_gb_budget_and_the_default_work_limit() -> None:
    """The estimate the engine checks (benchmarks/upscale_bench.py measures the real run's peak)."""
    from artflow_upscale.nodes import image_upscale

    from artflow.budget import estimate_node, nbytes
    from artflow.settings import DEFAULT_MAX_WORK

    params = {"scale": 4, "method": "model", "model": "esrgan-thick", "tile": 128, "overlap": 16}
    est = estimate_node(image_upscale, params, {"image": (1, 512, 512, 3)}, Path.cwd())
    assert est.outputs["image"] == (1, 2048, 2048, 3)
    assert nbytes(est.outputs["image"]) + est.working_bytes < 1 << 30
    assert 0 < est.work <= DEFAULT_MAX_WORK
    bigger = estimate_node(image_upscale, params, {"image": (1, 1024, 1024, 3)}, Path.cwd())
    assert bigger.work > DEFAULT_MAX_WORK  # minutes of work: refused unless ARTFLOW_MAX_WORK is raised
