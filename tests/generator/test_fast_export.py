"""The generator's export form (fast_forward) computes what the trained Keras model computes."""

from __future__ import annotations

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

from artflow_generator.networks import GanConfig, build_generator, fast_forward  # noqa: E402


def _randomize_batchnorm(model: keras.Model, rng: np.random.Generator) -> None:
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            c = layer.gamma.shape[0]
            layer.set_weights([rng.uniform(0.5, 1.5, c), rng.normal(0, 0.2, c),
                               rng.normal(0, 0.2, c), rng.uniform(0.5, 2.0, c)])


@pytest.mark.parametrize(("classes", "crop"), [(0, 0), (3, 0), (0, 2)])
def test_fast_forward_matches_model(classes: int, crop: int) -> None:
    rng = np.random.default_rng(3)
    cfg = GanConfig(size=16, channels=3, latent=8, classes=classes, width=8, upsample="nearest", crop=crop)
    gen = build_generator(cfg)
    _randomize_batchnorm(gen, rng)
    forward = fast_forward(gen)
    assert forward is not None
    z = rng.standard_normal((5, 8)).astype(np.float32)
    inputs = [z, (np.arange(5) % 3).astype(np.int32)[:, None]] if classes else [z]
    want = np.asarray(gen(inputs if classes else z, training=False))
    got = np.asarray(forward(*inputs))
    assert got.shape == want.shape
    assert np.abs(got - want).max() < 1e-5


def test_transposed_conv_generators_have_no_rewrite() -> None:
    gen = build_generator(GanConfig(size=8, latent=4, width=8, upsample="transpose"))
    assert fast_forward(gen) is None


def test_a_crop_margin_draws_a_larger_map_and_returns_the_requested_size() -> None:
    cfg = GanConfig(size=64, latent=4, width=4, upsample="nearest", crop=8)
    assert cfg.base == 5  # 80 = 5 * 2**4 pixels drawn, 8 cropped on each side
    gen = build_generator(cfg)
    assert tuple(gen.output.shape[1:]) == (64, 64, 3)
    assert gen.layers[-1].name == "crop"
    with pytest.raises(ValueError, match="multiple of 16"):
        _ = GanConfig(size=64, crop=3).base
