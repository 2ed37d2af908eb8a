"""Wired by artflow.cli with ``cli.add_command`` lazily (LAZY_COMMANDS: "train" → ``train``).

`artflow train KIND [OPTIONS]`: a click group whose subcommands are the trainers plugins
register with the ``register_trainers(register)`` hook
(``register(kind, "my_plugin.train:train_kind")``, imported when that trainer is used).

A trainer is a ``click.Command`` (build it with :func:`artflow.train.trainer.trainer_command`, which
adds ``--out``, ``--seed``, ``--quick``, ``--epochs``, ``--batch-size``, ``--name``, ``--json``).
Plugins are loaded only when the group lists or resolves its subcommands, and TensorFlow only
when a trainer runs.

    artflow train classifier --dataset digits -o runs/digits
    artflow train classifier --images photos/ --quick
"""

from __future__ import annotations

import click

from artflow.train.trainer import as_command


class TrainGroup(click.Group):
    """Subcommands come from the trainer registry of the loaded plugins."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        from artflow.plugins import get_plugins

        return get_plugins().trainers.kinds()

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        from artflow.plugins import get_plugins

        trainers = get_plugins().trainers
        if name not in trainers.kinds():
            return None
        return as_command(name, trainers.get(name))


@click.group("train", cls=TrainGroup, context_settings={"help_option_names": ["-h", "--help"]})
def train() -> None:
    """Train a model with a plugin's trainer: `artflow train KIND --help` shows its options.

    Every trainer writes into its output folder: the .keras model, the .onnx model with its
    card (parity-checked against TensorFlow), loss_curve.png, samples.png and metrics.json.
    """
