"""Code fingerprints: a node's cache key changes when its implementation changes.

The fingerprint hashes the node function's code object (bytecode, constants, names — not line
numbers, so editing a neighbour above it changes nothing) together with the code of every
function and class *of the same module* it reaches through global names, and the values of
simple module constants it reads. Editing one node re-runs that node (and whatever calls the
edited helper), never its untouched neighbours. ``version=`` stays for deliberate invalidation.
"""

from __future__ import annotations

import hashlib
import inspect
import types
from collections.abc import Callable
from typing import Any

_SIMPLE = (int, float, str, bytes, bool, complex, type(None))


def code_fingerprint(*functions: Callable[..., Any] | None) -> str:
    """A short hex digest of the given functions' code and the same-module code they use."""
    h = hashlib.sha256()
    seen: set[int] = set()
    for fn in functions:
        if fn is not None:
            _function(fn, h, seen)
    return h.hexdigest()[:24]


def _function(fn: Any, h: Any, seen: set[int]) -> None:
    fn = inspect.unwrap(fn)
    if id(fn) in seen:
        return
    seen.add(id(fn))
    code = getattr(fn, "__code__", None)
    if code is None:
        h.update(repr(fn).encode())
        return
    module = getattr(fn, "__module__", None)
    _code(code, h)
    for default in (fn.__defaults__ or ()) + tuple((fn.__kwdefaults__ or {}).values()):
        if isinstance(default, _SIMPLE):
            h.update(repr(default).encode())
    scope = getattr(fn, "__globals__", {})
    for name in _names(code):
        if name not in scope:
            continue
        value = scope[name]
        if isinstance(value, _SIMPLE) or (isinstance(value, tuple) and all(isinstance(v, _SIMPLE)
                                                                            for v in value)):
            h.update(f"{name}={_stable_repr(value)}".encode())
        elif isinstance(value, types.FunctionType) and value.__module__ == module:
            _function(value, h, seen)
        elif isinstance(value, type) and value.__module__ == module and id(value) not in seen:
            seen.add(id(value))
            for attr in sorted(vars(value)):
                member = inspect.unwrap(getattr(value, attr)) if callable(getattr(value, attr)) else None
                if isinstance(member, types.FunctionType):
                    _function(member, h, seen)


def _code(code: types.CodeType, h: Any) -> None:
    h.update(code.co_code)
    h.update(repr(code.co_names).encode())
    h.update(repr(code.co_varnames).encode())
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            _code(const, h)
        else:
            h.update(_stable_repr(const).encode())


def _stable_repr(value: Any) -> str:
    """repr that does not depend on the process's string-hash seed (sets are sorted)."""
    if isinstance(value, (frozenset, set)):
        return "{" + ",".join(sorted(_stable_repr(v) for v in value)) + "}"
    if isinstance(value, tuple):
        return "(" + ",".join(_stable_repr(v) for v in value) + ")"
    return repr(value)


def _names(code: types.CodeType) -> list[str]:
    """Global names a code object (and the code nested in it) reads."""
    out = list(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            out.extend(_names(const))
    return list(dict.fromkeys(out))
