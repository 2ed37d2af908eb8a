"""One shipping path for every plugin's models: package data in the plugin's ``models/`` folder,
listed in ``models/manifest.json``, registered with one call, written by one :func:`ship`.

A plugin's ``__init__`` registers what it ships::

    @hookimpl
    def register_models(register):
        register_shipped_models(register, __package__)

and its ``ship.py`` (or the scaffold's) copies a trained, exported model in::

    ship(__package__, Path("runs/dots/dots.onnx"), kind="screen", files={"keras": keras_file})

The manifest is ``{"models": [{"name", "kind", "file", "sha256", "files", ...}]}``: each file's
sha256 as shipped (the model registry refuses a file that no longer matches), the files beside
it (``files``: key → file name in the models folder, registered as full paths, so `artflow models
--json` shows e.g. ``"keras": "/…/digits.keras"``) and any other key as a registry extra.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from .errors import ModelError
from .imaging import atomic_write_bytes

MANIFEST = "manifest.json"
_ENTRY_KEYS = ("name", "kind", "file", "sha256", "files")


def models_dir(package: str | Path) -> Path:
    """The ``models/`` folder beside the module named ``package`` (a package's ``__init__``, any
    module in it, or a one-file plugin: ``__name__`` works everywhere), or ``package`` if a folder."""
    if isinstance(package, Path):
        return package
    module = sys.modules.get(package)
    if module is None:
        import importlib

        module = importlib.import_module(package)
    return Path(str(module.__file__)).parent / "models"


def read_manifest(folder: Path) -> list[dict[str, Any]]:
    """The entries of ``folder/manifest.json`` (name, kind, file, sha256, files, …), or none."""
    manifest = Path(folder) / MANIFEST
    if not manifest.is_file():
        return []
    return list(json.loads(manifest.read_text()).get("models", []))


def shipped_models(package: str | Path) -> list[dict[str, Any]]:
    """The manifest entries a plugin package (by name) ships."""
    return read_manifest(models_dir(package))


def entry_files(folder: Path, item: dict[str, Any]) -> dict[str, Path]:
    """The files an entry declares beside its model (``files``: key → name), as full paths."""
    return {str(key): Path(folder) / str(name) for key, name in (item.get("files") or {}).items()}


def register_manifest(register: Any, folder: Path) -> None:
    """Register every entry of ``folder``'s manifest; files and extra keys become registry extras."""
    folder = Path(folder)
    for item in read_manifest(folder):
        extra = {k: v for k, v in item.items() if k not in _ENTRY_KEYS}
        extra.update({k: str(v) for k, v in entry_files(folder, item).items()})
        register(name=item["name"], kind=item["kind"], path=folder / item["file"],
                 sha256=item["sha256"], **extra)


def register_shipped_models(register: Any, package: str | Path) -> None:
    """What a plugin's ``register_models`` hook calls: register everything the package ships."""
    register_manifest(register, models_dir(package))


def only_model(run: Path, pattern: str = "*.onnx") -> Path:
    """The one exported model in a run folder matching ``pattern``; a ModelError for none or several."""
    found = sorted(Path(run).glob(pattern))
    if len(found) != 1:
        raise ModelError(f"{run}: expected one {pattern}, found {len(found)}")
    return found[0]


def carded(path: Path, kind: str) -> Any:
    """The artflow card of the ONNX file ``path``; a ModelError unless it has one of ``kind``."""
    from .models.card import read_card

    card = read_card(path)
    if card is None or card.kind != kind:
        what = "no artflow card" if card is None else f"a {card.kind} card"
        raise ModelError(f"{path} has {what}, not a {kind} card: export it with artflow's exporter "
                         "(`artflow train` or artflow.train.exporter)")
    return card


def ship(package: str | Path, source: Path, /, *, kind: str,
         files: Mapping[str, Path | tuple[Path, str]] | None = None,
         metrics: Callable[[str], bool] | Iterable[str] = (), **fields: Any) -> dict[str, Any]:
    """Copy the exported model ``source`` (an .onnx whose card is of ``kind``) into the package's
    models/ as NAME.onnx with the files that go with it, and record it in the manifest.

    ``files``: key → a file copied under its own name, or (file, new name). ``metrics``: the card's
    metrics to show in the manifest (names, or a test of the name). ``fields`` are extra manifest
    keys (labels, …); ``description`` defaults to the card's. Each file and the manifest are
    written atomically (temp file + rename); returns the new manifest entry.
    """
    folder = models_dir(package)
    card = carded(Path(source), kind)
    wanted = metrics if callable(metrics) else set(metrics).__contains__
    if metrics:
        fields = {"metrics": {k: v for k, v in sorted(card.metrics.items()) if wanted(k)}, **fields}
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{card.name}.onnx"
    _copy(Path(source), target)
    names = {}
    for key, given in (files or {}).items():
        path, name = given if isinstance(given, tuple) else (given, Path(given).name)
        _copy(Path(path), folder / name)
        names[key] = name
    from .models.files import file_sha256

    entry = {"name": card.name, "kind": card.kind, "file": target.name, "sha256": file_sha256(target),
             "description": card.description, **({"files": names} if names else {}), **fields}
    entries = {(e["name"], e["kind"]): e for e in read_manifest(folder)}
    entries[(card.name, card.kind)] = entry
    write_manifest(folder, [entries[k] for k in sorted(entries)])
    return entry


def reship(package: str | Path, path: Path, *, kind: str) -> dict[str, Any]:
    """Record again a shipped model rewritten in place (re-exported, its card updated): the new
    sha256, the entry's other fields and files kept."""
    folder = models_dir(package)
    card = carded(Path(path), kind)
    old = next((e for e in read_manifest(folder) if (e["name"], e["kind"]) == (card.name, card.kind)), {})
    kept = {k: v for k, v in old.items() if k not in _ENTRY_KEYS}
    files = {k: folder / str(v) for k, v in (old.get("files") or {}).items()}
    return ship(package, path, kind=kind, files=files, **kept)


def write_manifest(folder: Path, entries: list[dict[str, Any]]) -> Path:
    """Write ``folder/manifest.json`` atomically."""
    path = Path(folder) / MANIFEST
    atomic_write_bytes(path, (json.dumps({"models": entries}, indent=2) + "\n").encode())
    return path


def rewrite_card(path: Path, card: Any) -> Path:
    """Write ``card`` into the ONNX file at ``path`` in place (atomically; the weights untouched);
    forget sessions opened on the old file. Needs the ``onnx`` package (the train extra)."""
    import onnx

    from .models import clear_sessions
    from .models.card import write_card

    proto = onnx.load(str(path))
    write_card(proto, card)
    atomic_write_bytes(path, proto.SerializeToString())
    clear_sessions()
    return path


def _copy(source: Path, target: Path) -> None:
    if source.resolve() == target.resolve():
        return
    if not source.is_file():
        raise ModelError(f"{source} does not exist: nothing to ship")
    atomic_write_bytes(target, source.read_bytes())
