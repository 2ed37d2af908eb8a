"""GanTrainer: which generator gets exported, without touching the state a resumed run goes on from."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("tensorflow")

from artflow_generator.datasets import ImageSet  # noqa: E402
from artflow_generator.gan_training import GanSettings, GanTrainer  # noqa: E402
from artflow_generator.networks import GanConfig  # noqa: E402


def test_raw_export_is_a_recalibrated_copy_and_leaves_training_state_alone() -> None:
    cfg = GanConfig(size=16, latent=8, width=4, upsample="nearest", crop=2)
    trainer = GanTrainer(cfg, GanSettings(steps=3, batch=8, loss="hinge"), seed=0)
    data = ImageSet(np.random.default_rng(0).random((16, 16, 16, 3)).astype(np.float32))
    trainer.fit(data)
    assert trainer.export_generator("ema") is trainer.ema_generator
    before = [np.array(w) for w in trainer.generator.weights]
    raw = trainer.export_generator("raw")
    assert raw is not trainer.generator
    for got, want in zip(trainer.generator.weights, before, strict=True):
        np.testing.assert_array_equal(np.array(got), want)  # training state untouched
    for got, want in zip(raw.trainable_weights, trainer.generator.trainable_weights, strict=True):
        np.testing.assert_array_equal(np.array(got), np.array(want))  # same trained weights
    z = np.random.default_rng(1).standard_normal((4, 8)).astype(np.float32)
    out = trainer.sample(z, generator=raw)
    assert out.shape == (4, 16, 16, 3) and 0.0 <= out.min() and out.max() <= 1.0
    with pytest.raises(ValueError, match="'ema' or 'raw'"):
        trainer.export_generator("best")
