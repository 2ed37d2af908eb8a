"""The plugin contract. Each hook receives a callback to call once per thing it contributes."""

from __future__ import annotations

from typing import Any

import pluggy

hookspec = pluggy.HookspecMarker("artflow")
hookimpl = pluggy.HookimplMarker("artflow")


@hookspec
def register_nodes(register: Any) -> None:
    """Contribute node types: call ``register(spec)`` with each ``@artflow.node`` spec."""


@hookspec
def register_models(register: Any) -> None:
    """Contribute model files: ``register(name=, kind=, path=, sha256=, **extra)``."""


@hookspec
def register_trainers(register: Any) -> None:
    """Contribute trainers for `artflow train KIND`: ``register(kind, "my_plugin.train:command")``,
    a ``trainer_command`` imported only when that trainer runs."""


@hookspec
def register_import_decoders(register: Any) -> None:
    """Contribute `artflow import` output decoders: ``register(name, decode, doc=, labels=)``."""


@hookspec
def register_import_layers(register: Any) -> None:
    """Contribute custom Keras layers for TF.js layers models: ``register(class_name, build)``."""


@hookspec
def register_commands(cli: Any) -> None:
    """Contribute CLI commands: add click commands to the ``cli`` group."""


def hook_names() -> list[str]:
    """Every hook of the contract, whatever its name (the tests check each has a test and docs)."""
    return sorted(name for name, value in globals().items() if hasattr(value, "artflow_spec"))
