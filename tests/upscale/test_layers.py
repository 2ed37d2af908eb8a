"""The RRDN layers artflow_upscale gives `artflow import`: TF.js' depth-to-space order, the fixed
beta, and a refusal of configs that disagree with the class."""

from __future__ import annotations

import numpy as np
import pytest

import artflow as af


def test_the_plugin_declares_the_layers_of_the_thick_models() -> None:
    layers = af.get_plugins().imports.layers
    for name in ("MultiplyBeta", "PixelShuffle2x", "PixelShuffle3x", "PixelShuffle4x", "PixelShuffle8x"):
        assert layers[name].plugin == "upscale"


def test_pixel_shuffle_puts_channels_into_blocks_in_dcr_order() -> None:
    from artflow_upscale.layers import pixel_shuffle_builder

    layer = pixel_shuffle_builder(2)({"name": "pixel_shuffle", "scale": 2})
    x = np.arange(2 * 3 * 12, dtype=np.float32).reshape(1, 2, 3, 12)
    y = np.asarray(layer(x))
    assert y.shape == (1, 4, 6, 3)
    # DCR: output (2i + a, 2j + b, c) is input (i, j, (a·2 + b)·3 + c)
    for a in range(2):
        for b in range(2):
            np.testing.assert_array_equal(y[0, a::2, b::2], x[0, :, :, (a * 2 + b) * 3:(a * 2 + b + 1) * 3])


def test_multiply_beta_scales_by_upscalerjs_fixed_beta() -> None:
    from artflow_upscale.layers import build_multiply_beta

    layer = build_multiply_beta({"name": "multiply_beta", "beta": 0.2})
    np.testing.assert_allclose(np.asarray(layer(np.ones((1, 2, 2, 3), np.float32))), 0.2, rtol=1e-6)


@pytest.mark.parametrize(("name", "config"), [("MultiplyBeta", {"beta": 0.3}),
                                              ("PixelShuffle4x", {"scale": 2})])
def test_a_config_that_disagrees_with_the_layer_is_refused(name: str, config: dict) -> None:
    from artflow_upscale.layers import import_layers

    with pytest.raises(ValueError, match=name[:12]):
        import_layers()[name]({"name": "x", **config})
