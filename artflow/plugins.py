"""Plugin loading: built-ins and third-party packages alike come through the `artflow`
entry-point group. A plugin that fails to import or raises in a hook is reported by
distribution name and skipped; everything else keeps working."""

from __future__ import annotations

import importlib
import os
import sys
import threading
import warnings
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import pluggy

from . import hookspecs
from .models.registry import ModelRegistry
from .registry import NodeRegistry, TrainerRegistry

GROUP = "artflow"
BUILTIN_DIST = "artflow"
HOOKS = ("register_nodes", "register_models", "register_trainers", "register_commands")


class PluginWarning(UserWarning):
    """A plugin was skipped; the message names its distribution and the cause."""


@dataclass
class PluginInfo:
    """One loaded (or skipped) plugin, for `artflow plugins`."""

    name: str
    distribution: str
    version: str
    builtin: bool
    nodes: list[str] = field(default_factory=list)
    models: list[str] = field(default_factory=list)
    trainers: list[str] = field(default_factory=list)
    error: str | None = None

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "distribution": self.distribution,
            "version": self.version,
            "builtin": self.builtin,
            "nodes": self.nodes,
            "models": self.models,
            "trainers": self.trainers,
            "error": self.error,
        }


@dataclass
class PluginSet:
    """Everything the loaded plugins contributed.

    Hooks run lazily: listing CLI verbs imports the plugin modules but does not call
    register_nodes/models/trainers until a registry is first used.
    """

    manager: pluggy.PluginManager
    _nodes: NodeRegistry
    _models: ModelRegistry
    _trainers: TrainerRegistry
    _infos: dict[str, PluginInfo]
    collected: bool = True

    @property
    def plugins(self) -> dict[str, PluginInfo]:
        self._ensure()
        return self._infos

    def _ensure(self) -> None:
        with _lock:
            if not self.collected:
                self.collected = True
                _collect(self)

    @property
    def nodes(self) -> NodeRegistry:
        self._ensure()
        return self._nodes

    @property
    def models(self) -> ModelRegistry:
        self._ensure()
        return self._models

    @property
    def trainers(self) -> TrainerRegistry:
        self._ensure()
        return self._trainers

    @property
    def failures(self) -> list[PluginInfo]:
        self._ensure()
        return [p for p in self.plugins.values() if p.error]

    def add_commands(self, cli: Any) -> None:
        """Let each plugin add CLI commands; a failing one is reported and skipped."""
        for impl in self.manager.hook.register_commands.get_hookimpls():
            info = self._infos.get(impl.plugin_name)
            try:
                impl.function(cli=cli)
            except Exception as exc:  # noqa: BLE001 - a plugin's failure must not stop the CLI
                _report(info, "register_commands", exc)


_lock = threading.RLock()
_current: PluginSet | None = None


def get_plugins() -> PluginSet:
    """The plugin set, loaded on first use (so `import artflow` stays light)."""
    global _current
    with _lock:
        if _current is None:
            _current = load_plugins()
        return _current


def reset_plugins() -> None:
    """Forget loaded plugins; the next use loads them again (after install/uninstall)."""
    global _current
    with _lock:
        _current = None


def _wanted(dist: str, ep_name: str, builtin: bool) -> bool:
    if builtin:
        return True
    if os.environ.get("ARTFLOW_NO_PLUGINS", "") not in ("", "0"):
        return False
    allow = os.environ.get("ARTFLOW_LOAD_PLUGINS")
    if allow is None:
        return True
    names = {n.strip().lower() for n in allow.split(",") if n.strip()}
    return dist.lower() in names or ep_name.lower() in names


def load_plugins() -> PluginSet:
    """Import every wanted entry point of the group and collect what its hooks register."""
    pm = pluggy.PluginManager(GROUP)
    pm.add_hookspecs(hookspecs)
    infos: dict[str, PluginInfo] = {}
    points = metadata.entry_points(group=GROUP)
    for ep in sorted(points, key=lambda e: (e.dist.name if e.dist else "", e.name)):
        dist = ep.dist.name if ep.dist else ep.name
        version = ep.dist.version if ep.dist else "?"
        builtin = dist == BUILTIN_DIST
        if not _wanted(dist, ep.name, builtin):
            continue
        plugin_name = ep.name if builtin else dist
        if plugin_name in infos:
            plugin_name = f"{dist}:{ep.name}"
        info = PluginInfo(plugin_name, dist, version, builtin)
        infos[plugin_name] = info
        module = None
        try:
            module = ep.load()
            pm.register(module, name=plugin_name)
            pm.check_pending()
        except Exception as exc:  # noqa: BLE001 - a broken plugin is skipped, never fatal
            if module is not None and pm.is_registered(module):
                pm.unregister(module)
            _report(info, "import", exc)
    return PluginSet(pm, NodeRegistry(), ModelRegistry(), TrainerRegistry(), infos, collected=False)


def _collect(ps: PluginSet) -> None:
    """Call each hook of each plugin separately, so one failure skips only that plugin."""
    def add_node(info: PluginInfo, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        (spec,) = args
        ps._nodes.add(spec, info.name)
        info.nodes.append(spec.name)

    def add_model(info: PluginInfo, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        ps._models.add(plugin=info.name, **kwargs)
        info.models.append(f"{kwargs['kind']}:{kwargs['name']}")

    def add_trainer(info: PluginInfo, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        kind, trainer = args
        ps._trainers.add(kind, trainer, info.name)
        info.trainers.append(kind)

    for hook, add in (("register_nodes", add_node), ("register_models", add_model),
                      ("register_trainers", add_trainer)):
        for impl in getattr(ps.manager.hook, hook).get_hookimpls():
            info = ps._infos[impl.plugin_name]
            calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
            if not _call(info, hook, impl.function, _Recorder(calls)):
                continue
            try:
                for args, kwargs in calls:
                    add(info, args, kwargs)
            except Exception as exc:  # noqa: BLE001
                _report(info, hook, exc)


class _Recorder:
    """The `register` callback handed to hooks: records calls, applied after the hook returns."""

    def __init__(self, calls: list[tuple[tuple[Any, ...], dict[str, Any]]]):
        self.calls = calls

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        self.calls.append((args, kwargs))


def _call(info: PluginInfo, hook: str, fn: Any, register: Any) -> bool:
    if info.error:
        return False
    try:
        fn(register=register)
        return True
    except Exception as exc:  # noqa: BLE001
        _report(info, hook, exc)
        return False


def _report(info: PluginInfo | None, where: str, exc: BaseException) -> None:
    text = str(exc).strip().splitlines()
    cause = f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
    name = info.distribution if info else "?"
    message = (f"plugin '{name}' was skipped: {cause} (in {where}); "
               f"fix or remove it with `artflow uninstall {name}`")
    if info is not None:
        info.error = message
    warnings.warn(message, PluginWarning, stacklevel=2)


def import_module(name: str) -> Any:
    """Import a module by name (used by the CLI for lazily loaded commands)."""
    return sys.modules.get(name) or importlib.import_module(name)
