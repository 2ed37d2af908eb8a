"""Registries of node types and trainers, filled by plugins (models: :mod:`artflow.models`).

Every node type is checked when it registers, whoever wrote it (:func:`check_node`): a node
that would fail later (no doc, a default outside its own range, an untyped socket) is refused
at load time instead, with the problem named.
"""

from __future__ import annotations

import difflib
import importlib
import re
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from .errors import GraphError
from .nodes import NodeSpec
from .params import Param
from .types import SocketType

#: lower-case identifiers joined by dots, at least two parts: ``image.load``, ``my_pack.glow``
NODE_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def check_node(spec: Any) -> list[str]:
    """Problems with a node declaration, worst first (empty: fine to register)."""
    if not isinstance(spec, NodeSpec):
        return [f"register_nodes expects node specs made with @artflow.node, got {_short(spec)}"]
    problems: list[str] = []
    if not isinstance(spec.name, str) or not NODE_NAME.match(spec.name):
        problems.append(f"name {spec.name!r} is not dotted lower-case words like 'pack.node'")
    if not isinstance(spec.doc, str) or not spec.doc.strip() or "\n" in spec.doc:
        problems.append("it needs a one-line doc (the function's docstring)")
    if not isinstance(spec.category, str) or not spec.category.strip():
        problems.append("it needs a category")
    if isinstance(spec.version, bool) or not isinstance(spec.version, int) or spec.version < 1:
        problems.append(f"version {spec.version!r} is not a whole number >= 1")
    for where, sockets in (("input", spec.inputs), ("output", spec.outputs)):
        for socket in sockets:
            if not _IDENT.match(str(socket.name)):
                problems.append(f"{where} {socket.name!r} is not an identifier")
            if not isinstance(socket.type, SocketType):
                problems.append(f"{where} '{socket.name}' has no socket type (got {_short(socket.type)}); "
                                "use af.IMAGE, af.TEXT, ...")
    for name, param in spec.params.items():
        problems += [f"param '{name}' {p}" for p in _param_problems(name, param, spec.name)]
    return problems


def register_modules(register: Callable[[NodeSpec], None], package: str, *modules: str) -> list[NodeSpec]:
    """What a plugin's ``register_nodes`` hook calls: register every spec in the ``NODES`` list of
    each of the package's ``modules`` (imported now, when the registry is first used)."""
    specs = [spec for module in modules for spec in importlib.import_module(f"{package}.{module}").NODES]
    for spec in specs:
        register(spec)
    return specs


def plugin_hooks(package: str, *node_modules: str, trainers: Mapping[str, str] | None = None,
                 models: tuple[str, ...] = ("",)) -> tuple[Callable[..., None], ...]:
    """The three hooks of a typical plugin, made for its ``__init__`` in one line::

        register_nodes, register_models, register_trainers = plugin_hooks(
            __package__, "nodes", trainers={"gan": "train:train_gan"})

    ``register_nodes``: every spec in the ``NODES`` list of each of ``node_modules``;
    ``register_models``: every model in the manifest of ``models/`` (and of each subfolder named in
    ``models``; see :mod:`artflow.shipping`); ``register_trainers``: kind → ``"module:command"``
    inside the package, imported only when that trainer runs."""
    from .hookspecs import hookimpl
    from .shipping import models_dir, register_manifest

    @hookimpl
    def register_nodes(register: Any) -> None:
        register_modules(register, package, *node_modules)

    @hookimpl
    def register_models(register: Any) -> None:
        for sub in models:
            register_manifest(register, models_dir(package) / sub)

    @hookimpl
    def register_trainers(register: Any) -> None:
        for kind, reference in (trainers or {}).items():
            register(kind, f"{package}.{reference}")

    return register_nodes, register_models, register_trainers


def _param_problems(name: str, param: Any, node_type: str) -> list[str]:
    if not isinstance(param, Param):
        return [f"is not declared with af.Int, af.Float, ... (got {_short(param)})"]
    if not _IDENT.match(name):
        return ["is not an identifier"]
    problems = []
    if not param.doc or not param.doc.strip():
        problems.append("has no doc")
    if param.min is not None and param.max is not None and param.min > param.max:
        problems.append(f"has min {param.min} above max {param.max}")
    if param.kind == "choice" and not param.choices:
        problems.append("is a choice with no choices")
    if param.kind == "model" and not param.model_kind:
        problems.append("is a model param with no model kind")
    if not param.required and param.default is not None:
        try:
            param.validate("n", node_type, name, param.default)
        except Exception:  # noqa: BLE001 - any failure means the default is not allowed
            problems.append(f"default {_short(param.default)} is not allowed: it must be "
                            f"{param.allowed()}")
    return problems


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class NodeRegistry:
    """Node types by dotted name; each is checked by :func:`check_node` as it registers."""

    def __init__(self) -> None:
        self._specs: dict[str, NodeSpec] = {}

    def add(self, spec: NodeSpec, plugin: str, *, replace: bool = False) -> None:
        """Register a node type for ``plugin``; a bad declaration or a taken name raises."""
        problems = check_node(spec)
        if problems:
            name = getattr(spec, "name", "?")
            raise (TypeError if not isinstance(spec, NodeSpec) else ValueError)(
                f"node type '{name}': {problems[0]}")
        if spec.name in self._specs and not replace:
            other = self._specs[spec.name].plugin
            raise ValueError(f"node type '{spec.name}' is already registered by '{other}'")
        spec.plugin = plugin
        self._specs[spec.name] = spec

    def owner(self, name: str) -> str | None:
        """The plugin that registered node type ``name`` (None: not registered)."""
        spec = self._specs.get(name)
        return spec.plugin if spec is not None else None

    def get(self, name: str, *, node_id: str | None = None) -> NodeSpec:
        script_spec = self._declared_by_script(name)
        if script_spec is not None:
            return script_spec
        try:
            return self._specs[name]
        except KeyError:
            where = f"node '{node_id}': " if node_id else ""
            close = difflib.get_close_matches(name, self._specs, n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            raise GraphError(
                f"{where}unknown node type '{name}'; {hint}`artflow nodes` lists the known types"
            ) from None

    def _declared_by_script(self, name: str) -> NodeSpec | None:
        """A node the running script declares with @af.node (a sketch) registers on first use and
        is replaced when the script is run again; a built-in's or a plugin's type never is."""
        main = sys.modules.get("__main__")
        known = self._specs.get(name)
        if main is None or (known is not None and not known.plugin.startswith("sketch:")):
            return None
        for value in list(vars(main).values()):
            if isinstance(value, NodeSpec) and value.name == name:
                if value is not known:
                    script = Path(getattr(main, "__file__", None) or "sketch").name
                    self.add(value, f"sketch:{script}", replace=True)
                return value
        return None

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    def __iter__(self) -> Iterator[NodeSpec]:
        return iter(sorted(self._specs.values(), key=lambda s: (s.category, s.name)))

    def __len__(self) -> int:
        return len(self._specs)


#: a trainer as registered: ``"package.module:command"`` (imported when `artflow train KIND` runs)
#: or the click command itself
Trainer = Callable[..., Any] | str


class TrainerRegistry:
    """Trainers by model kind (`artflow train KIND`). The documented way to register one is
    ``register("kind", "my_plugin.train:train_kind")``: the module loads only when it is used."""

    def __init__(self) -> None:
        self._trainers: dict[str, tuple[Trainer, str]] = {}

    def add(self, kind: str, trainer: Trainer, plugin: str = "", *, replace: bool = False) -> None:
        """Register the trainer of a model kind; a taken kind raises unless ``replace``."""
        if kind in self._trainers and not replace:
            raise ValueError(f"a trainer for '{kind}' is already registered by "
                             f"'{self._trainers[kind][1]}'")
        self._trainers[kind] = (trainer, plugin)

    def owner(self, kind: str) -> str | None:
        """The plugin that registered the trainer of ``kind`` (None: none)."""
        return self._trainers[kind][1] if kind in self._trainers else None

    def get(self, kind: str) -> Callable[..., Any]:
        """The trainer of ``kind``, its ``"module:name"`` reference imported on first use."""
        if kind not in self._trainers:
            known = ", ".join(sorted(self._trainers)) or "none"
            raise GraphError(f"no trainer for '{kind}' (known: {known})")
        trainer, plugin = self._trainers[kind]
        if isinstance(trainer, str):
            module, _, name = trainer.partition(":")
            trainer = getattr(importlib.import_module(module), name)
            self._trainers[kind] = (trainer, plugin)
        return trainer

    def kinds(self) -> list[str]:
        return sorted(self._trainers)
