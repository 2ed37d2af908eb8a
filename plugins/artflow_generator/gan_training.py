"""The GAN training loop: simultaneous generator/discriminator updates, non-saturating logistic loss,
an auxiliary-classifier loss for conditional models, and an exponential moving average (EMA) of the
generator weights, which is the generator that gets exported. Imports TensorFlow.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from .datasets import ImageSet
from .networks import GanConfig, build_discriminator, build_generator


@dataclass(frozen=True)
class GanSettings:
    """Optimiser and loss settings (recorded in the model card). ``loss``: ``logistic``
    (non-saturating) or ``hinge``."""

    steps: int = 2000
    batch: int = 64
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    beta1: float = 0.5
    ema: float = 0.999
    beta2: float = 0.999
    aux_weight: float = 1.0
    flip: bool = True
    loss: str = "logistic"


class GanTrainer:
    """Owns the generator, its EMA copy, the discriminator and their optimisers."""

    def __init__(self, cfg: GanConfig, settings: GanSettings, seed: int = 0) -> None:
        keras.utils.set_random_seed(seed)
        self.cfg = cfg
        self.settings = settings
        self.generator = build_generator(cfg)
        self.discriminator = build_discriminator(cfg)
        self.ema_generator = build_generator(cfg)
        self.ema_generator.set_weights(self.generator.get_weights())
        self.opt_g = keras.optimizers.Adam(settings.lr_g, beta_1=settings.beta1, beta_2=settings.beta2)
        self.opt_d = keras.optimizers.Adam(settings.lr_d, beta_1=settings.beta1, beta_2=settings.beta2)
        self._seed = tf.random.Generator.from_seed(seed)
        self._step = tf.Variable(0, dtype=tf.int64, trainable=False)
        self._step_fn = tf.function(self._train_step, reduce_retracing=True)

    def _inputs(self, z: tf.Tensor, labels: tf.Tensor | None) -> list[tf.Tensor] | tf.Tensor:
        """Generator inputs: z, and labels as [N, 1] for conditional models."""
        return [z, tf.reshape(labels, [-1, 1])] if self.cfg.classes else z

    def _train_step(self, real: tf.Tensor, labels: tf.Tensor) -> dict[str, tf.Tensor]:
        cfg, s = self.cfg, self.settings
        n = tf.shape(real)[0]
        z = self._seed.normal([n, cfg.latent])
        fake_labels = self._seed.uniform([n], 0, max(cfg.classes, 1), dtype=tf.int32)
        if s.flip:
            flip = self._seed.uniform([n, 1, 1, 1]) < 0.5
            real = tf.where(flip, tf.reverse(real, axis=[2]), real)
        with tf.GradientTape() as tape_g, tf.GradientTape() as tape_d:
            fake = self.generator(self._inputs(z, fake_labels), training=True)
            if cfg.classes:
                real_logit, real_aux = self.discriminator([real, labels], training=True)
                fake_logit, fake_aux = self.discriminator([fake, fake_labels], training=True)
            else:
                real_logit = self.discriminator(real, training=True)
                fake_logit = self.discriminator(fake, training=True)
            if s.loss == "hinge":
                d_adv = tf.reduce_mean(tf.nn.relu(1.0 - real_logit) + tf.nn.relu(1.0 + fake_logit))
                g_adv = -tf.reduce_mean(fake_logit)
            else:
                d_adv = tf.reduce_mean(tf.nn.softplus(-real_logit) + tf.nn.softplus(fake_logit))
                g_adv = tf.reduce_mean(tf.nn.softplus(-fake_logit))
            d_loss, g_loss = d_adv, g_adv
            aux_real = aux_fake = tf.constant(0.0)
            if cfg.classes:
                ce = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
                aux_real = ce(labels, real_aux)
                aux_fake = ce(fake_labels, fake_aux)
                d_loss = d_loss + s.aux_weight * aux_real
                g_loss = g_loss + s.aux_weight * aux_fake
        gg = tape_g.gradient(g_loss, self.generator.trainable_variables)
        gd = tape_d.gradient(d_loss, self.discriminator.trainable_variables)
        self.opt_g.apply_gradients(zip(gg, self.generator.trainable_variables, strict=True))
        self.opt_d.apply_gradients(zip(gd, self.discriminator.trainable_variables, strict=True))
        self._step.assign_add(1)
        step = tf.cast(self._step, tf.float32)
        decay = tf.minimum(s.ema, (1.0 + step) / (10.0 + step))
        pairs = zip(self.ema_generator.trainable_variables, self.generator.trainable_variables, strict=True)
        for e, w in pairs:
            e.assign(decay * e + (1.0 - decay) * w)
        for e, w in zip(self.ema_generator.non_trainable_variables,
                        self.generator.non_trainable_variables, strict=True):
            e.assign(w)
        return {"d_loss": d_adv, "g_loss": g_adv, "aux_real": aux_real, "aux_fake": aux_fake,
                "d_real": tf.reduce_mean(tf.sigmoid(real_logit)),
                "d_fake": tf.reduce_mean(tf.sigmoid(fake_logit))}

    def _checkpoint(self) -> tf.train.Checkpoint:
        for opt, net in ((self.opt_g, self.generator), (self.opt_d, self.discriminator)):
            if not opt.built:
                opt.build(net.trainable_variables)
        return tf.train.Checkpoint(generator=self.generator, discriminator=self.discriminator,
                                   ema=self.ema_generator, opt_g=self.opt_g, opt_d=self.opt_d,
                                   step=self._step, rng=self._seed)

    def save(self, prefix: str) -> str:
        """Everything training needs to go on (networks, EMA, optimisers, step, RNG) under ``prefix``."""
        return self._checkpoint().write(prefix)

    def restore(self, prefix: str) -> int:
        """Load what :meth:`save` wrote; the step count reached."""
        self._checkpoint().read(prefix).assert_consumed()
        return int(self._step.numpy())

    def fit(self, data: ImageSet, *, seed: int = 0,
            on_step: Callable[[int, dict[str, float]], None] | None = None,
            deadline: float | None = None, start: int = 0) -> list[dict[str, float]]:
        """Train from step ``start`` to ``settings.steps`` on shuffled batches (or until
        ``deadline``, a ``time.time()`` value); returns per-step losses. Resuming at ``start``
        draws the same batch sequence as an uninterrupted run."""
        history: list[dict[str, float]] = []
        batches = _batches(data, self.settings.batch, seed)
        for _ in range(start):
            next(batches)
        for step in range(start, self.settings.steps):
            x, y = next(batches)
            out = self._step_fn(tf.constant(x), tf.constant(y))
            row = {k: float(v) for k, v in out.items()}
            history.append(row)
            if on_step is not None:
                on_step(step, row)
            if deadline is not None and time.time() > deadline:
                break
        self.recalibrate_batchnorm()
        return history

    def recalibrate_batchnorm(self, batches: int = 50, generator: keras.Model | None = None) -> None:
        """Re-estimate a generator's batch-norm statistics (default: the EMA generator's, for its
        averaged weights) from ``batches`` batches of its own samples."""
        gen = generator if generator is not None else self.ema_generator
        bns = [layer for layer in gen.layers if isinstance(layer, keras.layers.BatchNormalization)]
        if not bns:
            return
        old = [bn.momentum for bn in bns]
        for bn in bns:
            bn.momentum = 0.9
        for _ in range(batches):
            z = self._seed.normal([self.settings.batch, self.cfg.latent])
            labels = self._seed.uniform([self.settings.batch], 0, max(self.cfg.classes, 1), dtype=tf.int32)
            gen(self._inputs(z, labels), training=True)
        for bn, m in zip(bns, old, strict=True):
            bn.momentum = m

    def export_generator(self, weights: str = "ema") -> keras.Model:
        """The generator to export: ``ema``, the moving average of the weights (its batch-norm
        statistics re-estimated at the end of :meth:`fit`), or ``raw``, a copy of the trained
        generator with its batch-norm statistics re-estimated the same way (the training state,
        which a resumed run goes on from, is not touched)."""
        if weights == "ema":
            return self.ema_generator
        if weights != "raw":
            raise ValueError(f"weights must be 'ema' or 'raw', got {weights!r}")
        gen = build_generator(self.cfg)
        gen.set_weights(self.generator.get_weights())
        self.recalibrate_batchnorm(generator=gen)
        return gen

    def preview(self, z: np.ndarray, labels: np.ndarray | None = None) -> np.ndarray:
        """Images in [0, 1] from the raw generator with batch statistics (mid-training previews)."""
        lab = None if labels is None else tf.constant(labels, tf.int32)
        out = self.generator(self._inputs(tf.constant(z, tf.float32), lab), training=True)
        return np.clip((np.asarray(out) + 1.0) * 0.5, 0.0, 1.0)

    def sample(self, z: np.ndarray, labels: np.ndarray | None = None, *, ema: bool = True,
               generator: keras.Model | None = None) -> np.ndarray:
        """Images in [0, 1] from ``generator`` (default: the EMA or the raw generator) in inference mode."""
        gen = generator if generator is not None else self.ema_generator if ema else self.generator
        lab = None if labels is None else tf.constant(labels, tf.int32)
        out = gen(self._inputs(tf.constant(z, tf.float32), lab), training=False)
        return np.clip((np.asarray(out) + 1.0) * 0.5, 0.0, 1.0)


def _batches(data: ImageSet, batch: int, seed: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Endless shuffled batches, images scaled to [-1, 1]."""
    rng = np.random.default_rng(seed)
    images = data.images * 2.0 - 1.0
    labels = data.labels if data.labels is not None else np.zeros(len(images), np.int32)
    n = len(images)
    batch = min(batch, n)
    while True:
        order = rng.permutation(n)
        for i in range(0, n - batch + 1, batch):
            idx = order[i : i + batch]
            yield images[idx].astype(np.float32), labels[idx].astype(np.int32)
