"""Schedules: a number, colour or number-list param that changes over the frames of a run.

A schedule is plain data (a dict), never code, in Python, JSON and TOML alike::

    {"keyframes": {"0": 0, "48": 360}, "ease": "in_out_cubic", "loop": "repeat"}
    {"wave": "sine", "period": 48, "amplitude": 0.2, "offset": 0.5, "phase": 0}
    {"wobble": 7, "period": 24, "amplitude": 10, "offset": 50}

``af.keyframes``, ``af.wave`` and ``af.wobble`` build these dicts (a :class:`Schedule` is a dict).
Frames are whole numbers >= 0; time is in frames (``fps`` only sets ``ctx.time`` and playback).
Validating a schedule against its param (:func:`bind`) checks every keyframe value and every
value the curve reaches (easing overshoot included) and gives a :class:`Curve`, which the
engine evaluates once per frame into the value the node function receives.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from .errors import ParamError

LOOPS = ("none", "repeat", "pingpong")
WAVES = ("sine", "triangle", "saw", "square")
#: param kinds that accept a schedule; others (text, paths, models, choices, booleans) refuse
SCHEDULABLE = ("int", "float", "color", "floats", "ints")
MARKERS = ("keyframes", "wave", "wobble")
_BEZIER = re.compile(r"^cubic-bezier\(\s*([^,]+),([^,]+),([^,]+),([^,)]+)\)$")
_FRAME = re.compile(r"^\d{1,9}$")


def _in_out(f_in: Callable[[float], float]) -> Callable[[float], float]:
    """The in_out form of an 'in' easing: first half speeds up, second half mirrors it."""
    return lambda t: f_in(2 * t) / 2 if t < 0.5 else 1 - f_in(2 - 2 * t) / 2


def _in_expo(t: float) -> float:
    return 0.0 if t <= 0 else 2.0 ** (10 * t - 10)


_IN: dict[str, Callable[[float], float]] = {
    "quad": lambda t: t * t,
    "cubic": lambda t: t * t * t,
    "sine": lambda t: 1 - math.cos(math.pi * t / 2),
    "expo": _in_expo,
}
#: the named easings (Robert Penner's set, as CSS and animation tools name them)
EASINGS: dict[str, Callable[[float], float]] = {
    "linear": lambda t: t, "step": lambda t: 0.0 if t < 1 else 1.0}
for _name, _f in _IN.items():
    EASINGS[f"in_{_name}"] = _f
    EASINGS[f"out_{_name}"] = (lambda f: lambda t: 1 - f(1 - t))(_f)
    EASINGS[f"in_out_{_name}"] = _in_out(_f)
EASINGS["out_expo"] = lambda t: 1.0 if t >= 1 else 1 - 2.0 ** (-10 * t)
EASINGS["in_out_expo"] = lambda t: 0.0 if t <= 0 else 1.0 if t >= 1 else (
    2.0 ** (20 * t - 10) / 2 if t < 0.5 else (2 - 2.0 ** (-20 * t + 10)) / 2)


class Schedule(dict):  # type: ignore[type-arg]
    """A schedule as plain data (a dict), built by :func:`keyframes`, :func:`wave` or :func:`wobble`;
    ``at(frame)`` evaluates it without a param (numbers and number lists)."""

    def at(self, frame: float) -> Any:
        value = parse(self).value(frame)
        return float(value) if value.ndim == 0 else [float(v) for v in value]


def keyframes(points: Mapping[int, Any], *, ease: str = "linear", loop: str = "none") -> Schedule:
    """Values at frames, eased between (``ease``: a name of :data:`EASINGS` or
    ``cubic-bezier(x1, y1, x2, y2)``); ``loop`` repeats or ping-pongs the span after its last frame."""
    return Schedule(keyframes={str(k): v for k, v in points.items()}, ease=ease, loop=loop)


def wave(kind: str = "sine", *, period: float = 48, amplitude: float = 1.0, offset: float = 0.0,
         phase: float = 0.0) -> Schedule:
    """A periodic wave over ``period`` frames: sine, triangle and square swing ``offset`` ±
    ``amplitude``; saw ramps from ``offset`` to ``offset + amplitude`` (``phase`` in periods)."""
    return Schedule(wave=kind, period=period, amplitude=amplitude, offset=offset, phase=phase)


def wobble(seed: int = 0, *, period: float = 24, amplitude: float = 1.0, offset: float = 0.0) -> Schedule:
    """A smooth seeded random drift around ``offset`` (never beyond ± ``amplitude``), features
    about ``period`` frames long; the same seed gives the same wobble."""
    return Schedule(wobble=seed, period=period, amplitude=amplitude, offset=offset)


def is_schedule(value: Any) -> bool:
    """Whether a param value is a schedule (a dict naming keyframes, a wave or a wobble)."""
    return isinstance(value, dict) and any(m in value for m in MARKERS)


# -- parsing ------------------------------------------------------------------------------------

class _Shape:
    """A parsed schedule: ``value(frame)`` as a float array, ``extent()`` the values it can reach."""

    def value(self, frame: float) -> Any:
        raise NotImplementedError

    def extent(self) -> list[tuple[float, Any, float]]:
        """(frame, value, 0) triples covering every value the curve reaches (its extremes)."""
        raise NotImplementedError


def ease_fn(name: Any) -> Callable[[float], float]:
    """The easing function named ``name`` (or a cubic-bezier), or ValueError saying what exists."""
    if isinstance(name, str) and name in EASINGS:
        return EASINGS[name]
    m = _BEZIER.match(name.strip().lower()) if isinstance(name, str) else None
    if m:
        try:
            x1, y1, x2, y2 = (float(g) for g in m.groups())
        except ValueError:
            m = None
        else:
            if not (0 <= x1 <= 1 and 0 <= x2 <= 1):
                raise ValueError(f"cubic-bezier x1 and x2 must be in [0, 1], got {x1}, {x2}")
            return bezier(x1, y1, x2, y2)
    raise ValueError(f"unknown ease {name!r}; use one of {', '.join(EASINGS)} or "
                     "'cubic-bezier(x1, y1, x2, y2)'")


def bezier(x1: float, y1: float, x2: float, y2: float) -> Callable[[float], float]:
    """CSS cubic-bezier timing: solve x(s) = t by bisection (x is monotone), return y(s)."""

    def coord(s: float, a: float, b: float) -> float:
        return 3 * (1 - s) ** 2 * s * a + 3 * (1 - s) * s * s * b + s ** 3

    def f(t: float) -> float:
        if t <= 0:
            return 0.0
        if t >= 1:
            return 1.0
        lo, hi = 0.0, 1.0
        for _ in range(60):
            mid = (lo + hi) / 2
            if coord(mid, x1, x2) < t:
                lo = mid
            else:
                hi = mid
        return coord((lo + hi) / 2, y1, y2)

    f.y_range = _bezier_y_range(y1, y2)  # type: ignore[attr-defined]
    return f


def _bezier_y_range(y1: float, y2: float) -> tuple[float, float]:
    """Lowest and highest y a cubic bezier from (0,0) to (1,1) reaches (it may overshoot)."""
    # y'(s) / 3 = a s^2 + b s + c with the control values y1, y2
    a, b, c = 3 * y1 - 3 * y2 + 1, 2 * y2 - 4 * y1, y1
    roots = [0.0, 1.0]
    if abs(a) > 1e-12:
        disc = b * b - 4 * a * c
        if disc >= 0:
            roots += [(-b + s * math.sqrt(disc)) / (2 * a) for s in (1, -1)]
    elif abs(b) > 1e-12:
        roots.append(-c / b)
    ys = [3 * (1 - s) ** 2 * s * y1 + 3 * (1 - s) * s * s * y2 + s ** 3 for s in roots if 0 <= s <= 1]
    return min(ys), max(ys)


def _frame_number(key: Any) -> int:
    if isinstance(key, bool):
        raise ValueError(f"keyframe frame {key!r} is not a frame number")
    if isinstance(key, int):
        if key < 0:
            raise ValueError(f"keyframe frame {key} is negative; frames count from 0")
        return key
    if isinstance(key, str) and _FRAME.match(key.strip()):
        return int(key.strip())
    raise ValueError(f"keyframe frame {key!r} is not a whole frame number >= 0")


class _Keyframes(_Shape):
    def __init__(self, data: dict[str, Any], convert: Callable[[Any], np.ndarray]):
        points = data["keyframes"]
        if not isinstance(points, dict) or not points:
            raise ValueError("'keyframes' must map frame numbers to values, e.g. {\"0\": 0, \"48\": 360}")
        pairs = sorted((_frame_number(k), v) for k, v in points.items())
        self.frames = [f for f, _ in pairs]
        if len(set(self.frames)) != len(self.frames):
            raise ValueError(f"keyframe frame {self.frames} is given twice")
        self.values = [convert(v) for _, v in pairs]
        self.raw = [v for _, v in pairs]
        if len({v.shape for v in self.values}) > 1:
            raise ValueError("keyframe values must all have the same length")
        self.ease_name = data.get("ease", "linear")
        self.ease = ease_fn(self.ease_name)
        self.loop = data.get("loop", "none")
        if self.loop not in LOOPS:
            raise ValueError(f"unknown loop {self.loop!r}; use none, repeat or pingpong")
        _no_other_keys(data, {"keyframes", "ease", "loop"})

    def _local(self, frame: float) -> float:
        first, last = self.frames[0], self.frames[-1]
        span = last - first
        if span == 0 or self.loop == "none" or first <= frame < last:
            return frame
        if self.loop == "repeat":  # the last keyframe is the next cycle's first: loops close exactly
            return first + (frame - first) % span
        cycle = (frame - first) % (2 * span)  # pingpong
        return first + (cycle if cycle <= span else 2 * span - cycle)

    def value(self, frame: float) -> np.ndarray:
        t = self._local(frame)
        if t <= self.frames[0]:
            return self.values[0]
        if t >= self.frames[-1]:
            return self.values[-1]
        i = int(np.searchsorted(self.frames, t, side="right")) - 1
        f0, f1 = self.frames[i], self.frames[i + 1]
        w = self.ease((t - f0) / (f1 - f0))
        return self.values[i] + (self.values[i + 1] - self.values[i]) * w

    def extent(self) -> list[tuple[float, Any, float]]:
        out = [(f, v, 0.0) for f, v in zip(self.frames, self.values, strict=True)]
        y_range = getattr(self.ease, "y_range", (0.0, 1.0))
        if y_range != (0.0, 1.0):  # an overshooting bezier reaches beyond its keyframes
            for i in range(len(self.frames) - 1):
                a, b = self.values[i], self.values[i + 1]
                for y in y_range:
                    out.append((self.frames[i] + 0.5 * (self.frames[i + 1] - self.frames[i]),
                                a + (b - a) * y, 0.0))
        return out


class _Wave(_Shape):
    def __init__(self, data: dict[str, Any]):
        self.kind = data["wave"]
        if self.kind not in WAVES:
            raise ValueError(f"unknown wave {self.kind!r}; use {', '.join(WAVES)}")
        self.period, self.amplitude, self.offset, self.phase = (
            _number(data, "period", 48), _number(data, "amplitude", 1.0), _number(data, "offset", 0.0),
            _number(data, "phase", 0.0))
        if self.period <= 0:
            raise ValueError(f"wave period must be > 0 frames, got {self.period}")
        _no_other_keys(data, {"wave", "period", "amplitude", "offset", "phase"})

    def value(self, frame: float) -> np.ndarray:
        x = (frame / self.period + self.phase) % 1.0
        if self.kind == "sine":
            w = math.sin(2 * math.pi * x)
        elif self.kind == "triangle":
            w = 4 * x if x < 0.25 else (2 - 4 * x if x < 0.75 else 4 * x - 4)
        elif self.kind == "square":
            w = 1.0 if x < 0.5 else -1.0
        else:
            w = x
        return np.asarray(self.offset + self.amplitude * w, np.float64)

    def extent(self) -> list[tuple[float, Any, float]]:
        lo, hi = (0.0, 1.0) if self.kind == "saw" else (-1.0, 1.0)
        peak = ((0.25 - self.phase) % 1.0) * self.period
        trough = ((0.75 - self.phase) % 1.0) * self.period
        if self.kind == "saw":
            peak, trough = ((1 - self.phase) % 1.0) * self.period - 1e-9, ((-self.phase) % 1.0) * self.period
        return [(trough, np.asarray(self.offset + self.amplitude * lo), 0.0),
                (peak, np.asarray(self.offset + self.amplitude * hi), 0.0)]


class _Wobble(_Shape):
    def __init__(self, data: dict[str, Any]):
        seed = data["wobble"]
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ValueError(f"wobble takes an integer seed, got {seed!r}")
        self.seed = seed
        self.period, self.amplitude, self.offset = (
            _number(data, "period", 24), _number(data, "amplitude", 1.0), _number(data, "offset", 0.0))
        if self.period <= 0:
            raise ValueError(f"wobble period must be > 0 frames, got {self.period}")
        _no_other_keys(data, {"wobble", "period", "amplitude", "offset"})

    def _lattice(self, i: int, octave: int) -> float:
        digest = hashlib.sha256(f"{self.seed}/{octave}/{i}".encode()).digest()
        return int.from_bytes(digest[:8], "little") / 2**64 * 2 - 1

    def value(self, frame: float) -> np.ndarray:
        total = 0.0
        for octave, (scale, weight) in enumerate(((1.0, 2 / 3), (0.5, 1 / 3))):
            x = frame / (self.period * scale)
            i = math.floor(x)
            f = x - i
            f = f * f * f * (f * (f * 6 - 15) + 10)
            a, b = self._lattice(i, octave), self._lattice(i + 1, octave)
            total += weight * (a + (b - a) * f)
        return np.asarray(self.offset + self.amplitude * total, np.float64)

    def extent(self) -> list[tuple[float, Any, float]]:
        return [(0.0, np.asarray(self.offset - abs(self.amplitude)), 0.0),
                (0.0, np.asarray(self.offset + abs(self.amplitude)), 0.0)]


def _number(data: dict[str, Any], key: str, default: float) -> float:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"'{key}' must be a number, got {value!r}")
    return float(value)


def _no_other_keys(data: dict[str, Any], allowed: set[str]) -> None:
    extra = sorted(set(data) - allowed)
    if extra:
        raise ValueError(f"unknown schedule key(s) {extra}; allowed: {', '.join(sorted(allowed))}")


def _as_numbers(value: Any) -> np.ndarray:
    if isinstance(value, bool) or not isinstance(value, (int, float, list, tuple)):
        raise ValueError(f"value {value!r} is not a number")
    out = np.asarray(value, np.float64)
    if not np.all(np.isfinite(out)):
        raise ValueError(f"value {value!r} is not a finite number")
    return out


def parse(data: dict[str, Any], convert: Callable[[Any], np.ndarray] = _as_numbers) -> _Shape:
    """A schedule's curve; ValueError names what is wrong with the data."""
    markers = [m for m in MARKERS if m in data]
    if len(markers) != 1:
        raise ValueError("a schedule names exactly one of keyframes, wave, wobble")
    if markers[0] == "keyframes":
        return _Keyframes(data, convert)
    return _Wave(data) if markers[0] == "wave" else _Wobble(data)


# -- binding to a param ---------------------------------------------------------------------------

class Curve:
    """A schedule validated against its param: ``at(frame)`` is the value the node receives."""

    def __init__(self, data: dict[str, Any], shape: _Shape, kind: str, alpha: bool = False):
        self.data = data
        self.shape = shape
        self.kind = kind
        self.alpha = alpha

    def at(self, frame: int) -> Any:
        v = self.shape.value(frame)
        if self.kind == "int":
            return int(round(float(v)))
        if self.kind == "float":
            return float(v)
        if self.kind == "color":
            return tuple(float(c) for c in np.clip(v, 0.0, 1.0))
        if self.kind == "ints":
            return [int(round(float(c))) for c in v]
        return [float(c) for c in v]

    def to_data(self) -> dict[str, Any]:
        return dict(self.data)

    def __repr__(self) -> str:
        return f"<schedule {self.data}>"


def bind(param: Any, data: dict[str, Any], where: str,
         parse_color: Callable[[Any], tuple[float, ...]]) -> Curve:
    """Validate schedule ``data`` for ``param`` (a :class:`artflow.params.Param`); ``where`` names
    the node and param, ``parse_color`` reads a colour. Every value the curve reaches must be one
    the param allows."""

    if param.kind not in SCHEDULABLE:
        raise ParamError(f"{where} cannot take a schedule: only number, colour and number-list params "
                         f"change over frames ({where.split()[-1]} takes {param.allowed()})")
    marker = next((m for m in MARKERS if m in data), "")
    if param.kind in ("color", "floats", "ints") and marker != "keyframes":
        raise ParamError(f"{where}: a {marker} gives one number; a {param.kind} param takes keyframes")

    def convert(value: Any) -> np.ndarray:
        if param.kind == "color":
            try:
                rgba = parse_color(value)
            except (TypeError, ValueError):
                raise ValueError(f"keyframe value {value!r} is not a colour") from None
            return np.asarray(rgba if len(rgba) == 4 else (*rgba, 1.0), np.float64)
        out = _as_numbers(value)
        if param.kind in ("floats", "ints"):
            if out.ndim != 1 or (param.length is not None and len(out) != param.length):
                n = f"{param.length} " if param.length else ""
                raise ValueError(f"keyframe value {value!r} is not a list of {n}numbers")
        elif out.ndim != 0:
            raise ValueError(f"keyframe value {value!r} is not a number")
        return out

    try:
        shape = parse(data, convert)
    except ValueError as exc:
        raise ParamError(f"{where}: {exc}") from None
    alpha = False
    if param.kind == "color":
        alpha = any(len(parse_color(v)) == 4 for v in shape.raw)  # type: ignore[attr-defined]
        if not alpha:
            shape.values = [v[:3] for v in shape.values]  # type: ignore[attr-defined]
    for frame, value, _ in shape.extent():
        _check_range(param, value, frame, where)
    return Curve(dict(data), shape, param.kind, alpha)


def _check_range(param: Any, value: np.ndarray, frame: float, where: str) -> None:
    lo, hi = param.min, param.max
    if param.kind == "color":
        lo, hi = 0.0, 1.0
    flat = np.atleast_1d(value)
    bad = [v for v in flat if (lo is not None and v < lo - 1e-9) or (hi is not None and v > hi + 1e-9)]
    if bad:
        at = int(frame) if float(frame).is_integer() else round(float(frame), 2)
        shown = round(float(bad[0]) * (255 if param.kind == "color" else 1), 4)
        raise ParamError(f"{where} reaches {shown:g} at frame {at}, outside what it allows: "
                         f"use {param.allowed()}")


def at_frame(params: dict[str, Any], frame: int) -> dict[str, Any]:
    """A node's validated params with every schedule evaluated at ``frame``."""
    return {k: (v.at(frame) if isinstance(v, Curve) else v) for k, v in params.items()}


def has_curves(params: dict[str, Any]) -> bool:
    return any(isinstance(v, Curve) for v in params.values())
