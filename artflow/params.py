"""Typed node parameters: declared once with default, range or choices; validated before a run."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from .errors import ParamError


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()

_NAMED_COLORS = {
    "black": "#000000", "white": "#ffffff", "red": "#ff0000", "green": "#00a000",
    "blue": "#0000ff", "yellow": "#ffff00", "cyan": "#00ffff", "magenta": "#ff00ff",
    "gray": "#808080", "grey": "#808080", "orange": "#ff8000", "purple": "#800080",
    "pink": "#ff80c0", "brown": "#804000", "transparent": "#00000000",
}
_HEX = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$")


@dataclass(frozen=True)
class Param:
    """A parameter declaration. Build one with Int, Float, Bool, Str, Choice, Color, File, Model,
    Floats, Ints or Strings rather than directly."""

    kind: str
    default: Any = REQUIRED
    doc: str = ""
    min: float | None = None
    max: float | None = None
    choices: tuple[Any, ...] | None = None
    optional: bool = False
    length: int | None = None
    model_kind: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    def describe(self) -> dict[str, Any]:
        """JSON description, as `artflow nodes --json` prints it."""
        out: dict[str, Any] = {"type": self.kind, "doc": self.doc}
        if not self.required:
            out["default"] = self.default
        else:
            out["required"] = True
        if self.min is not None:
            out["min"] = self.min
        if self.max is not None:
            out["max"] = self.max
        if self.choices is not None:
            out["choices"] = list(self.choices)
        if self.optional:
            out["optional"] = True
        if self.length is not None:
            out["length"] = self.length
        if self.model_kind is not None:
            out["model_kind"] = self.model_kind
        return out

    def allowed(self) -> str:
        """What values are allowed, in words, for error messages."""
        none = " or null" if self.optional else ""
        if self.kind == "choice":
            return "one of " + ", ".join(repr(c) for c in self.choices or ()) + none
        if self.kind in ("int", "float"):
            word = "an integer" if self.kind == "int" else "a number"
            return word + _range_words(self.min, self.max) + none
        if self.kind in ("floats", "ints"):
            n = f"{self.length} " if self.length else ""
            word = "integers" if self.kind == "ints" else "numbers"
            return f"a list of {n}{word}" + _range_words(self.min, self.max) + none
        if self.kind == "strings":
            return "a list of strings" + none
        if self.kind == "bool":
            return "true or false"
        if self.kind == "color":
            return "a colour like '#ff8800', a name like 'orange', or [r, g, b] in 0..255" + none
        if self.kind == "model":
            kind = f"{self.model_kind} " if self.model_kind else ""
            return f"a registered {kind}model name or a path to an .onnx file" + none
        return "a string" + none

    def validate(self, node_id: str, node_type: str, name: str, value: Any) -> Any:
        """Return the value in the form the node function receives, or raise ParamError."""
        if value is None and (self.optional or self.default is None):
            return None
        if isinstance(value, dict) and any(m in value for m in ("keyframes", "wave", "wobble")):
            from .schedule import bind  # a value that changes over frames (see artflow.schedule)

            return bind(self, value, f"node '{node_id}' ({node_type}) param '{name}'", parse_color)
        try:
            return _CONVERT[self.kind](self, value)
        except (TypeError, ValueError) as exc:
            detail = f" ({exc})" if str(exc) else ""
            raise ParamError(
                f"node '{node_id}' ({node_type}) param '{name}' = {_short(value)} is not allowed: "
                f"use {self.allowed()}{detail}"
            ) from None


def _range_words(lo: float | None, hi: float | None) -> str:
    if lo is not None and hi is not None:
        return f" in [{_num(lo)}, {_num(hi)}]"
    if lo is not None:
        return f" >= {_num(lo)}"
    if hi is not None:
        return f" <= {_num(hi)}"
    return ""


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else str(v)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _in_range(p: Param, v: float) -> None:
    if (p.min is not None and v < p.min) or (p.max is not None and v > p.max):
        raise ValueError("")


def _to_int(p: Param, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError("")
    if isinstance(value, float) and not value.is_integer():
        raise ValueError("")
    out = int(value)
    _in_range(p, out)
    return out


def _to_float(p: Param, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError("")
    out = float(value)
    if not math.isfinite(out):
        raise ValueError("")
    _in_range(p, out)
    return out


def _to_bool(p: Param, value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError("")
    return value


def _to_str(p: Param, value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("")
    if p.choices is not None and value not in p.choices:
        raise ValueError("")
    return value


def _to_choice(p: Param, value: Any) -> Any:
    if not any(value == c and type(value) is type(c) for c in p.choices or ()):
        raise ValueError("")
    return value


def _to_list(p: Param, value: Any, item: Any) -> list[Any]:
    if not isinstance(value, (list, tuple)):
        raise TypeError("")
    if p.length is not None and len(value) != p.length:
        raise ValueError(f"need exactly {p.length} values")
    return [item(p, v) for v in value]


def parse_color(value: Any) -> tuple[float, ...]:
    """A colour as an RGB or RGBA tuple of floats in [0, 1]."""
    if isinstance(value, str):
        text = _NAMED_COLORS.get(value.strip().lower(), value.strip())
        if not _HEX.match(text):
            raise ValueError("")
        digits = text[1:]
        if len(digits) == 3:
            digits = "".join(c * 2 for c in digits)
        return tuple(int(digits[i : i + 2], 16) / 255.0 for i in range(0, len(digits), 2))
    if isinstance(value, (list, tuple)) and len(value) in (3, 4):
        nums = [float(v) for v in value if not isinstance(v, bool)]
        if len(nums) != len(value) or not all(0 <= v <= 255 for v in nums):
            raise ValueError("")
        return tuple(v / 255.0 for v in nums)
    raise TypeError("")


_CONVERT: dict[str, Any] = {
    "int": _to_int,
    "float": _to_float,
    "bool": _to_bool,
    "str": _to_str,
    "path": _to_str,
    "model": _to_str,
    "choice": _to_choice,
    "color": lambda p, v: parse_color(v),
    "floats": lambda p, v: _to_list(p, v, _to_float),
    "ints": lambda p, v: _to_list(p, v, _to_int),
    "strings": lambda p, v: _to_list(p, v, _to_str),
}


def Int(default: Any = REQUIRED, *, min: float | None = None, max: float | None = None,
        doc: str = "", optional: bool = False) -> Param:
    """An integer parameter."""
    return Param("int", default, doc, min, max, optional=optional)


def Float(default: Any = REQUIRED, *, min: float | None = None, max: float | None = None,
          doc: str = "", optional: bool = False) -> Param:
    """A real-number parameter."""
    return Param("float", default, doc, min, max, optional=optional)


def Bool(default: Any = REQUIRED, *, doc: str = "") -> Param:
    """A true/false parameter."""
    return Param("bool", default, doc)


def Str(default: Any = REQUIRED, *, doc: str = "", optional: bool = False) -> Param:
    """A free-text parameter."""
    return Param("str", default, doc, optional=optional)


def Choice(choices: list[Any] | tuple[Any, ...], default: Any = REQUIRED, *, doc: str = "") -> Param:
    """One value out of a fixed set."""
    return Param("choice", default, doc, choices=tuple(choices))


def Color(default: Any = REQUIRED, *, doc: str = "", optional: bool = False) -> Param:
    """A colour: '#rrggbb', '#rrggbbaa', a CSS-like name, or [r, g, b(, a)] in 0..255."""
    return Param("color", default, doc, optional=optional)


def File(default: Any = REQUIRED, *, doc: str = "", optional: bool = False) -> Param:
    """A file path (or glob, where the node says so)."""
    return Param("path", default, doc, optional=optional)


def Path(default: Any = REQUIRED, *, doc: str = "", optional: bool = False) -> Param:  # noqa: N802
    """Deprecated name of :func:`File` (it shadowed ``pathlib.Path`` wherever it was imported)."""
    import warnings

    warnings.warn("artflow.params.Path is deprecated: use artflow.params.File (af.File)", DeprecationWarning,
                  stacklevel=2)
    return File(default, doc=doc, optional=optional)


def Model(kind: str, default: Any = REQUIRED, *, doc: str = "", optional: bool = False,
          card: bool = False) -> Param:
    """A model: a registered name of the given kind, or a path to an .onnx file. The engine refuses
    a file whose artflow card is of another kind, and with ``card=True`` one without a card."""
    return Param("model", default, doc, optional=optional, model_kind=kind,
                 extra={"card": True} if card else {})


def Floats(default: Any = REQUIRED, *, length: int | None = None, min: float | None = None,
           max: float | None = None, doc: str = "", optional: bool = False) -> Param:
    """A list of numbers, optionally of a fixed length."""
    return Param("floats", default, doc, min, max, optional=optional, length=length)


def Ints(default: Any = REQUIRED, *, length: int | None = None, min: float | None = None,
         max: float | None = None, doc: str = "", optional: bool = False) -> Param:
    """A list of integers, optionally of a fixed length."""
    return Param("ints", default, doc, min, max, optional=optional, length=length)


def Strings(default: Any = REQUIRED, *, doc: str = "", optional: bool = False) -> Param:
    """A list of strings."""
    return Param("strings", default, doc, optional=optional)
