"""Where an import's TensorFlow side comes from: a Keras factory in an installed Python package
(``PACKAGE:FACTORY``), or a TF.js package (a graph model → a GraphDef, a layers model → a Keras
model). Each gives the raw outputs by name as a function of the model's input, and the facts the
card records; see :mod:`artflow.train.importer`.
"""

from __future__ import annotations

import importlib
import os
import re
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..errors import describe, one_line
from .import_spec import ImportSpec, ModelImportError

_FACTORY = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")
Raw = Callable[[Any], dict[str, Any]]


@contextmanager
def _no_downloads(what: str):  # noqa: ANN202 - contextmanager
    """Keras' get_file raises one line instead of reaching a hub (artflow imports offline)."""
    targets = []
    for mod_name in ("keras.src.utils.file_utils", "keras.utils"):
        try:
            targets.append(importlib.import_module(mod_name))
        except ImportError:  # pragma: no cover - keras layout differs
            continue

    def refuse(fname: str | None = None, origin: str | None = None, *args: Any, **kwargs: Any) -> str:
        cache = Path(kwargs.get("cache_dir") or Path(os.environ.get("KERAS_HOME", "~/.keras")).expanduser())
        sub = kwargs.get("cache_subdir", "datasets")
        cached = cache / sub / (fname or "")
        if fname and cached.is_file():
            return str(cached)
        raise ModelImportError(f"{what} needs a download ({fname or origin}): artflow imports offline only; "
                               "give a factory whose weights ship in its package")

    saved = [(m, m.get_file) for m in targets if hasattr(m, "get_file")]
    for m, _ in saved:
        m.get_file = refuse
    try:
        yield
    finally:
        for m, fn in saved:
            m.get_file = fn


def package_facts(module_name: str) -> dict[str, str]:
    """The installed distribution of a module: package, version, licence, authors (may be empty)."""
    from importlib import metadata

    facts: dict[str, str] = {"module": module_name}
    top = module_name.split(".")[0]
    for dist in metadata.packages_distributions().get(top, []):
        try:
            meta = metadata.metadata(dist)
            facts.update(package=dist, version=metadata.version(dist), licence=meta.get("License") or "",
                         authors=meta.get("Author") or meta.get("Author-email") or "")
            break
        except metadata.PackageNotFoundError:  # pragma: no cover
            continue
    return facts


def check_factory_name(target: str) -> tuple[str, str]:
    """``PACKAGE:FACTORY`` split in two, or one line (``:``, ``.rel:X``, paths are refused)."""
    if not isinstance(target, str) or not _FACTORY.fullmatch(target):
        raise ModelImportError(f"{one_line(target)[:80]!r}: write the Keras factory as PACKAGE:FACTORY with "
                               "Python names (e.g. some_package:build_model)")
    module_name, attr = target.split(":", 1)
    return module_name, attr


def load_keras_factory(target: str) -> tuple[Any, dict[str, str]]:
    """``PACKAGE:FACTORY`` (e.g. ``some_package:build_model``) → the built model and the package's facts."""
    module_name, attr = check_factory_name(target)
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # noqa: BLE001 - any failure importing someone else's package
        raise ModelImportError(f"cannot import '{module_name}' ({one_line(describe(exc))[:160]}); "
                               "pip install the package first") from None
    factory = module
    for part in attr.split("."):
        factory = getattr(factory, part, None)
        if factory is None:
            raise ModelImportError(f"'{module_name}' has no '{attr}'; give PACKAGE:FACTORY of a Keras model")
    if not callable(factory):
        raise ModelImportError(f"'{target}' is not callable; give PACKAGE:FACTORY of a Keras model")
    with _no_downloads(target):
        try:
            model = factory()
        except ModelImportError:
            raise
        except Exception as exc:  # noqa: BLE001 - any factory failure
            raise ModelImportError(f"{target}() failed: {one_line(describe(exc, with_type=False))[:200]}"
                                   ) from None
    return model, package_facts(module_name)


def package_files_sha256(module_name: str,
                         suffixes: tuple[str, ...] = (".h5", ".keras", ".weights.h5")) -> dict[str, str]:
    """sha256 of the weight files a Python package ships (what the imported model came from)."""
    from ..models.registry import file_sha256

    module = importlib.import_module(module_name.split(".")[0])
    root = Path(module.__file__).parent
    return {str(p.relative_to(root)): file_sha256(p) for p in sorted(root.rglob("*")) if p.suffix in suffixes
            or p.name.endswith(suffixes)}


def keras_raw(model: Any, spec: ImportSpec, keras_outputs: Any = None) -> Raw:
    """The Keras model's outputs by name (the spec's output names, else the model's output names);
    a decoder may say how to take them from the model instead (HED's features)."""
    if keras_outputs is not None:
        return keras_outputs(model, spec)
    names = list(spec.extra.get("outputs", {})) or [getattr(t, "name", "output").split(":")[0].split("/")[0]
                                                     for t in getattr(model, "outputs", [])] or ["output"]

    def plain(x: Any) -> dict[str, Any]:
        out = model(x, training=False)
        if isinstance(out, dict):
            return dict(out)
        if not isinstance(out, (list, tuple)):
            out = [out]
        return dict(zip(names, out, strict=False))

    return plain


def keras_source(target: str, spec: ImportSpec, keras_outputs: Any) -> tuple[Raw, dict[str, Any]]:
    """A Keras factory's raw outputs and its facts (package, version, weight files)."""
    model, facts = load_keras_factory(target)
    return keras_raw(model, spec, keras_outputs), {**facts,
                                                   "files_sha256": package_files_sha256(facts["module"])}


def tfjs_source(target: str, spec: ImportSpec, inp: dict[str, Any], decode: dict[str, Any]
                ) -> tuple[Raw, dict[str, Any], list[str] | None, int | None]:
    """A TF.js package's raw outputs (by output name), facts, and the input size and batch it fixes
    (a graph model's placeholder; a layers model takes any size). ``decode`` gains the output
    names the decoder reads."""
    from ..plugins import get_plugins
    from .tfjs import package_files
    from .tfjs_checks import check_package

    custom = {k: v.build for k, v in get_plugins().imports.layers.items()}
    pkg = check_package(target, layer_classes=set(custom))
    facts: dict[str, Any] = {"files_sha256": package_files(pkg),
                             **{k: v for k, v in pkg.model.items()
                                if k in ("format", "generatedBy", "convertedBy") and isinstance(v, str)}}
    if pkg.format == "layers":
        from .tfjs_layers import build_layers_model

        model = build_layers_model(pkg, custom)
        names = [n for n in model.output_names] if hasattr(model, "output_names") else ["output"]
        facts["layers"] = sorted({layer["class_name"] for layer in pkg.layers})
        raw = keras_raw(model, ImportSpec(spec.name, spec.kind, extra={"outputs": dict.fromkeys(names, "")}))
        _pick_outputs(target, decode, names)
        return raw, facts, None, None
    from .tfjs import as_function, read_tfjs

    graph = read_tfjs(pkg)
    key = inp.get("tensor") or next(iter(graph.inputs), None)
    if key not in graph.inputs:
        raise ModelImportError(f"{target}: no input {one_line(key)!r} (inputs: {', '.join(graph.inputs)}); "
                               "set [input] tensor in the spec")
    tensor, shape, dtype = graph.inputs[key]
    inp.setdefault("dtype", dtype)
    size = batch = None
    if len(shape) == 4 and min(shape) > 0:
        size = shape[2:4] if inp.get("layout") == "NCHW" else shape[1:3]
    if shape and shape[0] == 1:
        batch = 1
    if inp.get("batch") == 1:
        batch = 1
    out_keys = _pick_outputs(target, decode, list(graph.outputs))
    fn = as_function(graph, [tensor], [graph.outputs[k] for k in out_keys],
                     batch="keep" if (inp.get("batch") or batch) == 1 else None, fixed=inp.get("fixed"))

    def raw(x: Any) -> dict[str, Any]:
        return dict(zip(out_keys, fn(x), strict=True))

    return raw, facts, size, batch


def _pick_outputs(target: str, decode: dict[str, Any], available: list[str]) -> list[str]:
    out_keys = list(decode.get("outputs") or available) + list(decode.get("raw", []))
    missing = [k for k in out_keys if k not in available]
    if missing:
        raise ModelImportError(f"{target}: no output {missing} (outputs: {', '.join(available)})")
    decode.setdefault("output", out_keys[0])  # the decoder reads this one unless the spec names it
    if decode["output"] not in out_keys:
        raise ModelImportError(f"{target}: the decoder's output {decode['output']!r} is not among "
                               f"{out_keys}; set [decode] outputs/output in the spec")
    return out_keys
