"""Every ``ARTFLOW_*`` setting, declared once: name, type, default and what it does.

A value comes from the environment, else from the user's config file (TOML; ``ARTFLOW_CONFIG``
names another one), else the default. In the file a setting is written without its prefix,
in lower case (``cache_max_mb = 2048``) or in full (``ARTFLOW_CACHE_MAX_MB = 2048``). A value
that does not parse is one :class:`~artflow.errors.SettingError` naming the setting and where
it came from. The environment is read on every :func:`get`, so a variable set by a worker or a
test takes effect at once. This module imports nothing heavy (``import artflow`` stays light).

``python -m artflow.settings`` prints the README's table of settings.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import SettingError
from .errors import describe as describe_error
from .paths import expand_user

DEFAULT_MAX_WORK = 1_000_000_000  # work units one node may do (about 100 s of flow-field strokes here)

PREFIX = "ARTFLOW_"
CONFIG = "ARTFLOW_CONFIG"


@dataclass(frozen=True)
class Setting:
    """One setting: how to parse it, its default (a value, or a function computing it), its doc."""

    name: str
    type: str
    parse: Callable[[Any], Any]
    default: Any
    doc: str
    default_doc: str = ""
    #: an empty environment variable is a value (else it counts as unset)
    empty_is_value: bool = False
    #: only the environment may set it
    env_only: bool = False

    @property
    def key(self) -> str:
        """Its name in the config file."""
        return self.name[len(PREFIX):].lower()

    def default_value(self) -> Any:
        return self.default() if callable(self.default) else self.default

    def describe_default(self) -> str:
        if self.default_doc:
            return self.default_doc
        value = self.default_value()
        return "unset" if value is None else _show(value)


def _int(minimum: int) -> Callable[[Any], int]:
    def parse(value: Any) -> int:
        if isinstance(value, bool):
            raise ValueError
        if isinstance(value, str):
            value = value.strip().replace("_", "")
            if not value.lstrip("-").isdigit():
                raise ValueError
        elif not isinstance(value, int):
            raise ValueError
        out = int(value)
        if out < minimum:
            raise ValueError
        return out

    return parse


_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off", "")


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError


def _path(value: Any) -> Path:
    if not isinstance(value, str) or not value.strip():
        raise ValueError
    return expand_user(value.strip())


def _paths(value: Any) -> tuple[Path, ...]:
    """Folders separated by the OS path separator (':' here), or a TOML list of them."""
    items = value if isinstance(value, list) else str(value).split(os.pathsep)
    if not all(isinstance(v, str) for v in items):
        raise ValueError
    return tuple(expand_user(v.strip()) for v in items if v.strip())


def _names(value: Any) -> tuple[str, ...]:
    """Comma-separated names (or a TOML list of them), lower-cased."""
    items = value if isinstance(value, list) else str(value).split(",")
    if not all(isinstance(v, str) for v in items):
        raise ValueError
    return tuple(dict.fromkeys(v.strip().lower() for v in items if v.strip()))


def _spin(value: Any) -> str:
    text = str(value).strip().lower() if not isinstance(value, bool) else str(int(value))
    if text in ("1", "on", "true", "yes"):
        return "1"
    if text in ("0", "off", "false", "no"):
        return "0"
    if text == "auto":
        return "auto"
    raise ValueError


def _overrides(value: Any) -> dict[str, frozenset[str]]:
    """``dist:name,name;dist2:name`` (or a TOML table ``{dist = ["name", ...]}``)."""
    if isinstance(value, dict):
        pairs = [(k, v if isinstance(v, list) else str(v).split(",")) for k, v in value.items()]
    else:
        pairs = []
        for part in str(value).split(";"):
            if not part.strip():
                continue
            dist, colon, names = part.partition(":")
            if not colon or not dist.strip():
                raise ValueError
            pairs.append((dist, names.split(",")))
    out: dict[str, frozenset[str]] = {}
    for dist, names in pairs:
        if not all(isinstance(n, str) for n in names):
            raise ValueError
        wanted = {n.strip() for n in names if n.strip()}
        if not wanted:
            raise ValueError
        out[dist_key(dist)] = out.get(dist_key(dist), frozenset()) | wanted
    return out


def dist_key(dist: str) -> str:
    """Distribution names compare case-insensitively, with ``-``, ``_`` and ``.`` alike."""
    return dist.strip().lower().replace("_", "-").replace(".", "-")


def _half_of_memory() -> int:
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # not a POSIX system
        return 4096
    return max(256, total // 2 // (1024 * 1024))


def _cache_dir() -> Path:
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("artflow"))


def _config_file() -> Path:
    from platformdirs import user_config_dir

    return Path(user_config_dir("artflow")) / "config.toml"


_WORDS = {
    "int>=0": "a whole number >= 0",
    "int>=1": "a whole number >= 1",
    "bool": "1/0 (or true/false, yes/no, on/off)",
    "path": "a folder or file path",
    "names": "comma-separated names",
    "paths": "folders separated by ':' (a list in the config file)",
    "auto|0|1": "auto, 0 or 1",
    "overrides": "'dist:name,name;dist2:name' (a distribution, then the names it may replace)",
}

SETTINGS: dict[str, Setting] = {s.name: s for s in (
    Setting("ARTFLOW_CONFIG", "path", _path, _config_file, env_only=True,
            default_doc="<user config dir>/artflow/config.toml",
            doc="The config file read for settings not in the environment (TOML)."),
    Setting("ARTFLOW_CACHE", "path", _path, _cache_dir, default_doc="<user cache dir>/artflow",
            doc="Folder of the node-output cache."),
    Setting("ARTFLOW_CACHE_MAX_MB", "int>=0", _int(0), 4096,
            doc="Disk cache size limit (MB); the oldest entries go first."),
    Setting("ARTFLOW_CACHE_MEMORY_MB", "int>=0", _int(0), 1024,
            doc="In-memory cache size limit per process (MB)."),
    Setting("ARTFLOW_MAX_MEMORY_MB", "int>=1", _int(1), _half_of_memory,
            default_doc="half of physical memory",
            doc="Memory budget of one run (MB), shared among gallery workers; plans over it are "
                "refused before any pixel is computed."),
    Setting("ARTFLOW_MAX_WORK", "int>=1", _int(1), DEFAULT_MAX_WORK, default_doc=f"{DEFAULT_MAX_WORK}",
            doc="Most work units (e.g. strokes x steps of generate.flow_field) one node may do in a "
                "run; plans over it are refused before anything runs."),
    Setting("ARTFLOW_MAX_FRAMES", "int>=1", _int(1), 100000,
            doc="Most frames one run over time may render (`--frames`, a graph's `frames`)."),
    Setting("ARTFLOW_MAX_PIXELS", "int>=1", _int(1), 8192 * 8192, default_doc="67108864 (8192 x 8192)",
            doc="Largest image (width x height) artflow decodes or creates."),
    Setting("ARTFLOW_ALLOW_PATHS", "paths", _paths, (), default_doc="none (the PNG's folder only)",
            doc="Folders a graph carried by a PNG may read besides the PNG's own (as --allow-path)."),
    Setting("ARTFLOW_THREADS", "int>=1", _int(1), None, default_doc="usable cores, at most 8",
            doc="ONNX Runtime intra-op threads per session (gallery workers set it per worker)."),
    Setting("ARTFLOW_ORT_SPIN", "auto|0|1", _spin, "auto",
            doc="Whether ONNX Runtime threads spin between operators: auto spins only on an "
                "idle machine."),
    Setting("ARTFLOW_GALLERY_CACHE_MB", "int>=0", _int(0), 64,
            doc="Memory cache of each gallery worker (MB), shared by its items."),
    Setting("ARTFLOW_GALLERY_OUT", "path", _path, None,
            doc="Output folder of a Ray render actor (set by `artflow render`, not by hand)."),
    Setting("ARTFLOW_LOAD_PLUGINS", "names", _names, None, empty_is_value=True,
            default_doc="unset (all plugins)",
            doc="Load only these third-party plugins (distribution or entry-point names); "
                "built-ins always load."),
    Setting("ARTFLOW_NO_PLUGINS", "bool", _bool, False,
            doc="Load only the built-in plugins (what `--no-plugins` sets)."),
    Setting("ARTFLOW_PLUGIN_OVERRIDES", "overrides", _overrides, None,
            doc="Let a named distribution replace named built-in or earlier contributions: node "
                "types (`image.load`), models (`kind:name`), trainer kinds; each replacement "
                "warns."),
    Setting("ARTFLOW_TIME_CLI", "bool", _bool, False,
            doc="Print the wall time of each `artflow` command on stderr."),
    Setting("ARTFLOW_HELP_FAST", "bool", _bool, False,
            doc="`artflow --help` skips importing plugins (their commands are not listed)."),
)}

_file_cache: dict[str, Any] = {}


def get(name: str) -> Any:
    """The value of setting ``name`` (environment, else config file, else default)."""
    return _resolve(_setting(name))[0]


def source(name: str) -> str:
    """Where the value of ``name`` comes from: ``env``, ``config:<file>`` or ``default``."""
    return _resolve(_setting(name))[1]


def describe() -> list[dict[str, Any]]:
    """Every setting with its value and source, as `artflow doctor --json` lists them."""
    out = []
    for s in SETTINGS.values():
        value, where = _resolve(s)
        out.append({"name": s.name, "value": _jsonable(value), "source": where, "type": s.type,
                    "default": s.describe_default(), "doc": s.doc})
    return out


def unknown_in_environment() -> list[str]:
    """``ARTFLOW_*`` environment variables that are no setting (a typo is otherwise silent)."""
    import difflib

    out = []
    for name in sorted(os.environ):
        if name.startswith(PREFIX) and name not in SETTINGS:
            close = difflib.get_close_matches(name, SETTINGS, n=1)
            out.append(f"{name} (did you mean {close[0]}?)" if close else name)
    return out


def markdown_table() -> str:
    """The README's table of settings."""
    rows = ["| Setting | Value | Default | What it does |", "|---|---|---|---|"]
    for s in SETTINGS.values():
        rows.append(f"| `{s.name}` | {_WORDS[s.type]} | {_md_default(s)} | {s.doc} |")
    return "\n".join(rows) + "\n"


def _md_default(s: Setting) -> str:
    text = s.describe_default()
    words = (" " in text and "<" not in text) or text == "unset"
    return text if words else f"`{text}`"


def _setting(name: str) -> Setting:
    try:
        return SETTINGS[name]
    except KeyError:
        import difflib

        close = difflib.get_close_matches(name, SETTINGS, n=1)
        hint = f"; did you mean {close[0]}?" if close else ""
        raise KeyError(f"no setting {name!r}{hint}") from None


def _resolve(s: Setting) -> tuple[Any, str]:
    raw = os.environ.get(s.name)
    if raw is not None and (raw.strip() or s.empty_is_value):
        return _parse(s, raw, "the environment"), "env"
    if not s.env_only:
        values, path = _config()
        if s.key in values:
            return _parse(s, values[s.key], f"config file {path}"), f"config:{path}"
    return s.default_value(), "default"


def _parse(s: Setting, raw: Any, where: str) -> Any:
    try:
        return s.parse(raw)
    except (ValueError, TypeError):
        shown = repr(raw) if len(repr(raw)) <= 60 else repr(raw)[:57] + "..."
        raise SettingError(f"{s.name}={shown} (from {where}) is not {_WORDS[s.type]}; "
                           "fix or unset it (`artflow doctor` lists every setting)") from None


def config_path() -> Path:
    """The config file this process reads (it need not exist)."""
    return _resolve(SETTINGS[CONFIG])[0]


def _config() -> tuple[dict[str, Any], Path]:
    """The config file's settings by key (lower case, no prefix); re-read when it changes."""
    path = config_path()
    try:
        st = path.stat()
    except OSError:
        return {}, path
    stamp = (str(path), st.st_mtime_ns, st.st_size)
    if _file_cache.get("stamp") != stamp:
        _file_cache.update(stamp=stamp, values=_read_config(path))
    return _file_cache["values"], path


def _read_config(path: Path) -> dict[str, Any]:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        try:
            import tomli as tomllib  # type: ignore[no-redef]
        except ModuleNotFoundError:
            raise SettingError(f"config file {path} needs Python 3.11+ or the 'tomli' package to be "
                               "read; install tomli or remove the file") from None
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SettingError(f"config file {path} cannot be read: {describe_error(exc)}; fix it or point "
                           "ARTFLOW_CONFIG at another file") from None
    values: dict[str, Any] = {}
    for key, value in data.items():
        name = key.upper() if key.upper().startswith(PREFIX) else PREFIX + key.upper()
        s = SETTINGS.get(name)
        if s is None or s.env_only:
            import difflib

            keys = [t.key for t in SETTINGS.values() if not t.env_only]
            close = difflib.get_close_matches(key.lower(), keys, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            why = "can only be set in the environment" if s is not None else "is not a setting"
            raise SettingError(f"config file {path}: '{key}' {why}{hint} "
                               "(`artflow doctor` lists every setting)")
        values[s.key] = value
    return values


def _show(value: Any) -> str:
    return str(int(value)) if isinstance(value, bool) else str(value)


def _jsonable(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, dict):
        return {k: sorted(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return list(value)
    return value


if __name__ == "__main__":  # pragma: no cover - a maintenance helper
    print(markdown_table(), end="")
