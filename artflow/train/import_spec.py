"""An import's spec (TOML/JSON and command-line options): what a model expects and what its outputs
mean, declared once and checked field by field before anything is imported (one line naming the
field on a wrong type, size or value). See :mod:`artflow.train.importer` for the keys.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomllib

from ..errors import ModelError, describe, one_line

NAME = re.compile(r"[A-Za-z0-9][\w.-]{0,63}")
MAX_SPEC_BYTES = 1 << 20
MAX_SIDE = 8192
_INPUT_KEYS = {"tensor", "layout", "color", "range", "mean", "std", "size", "dtype", "batch", "fixed",
               "symbolic"}
_DTYPES = ("float32", "int32", "uint8", "int64", "float16")


class ModelImportError(ModelError):
    """The model could not be imported; nothing was written."""


ImportError_ = ModelImportError  # deprecated: the old name (it read like the builtin ImportError)


@dataclass
class ImportSpec:
    """What a model expects and what its outputs mean, declared once (see the module doc)."""

    name: str
    kind: str
    input: dict[str, Any] = field(default_factory=dict)
    decode: dict[str, Any] = field(default_factory=dict)
    labels: list[str] = field(default_factory=list)
    package: str = ""
    authors: str = ""
    licence: str = ""
    licence_source: str = ""
    description: str = ""
    float16: bool = False
    parity: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_spec(self)

    @classmethod
    def load(cls, path: str | Path | None, **overrides: Any) -> ImportSpec:
        """Read a TOML/JSON spec (or none), then apply the non-None overrides (``input.size=…`` style
        keys go into the sub-tables)."""
        data: dict[str, Any] = {}
        if path is not None:
            data = _read(Path(path))
        for key, value in overrides.items():
            if value is None:
                continue
            if "." in key:
                table, sub = key.split(".", 1)
                if not isinstance(data.setdefault(table, {}), dict):
                    raise ModelImportError(f"spec: {table!r} must be a table")
                data[table][sub] = value
            else:
                data[key] = value
        if not data.get("name") or not data.get("kind"):
            raise ModelImportError("the import needs a model name and kind "
                                   "(--name, --kind or the spec's name/kind)")
        known = set(cls.__dataclass_fields__)
        extra = {k: v for k, v in data.items() if k not in known}
        labels = data.get("labels", [])
        if isinstance(labels, str):
            labels = _label_set(labels)
        if not isinstance(data.get("extra", {}), dict):
            raise ModelImportError("spec: 'extra' must be a table")
        fields = {k: v for k, v in data.items() if k in known and k not in ("labels", "extra")}
        return cls(**fields, labels=labels, extra={**data.get("extra", {}), **extra})


def _read(p: Path) -> dict[str, Any]:
    if not p.is_file():
        raise ModelImportError(f"spec file {one_line(p)!r} not found")
    if p.stat().st_size > MAX_SPEC_BYTES:
        raise ModelImportError(f"spec file '{p}' is over {MAX_SPEC_BYTES} bytes; a spec is a few lines")
    try:
        text = p.read_text(encoding="utf-8")
        data = tomllib.loads(text) if p.suffix == ".toml" else json.loads(text)
    except (ValueError, RecursionError, tomllib.TOMLDecodeError) as exc:
        raise ModelImportError(f"spec file '{p}' is not valid {p.suffix[1:].upper() or 'JSON'}: "
                               f"{one_line(describe(exc, with_type=False))[:160]}") from None
    if not isinstance(data, dict):
        raise ModelImportError(f"spec file '{p}' is not a table of settings")
    return data


def _label_set(name: str) -> list[str]:
    from ..plugins import get_plugins

    found = get_plugins().imports.label_set(name)
    if found is None:
        raise ModelImportError(f"labels {one_line(name)[:60]!r}: no loaded plugin declares this label set; "
                               "give the class names as a list (or --labels a,b,c / @FILE)")
    return found


def _bad(where: str, value: Any, want: str) -> ModelImportError:
    shown = one_line(repr(value))
    return ModelImportError(f"spec: {where} is {shown[:60]}{'…' if len(shown) > 60 else ''}; {want}")


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _numbers(where: str, v: Any, count: int, *, positive: bool = False) -> None:
    ok = isinstance(v, list) and len(v) == count and all(_number(x) and (x > 0 or not positive) for x in v)
    if not ok:
        raise _bad(where, v, f"give {count} {'positive ' if positive else ''}numbers")


def check_spec(spec: ImportSpec) -> None:
    """Every field of a spec has the type and range the import needs (see the module doc)."""
    for key in ("name", "kind"):
        value = getattr(spec, key)
        if not isinstance(value, str) or not NAME.fullmatch(value):
            raise _bad(key, value, "use letters, digits, '.', '-' or '_' (at most 64)")
    for key in ("package", "authors", "licence", "licence_source", "description"):
        if not isinstance(getattr(spec, key), str):
            raise _bad(key, getattr(spec, key), "write text")
    if not isinstance(spec.float16, bool):
        raise _bad("float16", spec.float16, "write true or false")
    if not isinstance(spec.labels, list) or not all(isinstance(x, str) for x in spec.labels):
        raise _bad("labels", spec.labels, "give a list of class names")
    for key in ("input", "decode", "parity", "extra"):
        if not isinstance(getattr(spec, key), dict):
            raise _bad(key, getattr(spec, key), "write a table")
    _check_input(spec.input)
    _check_decode(spec.decode)
    _check_parity(spec.parity)


def _check_input(inp: dict[str, Any]) -> None:
    unknown = sorted(set(inp) - _INPUT_KEYS)
    if unknown:
        raise _bad(f"input.{unknown[0]}", inp[unknown[0]], f"[input] takes {', '.join(sorted(_INPUT_KEYS))}")
    choices = {"layout": ("NHWC", "NCHW"), "color": ("rgb", "bgr"), "dtype": _DTYPES,
               "batch": (None, 1), "symbolic": (True, False)}
    for key, allowed in choices.items():
        if key in inp and (isinstance(inp[key], (list, dict)) or inp[key] not in allowed
                           or (key == "batch" and isinstance(inp[key], bool))):
            raise _bad(f"input.{key}", inp[key], f"one of {', '.join(map(str, allowed))}")
    if "tensor" in inp and not (isinstance(inp["tensor"], str) and 0 < len(inp["tensor"]) < 256):
        raise _bad("input.tensor", inp["tensor"], "name the model's input")
    if "range" in inp:
        _numbers("input.range", inp["range"], 2)
        if not inp["range"][0] < inp["range"][1]:
            raise _bad("input.range", inp["range"], "give LO,HI with LO < HI")
    if inp.get("mean") is not None:
        _numbers("input.mean", inp["mean"], 3)
    if inp.get("std") is not None:
        _numbers("input.std", inp["std"], 3, positive=True)
    if inp.get("size") is not None:
        size = inp["size"]
        if not isinstance(size, list) or len(size) != 2 or not all(
                _number(v) and float(v).is_integer() and 1 <= v <= MAX_SIDE for v in size):
            raise _bad("input.size", size, f"give H,W: two whole numbers from 1 to {MAX_SIDE}")
        inp["size"] = [int(v) for v in size]
    fixed = inp.get("fixed", {})
    if not isinstance(fixed, dict) or not all(isinstance(k, str) and _number(v) for k, v in fixed.items()):
        raise _bad("input.fixed", fixed, "map input names to numbers")


def _check_decode(dec: dict[str, Any]) -> None:
    if "kind" in dec and not (isinstance(dec["kind"], str) and NAME.fullmatch(dec["kind"])):
        raise _bad("decode.kind", dec["kind"], "name a decoder (see `artflow import --help`)")
    for key in ("outputs", "raw"):
        if key in dec and (not isinstance(dec[key], list)
                           or not all(isinstance(x, str) and 0 < len(x) <= 256 for x in dec[key])):
            raise _bad(f"decode.{key}", dec[key], "give a list of output names")
    if "output" in dec and not (isinstance(dec["output"], str) and 0 < len(dec["output"]) <= 256):
        raise _bad("decode.output", dec["output"], "name one output")
    if "range" in dec:
        _numbers("decode.range", dec["range"], 2)


def _check_parity(par: dict[str, Any]) -> None:
    for key in ("atol", "float16_atol"):
        if key in par and not (_number(par[key]) and par[key] > 0):
            raise _bad(f"parity.{key}", par[key], "give a positive number")
    outputs = par.get("outputs", {})
    if not isinstance(outputs, dict) or not all(_number(v) and v > 0 for v in outputs.values()):
        raise _bad("parity.outputs", outputs, "map output names to positive tolerances")
    if "real_only" in par and not isinstance(par["real_only"], bool):
        raise _bad("parity.real_only", par["real_only"], "write true or false")
    if "size" in par:
        size = par["size"]
        if not isinstance(size, list) or len(size) != 2 or not all(
                isinstance(v, int) and not isinstance(v, bool) and 8 <= v <= 2048 for v in size):
            raise _bad("parity.size", size, "give H,W: two whole numbers from 8 to 2048")
    if "photos" in par and not (isinstance(par["photos"], int) and 1 <= par["photos"] <= 5):
        raise _bad("parity.photos", par["photos"], "give a number of photos from 1 to 5")


def plain(value: Any) -> Any:
    """A JSON round trip: the plain data a card stores (paths and numbers as JSON has them)."""
    return json.loads(json.dumps(value, default=str))
