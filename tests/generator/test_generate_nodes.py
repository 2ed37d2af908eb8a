"""gan.generate and gan.interpolate on the shipped models: reproducibility, classes, walks."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from artflow.errors import ArtflowError


def test_same_seed_gives_same_pixels_and_different_seeds_differ(run_node, images_differ) -> None:
    a = run_node("gan.generate", model="digits", count=4, seed=3)
    b = run_node("gan.generate", model="digits", count=4, seed=3)
    c = run_node("gan.generate", model="digits", count=4, seed=4)
    assert a["image"].shape == (4, 8, 8, 1) and a["image"].dtype == np.float32
    assert 0.0 <= a["image"].min() and a["image"].max() <= 1.0
    assert np.array_equal(a["image"], b["image"])
    assert images_differ(a["image"], c["image"])


def test_graph_seed_drives_the_pictures_when_no_seed_is_given(run_node, images_differ) -> None:
    a = run_node("gan.generate", graph_seed=1, model="art", count=2)
    b = run_node("gan.generate", graph_seed=1, model="art", count=2)
    c = run_node("gan.generate", graph_seed=2, model="art", count=2)
    assert a["image"].shape == (2, 64, 64, 3)
    assert np.array_equal(a["image"], b["image"])
    assert images_differ(a["image"], c["image"])


@pytest.mark.parametrize("seed", [None, 21])
def test_any_item_is_reproducible_alone(run_node, seed) -> None:
    batch = run_node("gan.generate", model="digits", count=8, seed=seed)
    for i in (0, 5, 7):
        alone = run_node("gan.generate", model="digits", count=1, start=i, seed=seed)
        assert np.array_equal(alone["image"][0], batch["image"][i])
        assert np.array_equal(alone["latent"][0], batch["latent"][i])


def test_explicit_seed_gives_the_same_picture_in_any_graph_and_node(run_node) -> None:
    a = run_node("gan.generate", graph_seed=1, node_id="first", model="art", count=1, seed=99)
    b = run_node("gan.generate", graph_seed=2, node_id="other", model="art", count=1, seed=99)
    assert np.array_equal(a["image"], b["image"])


@pytest.mark.parametrize("mode", ["slerp", "linear"])
@pytest.mark.parametrize("model", ["digits", "art"])
def test_interpolate_endpoints_equal_generate_of_each_seed(run_node, model, mode) -> None:
    walk = run_node("gan.interpolate", model=model, seed_a=10, seed_b=11, frames=6, mode=mode)
    a = run_node("gan.generate", model=model, seed=10, count=1)
    b = run_node("gan.generate", model=model, seed=11, count=1)
    assert walk["image"].shape[0] == 6
    np.testing.assert_array_equal(walk["image"][0], a["image"][0])
    np.testing.assert_array_equal(walk["image"][-1], b["image"][0])
    np.testing.assert_array_equal(walk["latent"][0], a["latent"][0])


def test_interpolation_frames_change_gradually(run_node) -> None:
    walk = run_node("gan.interpolate", model="art", seed_a=1, seed_b=2, frames=9)["image"]
    steps = [float(np.abs(walk[i + 1] - walk[i]).mean()) for i in range(8)]
    assert max(steps) < float(np.abs(walk[-1] - walk[0]).mean())


def test_class_conditioning_changes_the_output(run_node, images_differ) -> None:
    three = run_node("gan.generate", model="digits", count=4, seed=5, label=3)
    seven = run_node("gan.generate", model="digits", count=4, seed=5, label=7)
    assert np.array_equal(three["latent"], seven["latent"])
    assert images_differ(three["image"], seven["image"])


def test_label_minus_one_cycles_through_the_classes_by_item(run_node) -> None:
    cycled = run_node("gan.generate", model="digits", count=12, seed=8, label=-1)["image"]
    for i in (2, 11):
        fixed = run_node("gan.generate", model="digits", count=1, start=i, seed=8, label=i % 10)["image"]
        assert np.array_equal(cycled[i], fixed[0])


def test_label_out_of_range_is_one_clear_error(run_node) -> None:
    with pytest.raises(ArtflowError, match="label 12 is out of range"):
        run_node("gan.generate", model="digits", count=1, label=12)


def test_truncation_scales_the_latents(run_node) -> None:
    full = run_node("gan.generate", model="art", count=2, seed=1)
    half = run_node("gan.generate", model="art", count=2, seed=1, truncation=0.5)
    np.testing.assert_allclose(half["latent"], full["latent"] * 0.5, rtol=1e-6)


def test_provider_really_used_is_recorded(run_node) -> None:
    out = run_node("gan.generate", model="digits", count=1)
    assert out["info"]["provider"] in ("cpu", "cuda")


def test_generating_never_imports_tensorflow() -> None:
    code = (
        "import sys, artflow as af\n"
        "g = af.Graph(seed=1)\n"
        "g.add('gan.generate', 'g', model='art', count=2)\n"
        "g.add('gan.interpolate', 'w', model='digits', frames=3, label=4)\n"
        "g.run(use_cache=False)\n"
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'TF imported'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]


def test_interpolation_frames_save_as_an_animation(tmp_path) -> None:
    from PIL import Image

    import artflow as af

    g = af.Graph(seed=1)
    walk = g.add("gan.interpolate", "walk", model="digits", seed_a=1, seed_b=2, frames=7, label=3)
    g.add("image.save_animation", "save", image=walk["image"], path="walk.gif")
    g.run(output_dir=tmp_path, use_cache=False)
    with Image.open(tmp_path / "walk.gif") as gif:
        assert gif.n_frames == 7
