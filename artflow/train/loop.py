"""The resumable step loop of the trainers that run their own optimizer steps (style, autoencoder).

A :class:`ResumableTraining` owns what a checkpoint holds — the Keras models by tag, the optimizer
variables and the NumPy RNG — and :meth:`ResumableTraining.loop` runs the steps: progress bar
with an ETA, averaged losses into the run's history, a checkpoint every N steps and at the end
(models first, ``state.json`` last, each written atomically), ``--time-limit`` with one line
saying where it stopped and how to go on, and the chain of runs in the card's settings.
TensorFlow/Keras are imported inside the methods only.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from .trainer import TrainError, TrainRun


class ResumableTraining:
    """Models (``{tag: keras.Model}``), optimizer and RNG of a run, saved to and loaded from
    ``run.checkpoint_dir`` (``TAG.keras``, ``optimizer.npz``, ``state.json``)."""

    def __init__(self, run: TrainRun, models: dict[str, Any], optimizer: Any, variables: list[Any],
                 rng: np.random.Generator):
        self.run = run
        self.models = models
        self.optimizer = optimizer
        self.variables = variables
        self.rng = rng

    @staticmethod
    def check_checkpoint(run: TrainRun, tags: list[str]) -> None:
        """Refuse ``--resume`` in one line when the folder holds no complete checkpoint (before
        anything slow is loaded)."""
        ckpt = run.checkpoint_dir
        needed = ["state.json", *(f"{tag}.keras" for tag in tags)]
        missing = [name for name in needed if not (ckpt / name).is_file()]
        if missing:
            raise TrainError(f"--resume: no checkpoint in '{ckpt}' ({', '.join(missing)} missing); "
                             "train without --resume first")

    def save(self, state: dict[str, Any]) -> None:
        """Weights, optimizer variables, then state.json (with the RNG), each atomically."""
        for tag, model in self.models.items():
            self.run.checkpoint(model, tag)
        ckpt = self.run.checkpoint_dir
        tmp = ckpt / ".optimizer.tmp.npz"
        with open(tmp, "wb") as fh:
            np.savez(fh, *[np.asarray(v) for v in self.optimizer.variables])
        os.replace(tmp, ckpt / "optimizer.npz")
        tmp = ckpt / ".state.tmp.json"
        tmp.write_text(json.dumps({**state, "rng": self.rng.bit_generator.state}, default=float))
        os.replace(tmp, ckpt / "state.json")

    def resume(self) -> dict[str, Any]:
        """Load the checkpoint into models, optimizer and RNG and return its state; the learning
        rate stays this run's (the moments and step count go on)."""
        import keras

        self.check_checkpoint(self.run, list(self.models))
        ckpt = self.run.checkpoint_dir
        state = json.loads((ckpt / "state.json").read_text())
        for tag, model in self.models.items():
            model.set_weights(keras.models.load_model(ckpt / f"{tag}.keras", compile=False).get_weights())
        if (ckpt / "optimizer.npz").is_file():
            self.optimizer.build(self.variables)
            with np.load(ckpt / "optimizer.npz") as z:
                values = [z[f"arr_{i}"] for i in range(len(z.files))]
            if len(values) == len(self.optimizer.variables):
                for var, value in zip(self.optimizer.variables, values, strict=True):
                    if not var.path.endswith("learning_rate"):
                        var.assign(value)
        self.rng.bit_generator.state = state["rng"]
        self.run.history = {k: list(v) for k, v in state.get("history", {}).items()}
        return state

    def loop(self, step: Callable[[Any], dict[str, Any]], batch: Callable[[], Any], *, steps: int,
             state: dict[str, Any] | None = None, checkpoint_every: int = 100,
             time_limit: float | None = None, desc: str = "train",
             after_step: Callable[[int], None] | None = None,
             extra_state: Callable[[], dict[str, Any]] | None = None) -> int:
        """Run ``step(batch())`` from the checkpoint's step (or 0) up to ``steps``; return the
        steps done. ``after_step(done)`` runs after each step (samples); ``extra_state()`` adds
        keys to every checkpoint."""
        run = self.run
        state = state or {}
        chain = list(state.get("chain", []))
        first = done = int(state.get("step", 0))
        started = time.time()
        link = {"command": run.command, "from_step": first, "to_step": first, "seconds": 0.0,
                "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started))}
        chain.append(link)

        def save() -> None:
            link.update(to_step=done, seconds=round(time.time() - started, 1))
            self.save({"step": done, "steps": steps, "chain": chain, "history": run.history,
                       **(extra_state() if extra_state else {})})

        bar = run.progress(max(0, steps - first), desc=desc)
        sums: dict[str, float] = {}
        log_every = max(1, min(50, steps // 20))
        stopped = False
        for i in range(first, steps):
            values = step(batch())
            for k, v in values.items():
                sums[k] = sums.get(k, 0.0) + float(v)
            done = i + 1
            bar.update(1)
            if done % log_every == 0:
                run.log(done, **{k: v / log_every for k, v in sums.items()})
                bar.set_postfix(loss=f"{sums['loss'] / log_every:.3f}", refresh=False)
                sums = {}
            if after_step is not None:
                after_step(done)
            if done % checkpoint_every == 0 and not run.quick:
                save()
            if time_limit and time.time() - started > time_limit and done < steps:
                stopped = True
                break
        bar.close()
        save()
        if stopped:
            print(f"stopped at --time-limit {time_limit:g} s after step {done} of {steps}; go on with "
                  f"the same command and --resume -o {run.out_dir}", file=sys.stderr)
        run.settings.update(steps_done=done, chain=chain,
                            train_seconds=round(sum(c["seconds"] for c in chain), 1))
        return done
