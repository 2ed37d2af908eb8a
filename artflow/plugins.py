"""Plugin loading: built-ins and third-party packages alike come through the `artflow`
entry-point group. A plugin that fails to import or raises in a hook is reported by
distribution name and skipped; everything else keeps working.

Precedence: the built-in plugins (distribution ``artflow``) load and register first and own
their names. A later plugin's node type, model (kind, name) or trainer kind that is already
taken, or whose declaration fails the registry's checks, is refused on its own (one warning
naming the distribution, the name and its owner); the rest of that plugin still loads. The
``ARTFLOW_PLUGIN_OVERRIDES`` setting lets a named distribution replace named contributions,
each with a warning."""

from __future__ import annotations

import re
import threading
import warnings
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import pluggy

from . import hookspecs, settings
from .errors import describe
from .import_registry import ImportRegistry
from .models.registry import ModelRegistry
from .registry import NodeRegistry, TrainerRegistry, check_node

GROUP = "artflow"
BUILTIN_DIST = "artflow"


class PluginWarning(UserWarning):
    """A plugin or one contribution was skipped (or replaced another); the message names the
    distribution and the cause."""


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
    #: contributions refused (name taken, bad declaration), as "what 'name': why"
    refused: list[str] = field(default_factory=list)
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
            "refused": self.refused,
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
    _imports: ImportRegistry = field(default_factory=ImportRegistry)

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
    def imports(self) -> ImportRegistry:
        """`artflow import`'s decoders and custom Keras layers, by name."""
        self._ensure()
        return self._imports

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
    if settings.get("ARTFLOW_NO_PLUGINS"):
        return False
    allow = settings.get("ARTFLOW_LOAD_PLUGINS")
    if allow is None:
        return True
    return settings.dist_key(dist) in {settings.dist_key(n) for n in allow} or ep_name.lower() in allow


def _load_order(ep: metadata.EntryPoint) -> tuple[bool, str, str]:
    """Built-ins first, then third-party plugins by distribution name."""
    dist = ep.dist.name if ep.dist else ""
    return dist != BUILTIN_DIST, dist.lower(), ep.name


def load_plugins() -> PluginSet:
    """Import every wanted entry point of the group and collect what its hooks register."""
    pm = pluggy.PluginManager(GROUP)
    pm.add_hookspecs(hookspecs)
    infos: dict[str, PluginInfo] = {}
    points = metadata.entry_points(group=GROUP)
    for ep in sorted(points, key=_load_order):
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
    """Call each hook of each plugin separately, in load order, so one failure skips only that
    plugin; then apply what it registered one contribution at a time (see the module doc)."""
    overrides = settings.get("ARTFLOW_PLUGIN_OVERRIDES") or {}
    order = {name: i for i, name in enumerate(ps._infos)}

    def owner(plugin: str) -> str:
        info = ps._infos.get(plugin)
        if info is None:
            return f"'{plugin}'"
        return (f"the built-in plugin '{info.name}'" if info.builtin
                else f"the plugin '{info.distribution}'")

    def claim(info: PluginInfo, what: str, name: str, taken_by: str | None) -> bool:
        """Whether ``info`` may register ``name``: free, or taken and overridable."""
        if taken_by is None:
            return True
        if taken_by == info.name:
            _refuse(info, what, name, "the plugin registers it twice")
            return False
        allowed = overrides.get(settings.dist_key(info.distribution), frozenset())
        if name in allowed:
            _warn(f"plugin '{info.distribution}' replaces {what} '{name}' of {owner(taken_by)} "
                  "(allowed by ARTFLOW_PLUGIN_OVERRIDES)")
            return True
        _refuse(info, what, name, f"the name belongs to {owner(taken_by)}; rename it, or allow the "
                f"replacement with ARTFLOW_PLUGIN_OVERRIDES='{info.distribution}:{name}'")
        return False

    def add_node(info: PluginInfo, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        spec = args[0] if len(args) == 1 and not kwargs else None
        name = str(getattr(spec, "name", "?"))
        problems = check_node(spec)
        if problems:
            _refuse(info, "node type", name, problems[0])
            return
        if claim(info, "node type", name, ps._nodes.owner(name)):
            ps._nodes.add(spec, info.name, replace=True)
            info.nodes.append(name)

    def add_model(info: PluginInfo, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        missing = [k for k in ("name", "kind", "path", "sha256")
                   if not isinstance(kwargs.get(k), (str, Path))]
        name = f"{kwargs.get('kind', '?')}:{kwargs.get('name', '?')}"
        if args or missing:
            _refuse(info, "model", name, "register it with name=, kind=, path= and sha256= "
                    f"(missing or not text: {', '.join(missing) or 'positional arguments given'})")
            return
        taken = ps._models.find(kwargs["name"], kwargs["kind"])
        if claim(info, "model", name, taken.plugin if taken else None):
            ps._models.remove(kwargs["name"], kwargs["kind"])
            ps._models.add(plugin=info.name, **kwargs)
            info.models.append(name)

    def add_trainer(info: PluginInfo, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        given = dict(zip(("kind", "trainer"), args, strict=False), **kwargs)
        kind, trainer = given.get("kind"), given.get("trainer")
        reference = isinstance(trainer, str) and re.fullmatch(r"[\w.]+:\w+", trainer)
        if not isinstance(kind, str) or not kind or not (reference or callable(trainer)):
            _refuse(info, "trainer", str(kind), "register it as register(kind, "
                    "'your_plugin.train:command')")
            return
        if claim(info, "trainer", kind, ps._trainers.owner(kind)):
            ps._trainers.add(kind, trainer, info.name, replace=True)
            info.trainers.append(kind)

    def add_import_part(what: str, taken: dict[str, Any], adder: Any) -> Any:
        def add(info: PluginInfo, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
            name = str(args[0] if args else kwargs.get("name", kwargs.get("class_name", "?")))
            if claim(info, what, name, taken[name].plugin if name in taken else None):
                adder(info.name, *args, **kwargs)
        return add

    for hook, add in (("register_nodes", add_node), ("register_models", add_model),
                      ("register_trainers", add_trainer),
                      ("register_import_decoders",
                       add_import_part("import decoder", ps._imports.decoders, ps._imports.add_decoder)),
                      ("register_import_layers",
                       add_import_part("import layer", ps._imports.layers, ps._imports.add_layer))):
        impls = sorted(getattr(ps.manager.hook, hook).get_hookimpls(),
                       key=lambda impl: order.get(impl.plugin_name, len(order)))
        for impl in impls:
            info = ps._infos[impl.plugin_name]
            calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
            if not _call(info, hook, impl.function, _Recorder(calls)):
                continue
            for args, kwargs in calls:
                try:
                    add(info, args, kwargs)
                except Exception as exc:  # noqa: BLE001 - one bad contribution, not the plugin
                    _refuse(info, hook, "?", describe(exc))


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
    name = info.distribution if info else "?"
    message = (f"plugin '{name}' was skipped: {describe(exc)} (in {where}); "
               f"fix or remove it with `artflow uninstall {name}`")
    if info is not None:
        info.error = message
    _warn(message)


def _refuse(info: PluginInfo, what: str, name: str, why: str) -> None:
    """Skip one contribution of a plugin (the rest of it still loads), with one warning."""
    info.refused.append(f"{what} '{name}': {why}")
    _warn(f"plugin '{info.distribution}': {what} '{name}' was refused: {why}")


def _warn(message: str) -> None:
    warnings.warn(message, PluginWarning, stacklevel=3)
