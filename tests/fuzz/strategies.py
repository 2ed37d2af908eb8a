"""Hypothesis strategies for hostile inputs: graph JSON built from the node registry (params near
and outside their ranges, bad refs, cycles, deep nesting, huge sizes) and gallery specs in TOML."""

from __future__ import annotations

import json
import math
import os
from functools import cache
from typing import Any

from hypothesis import strategies as st

#: node types whose in-range work is cheap on a tiny canvas (others appear, drawn less often)
CHEAP_CATEGORIES = {"generate", "color", "filter", "transform", "composite", "layout", "annotate", "io"}
#: ARTFLOW_FUZZ_LEVEL=0|1|2 fixes how hostile generated graphs are (else a mix)
LEVEL = os.environ.get("ARTFLOW_FUZZ_LEVEL", "")
#: node types a clean graph leaves out (they need files the fuzz inputs do not have)
LEVEL0_SKIP = {"video.load"}
#: params that set how much work an iterative generator does
WORK_PARAMS = {"lines", "steps", "cells", "octaves", "relax", "max_shapes", "iterations"}
SIZE_PARAMS = {"width", "height", "size", "count", "tile", "cols", "rows", "columns", "frames"}
ODD_TEXT = ["", " ", "\u2028", "a\u2029b", "x\ny", "\r", "\x00", "\x85", "é漢🎨", "{", "}", "{seed",
            "{nope}", "%s", "../", "..", "/", "\\", "nan", "inf", "-1", "1e309", "a" * 5000]
ODD_VALUES = [None, True, False, 0, -1, 1.5, -0.0, 2**63, -(2**63), 10**30, 1e308, math.nan, math.inf,
              -math.inf, "", "x", [], {}, [1, 2], {"a": 1}, [[[[]]]]]


@cache
def registry() -> list[dict[str, Any]]:
    """Descriptions of every registered node type (loaded once)."""
    from artflow.plugins import get_plugins

    return [spec.describe() for spec in get_plugins().nodes]


@cache
def model_names() -> list[str]:
    from artflow.plugins import get_plugins

    try:
        return sorted({m.name for m in get_plugins().models})
    except Exception:  # noqa: BLE001 - the fuzzer still works without models
        return []


def one_in(n: int) -> st.SearchStrategy[bool]:
    """True about once in ``n`` draws (st.integers would favour its bounds)."""
    return st.sampled_from([False] * (max(1, int(n)) - 1) + [True])


def roll(n: int) -> st.SearchStrategy[int]:
    """An integer in [0, n): the high values are the ordinary branches, and hypothesis leans
    towards the first element of a sampled_from, so the order is reversed."""
    return st.sampled_from(range(n - 1, -1, -1))


def odd_text() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(ODD_TEXT), st.text(max_size=12))


def deep(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


@st.composite
def param_value(draw: st.DrawFn, name: str, decl: dict[str, Any], ctx: dict[str, Any]) -> Any:
    """A value for one param: usually valid and cheap, often at or past an edge, sometimes absurd."""
    kind = decl.get("type")
    huge = ctx["huge"]
    level = ctx["level"]
    if level == 1 and draw(one_in(14 + 1)):
        level = 2
    if level == 0:
        return draw(clean_value(name, decl, ctx))
    dice = draw(roll(100))
    if dice < 6:
        return draw(st.sampled_from(ODD_VALUES))
    if dice < 8:
        return deep(draw(st.sampled_from([3, 12, 40, 400])))
    if dice < 10:
        return draw(odd_text())
    lo, hi = decl.get("min"), decl.get("max")
    if kind in ("int", "float"):
        lo = -1000 if lo is None else lo
        hi = 1000 if hi is None else hi
        cheap_hi = lo + (24 if name in SIZE_PARAMS else 16)
        choices = [lo, min(hi, cheap_hi), decl.get("default") if decl.get("default") is not None else lo]
        edge = draw(roll(10))
        if edge == 0:
            value = draw(st.sampled_from([lo - 1, hi + 1, -(10**9), 10**12]))
        elif edge == 1 and (huge or name not in SIZE_PARAMS):
            value = hi if huge else min(hi, lo + 64)
        elif edge == 2:
            value = draw(st.sampled_from(choices))
        else:
            value = draw(st.integers(int(lo), int(min(hi, cheap_hi))))
        if name in ("count", "frames") and not huge:
            value = min(value, 3) if isinstance(value, int) and lo <= value <= hi else value
        if kind == "float":
            if draw(one_in(9 + 1)):
                return draw(st.sampled_from([math.nan, math.inf, -math.inf, 1e-300, hi + 1e-9]))
            return float(value) + draw(st.sampled_from([0.0, 0.25, 0.5]))
        return value
    if kind == "bool":
        return draw(st.sampled_from([True, False, True, "true", 1, 0, None]))
    if kind == "choice":
        options = decl.get("choices") or ["x"]
        return draw(st.one_of(st.sampled_from(options), st.sampled_from(options),
                              st.sampled_from([o.upper() for o in options if isinstance(o, str)] or ["X"]),
                              odd_text()))
    if kind == "color":
        return draw(st.sampled_from(["#ff0000", "#00ff0080", "red", "#123", "#12345", "rgb(1,2,3)",
                                     [1, 0, 0], [1.5, -1, 0], "", "transparent", "#gggggg", None]))
    if kind in ("str",):
        return draw(st.one_of(st.text(max_size=20), odd_text()))
    if kind in ("strings",):
        return draw(st.one_of(st.lists(st.text(max_size=8), max_size=4), st.just([]),
                              st.lists(odd_text(), max_size=3), st.just(["#ff0000", "#0000ff"])))
    if kind in ("ints", "floats"):
        n = decl.get("length") or draw(st.integers(0, 4))
        elems = st.integers(-5, 40) if kind == "ints" else st.one_of(st.floats(-2, 40), st.just(math.nan))
        return draw(st.lists(elems, min_size=max(0, n - 1), max_size=n + 1))
    if kind == "path":
        return draw(st.sampled_from(ctx["paths"]))
    if kind == "model":
        return draw(st.sampled_from(model_names() + ["nope", "../x.onnx", "/etc/passwd", "a.onnx", ""]))
    return draw(st.sampled_from(ODD_VALUES))


VALID_INPUTS = ["../inputs/a.png", "../inputs/b.png", "../inputs/*.png", "../inputs/anim.gif",
                "../inputs/c.jpg"]
VALID_SAVES = ["out.png", "pics/{index}.png", "{name}-{seed}.jpg", "a.webp", "sub/x-{index}.png"]


@st.composite
def clean_value(draw: st.DrawFn, name: str, decl: dict[str, Any], ctx: dict[str, Any]) -> Any:
    """A valid, cheap value (None: leave the param at its default)."""
    kind = decl.get("type")
    lo, hi = decl.get("min"), decl.get("max")
    if kind in ("int", "float"):
        lo = 0 if lo is None else lo
        hi = lo + 100 if hi is None else hi
        if ctx.get("big") and (name in SIZE_PARAMS or name in WORK_PARAMS) and draw(one_in(2)):
            return hi if kind == "int" else float(hi)  # in range, far over the memory or work budget
        top = min(hi, lo + (3 if name in ("count", "frames") else 24 if name in SIZE_PARAMS else 12))
        if kind == "int":
            return draw(st.integers(int(math.ceil(lo)), int(max(math.ceil(lo), math.floor(top)))))
        return draw(st.floats(lo, max(lo, top), allow_nan=False, allow_infinity=False))
    if kind == "bool":
        return draw(st.booleans())
    if kind == "choice":
        return draw(st.sampled_from(decl.get("choices") or [decl.get("default")]))
    if kind == "color":
        return draw(st.sampled_from(["#ff0000", "#00ff0080", "#123", "#2a6f97"]))
    if kind == "str":
        return draw(st.sampled_from(["", "hi", "é漢", "seed {seed}", "{index}"]))
    if kind == "path":
        return draw(st.sampled_from(ctx["valid_paths"])) if ctx["valid_paths"] else decl.get("default")
    return decl.get("default")


INPUT_PATHS = ["../inputs/a.png", "../inputs/b.png", "../inputs/c.jpg", "../inputs/anim.gif",
               "../inputs/*.png", "../inputs/**/*.png", "../inputs/corrupt.png", "../inputs/text.png",
               "../inputs/dir.png", "../inputs/bomb.png", "../inputs/missing.png", "missing/*.jpg",
               "", "/", "/etc/passwd", "../inputs/[", "\u2028.png"]
SAVE_PATHS = ["out.png", "pics/{index}.png", "{name}-{seed}.jpg", "a.webp", "../escape.png",
              "../../escape.png", "/tmp/artflow-fuzz-escape.png", "a/../../escape.png", "x.txt", "",
              ".png", "{nope}.png", "{index:>1000}.png", "anim.gif", "\u2028.png", "sub/",
              "%2e%2e/x.png", "a" * 300 + ".png"]


@st.composite
def graph_dict(draw: st.DrawFn, *, huge: bool = False, max_nodes: int = 6,
               cheap_only: bool = False) -> Any:
    """A graph as JSON data: mostly well-formed from real node types, with hostile details."""
    nodes_desc = registry()
    cheap = [d for d in nodes_desc if d["category"] in CHEAP_CATEGORIES]
    # 0: everything valid and cheap; 1: now and then one odd value; 2: hostile throughout
    level = int(LEVEL) if LEVEL else draw(st.sampled_from([0, 0, 1, 1, 2]))
    odd = (lambda k: False) if level == 0 else (lambda k: draw(one_in(4 * k if level == 1 else k + 1)))
    big = huge and level == 0 and draw(one_in(5))  # a valid graph asking for far too much
    n = draw(st.integers(1, max_nodes))
    plain = st.from_regex(r"[a-z][a-z0-9_]{0,5}", fullmatch=True)
    ids = draw(st.lists(plain if not odd(5) else st.one_of(plain, st.sampled_from(
        ["a.b", "", "1x", "é", "x" * 200, "-", "_"])), min_size=n, max_size=n, unique=True))
    nodes: dict[str, Any] = {}
    made: list[tuple[str, dict[str, Any]]] = []
    for node_id in ids:
        pool = cheap if cheap_only or level == 0 or draw(roll(10)) < 8 else nodes_desc
        if level == 0:
            have = {o["type"] for _, d in made for o in d["outputs"]}
            pool = [d for d in pool if d["name"] not in LEVEL0_SKIP
                    and all(s.get("optional") or s["type"] in have for s in d["inputs"])] or pool
        if odd(10):
            type_name = draw(st.sampled_from(["filter.blurr", "", "nope", "image.LOAD", "a" * 300]))
            desc: dict[str, Any] = {"inputs": [], "params": {}, "outputs": []}
        else:
            desc = draw(st.sampled_from(pool))
            type_name = desc["name"]
        body: dict[str, Any] = {"type": type_name}
        inputs: dict[str, Any] = {}
        for socket in desc["inputs"]:
            dice = draw(roll(20)) if odd(1) else 19
            if dice == 0:
                continue  # left unconnected
            typed = [(m, o["name"]) for m, d in made for o in d["outputs"] if o["type"] == socket["type"]]
            if dice == 1:
                inputs[socket["name"]] = draw(st.sampled_from(["ghost", "", "a.b.c", ids[-1], node_id,
                                                               f"{ids[0]}.nope"]))
            elif dice == 2 and made:
                inputs[socket["name"]] = draw(st.sampled_from([m for m, _ in made]))  # maybe wrong type
            elif dice == 3:
                inputs[socket["name"]] = draw(st.sampled_from(ids))  # later nodes: cycles
            elif typed:
                src, out = draw(st.sampled_from(typed))
                inputs[socket["name"]] = src if draw(st.booleans()) else f"{src}.{out}"
            elif made:
                inputs[socket["name"]] = made[-1][0]
        if odd(10):
            inputs[draw(st.sampled_from(["bogus", "image2"]))] = ids[0]
        if odd(10):
            inputs["image"] = draw(st.sampled_from([5, None, ["a"], {"x": 1}]))
        params: dict[str, Any] = {}
        saves = type_name.endswith((".save", ".save_animation"))
        ctx = {"huge": huge, "level": level, "big": big, "paths": SAVE_PATHS if saves else INPUT_PATHS,
               "valid_paths": VALID_SAVES if saves else VALID_INPUTS if type_name == "image.load" else []}
        for pname, decl in desc["params"].items():
            required = "default" not in decl or (decl.get("default") is None and not decl.get("optional"))
            if not required and draw(one_in(2 + 1)):
                continue
            value = draw(param_value(pname, decl, ctx))
            if value is not None or level:
                params[pname] = value
        if odd(10):
            params[draw(st.sampled_from(["radius2", "image", "x" * 50, ""]))] = 1
        if inputs:
            body["inputs"] = inputs
        if params:
            body["params"] = params
        if odd(20):
            body[draw(st.sampled_from(["extra", "Type", "input"]))] = {}
        nodes[node_id] = body
        made.append((node_id, desc))
    graph: Any = {"artflow": 1, "seed": draw(st.integers(0, 2**31)), "nodes": nodes}
    mutation = draw(roll(40)) if level == 2 else 39
    if mutation == 0:
        graph["artflow"] = draw(st.sampled_from([2, "1", None, 1.0, True]))
    elif mutation == 1:
        graph["seed"] = draw(st.sampled_from([-1, 2**70, "7", 1.5, None, True, math.nan]))
    elif mutation == 2:
        graph["meta"] = draw(st.sampled_from([[], "x", {"k": deep(50)}, {"\u2028": "\u2029"}]))
    elif mutation == 3:
        graph["nodes"] = draw(st.sampled_from([{}, [], None, "nodes"]))
    elif mutation == 4:
        graph = draw(st.sampled_from([[], None, 1, "graph", [graph]]))
    elif mutation == 5:
        graph["extra"] = 1
    return graph


@st.composite
def graph_text(draw: st.DrawFn, **kwargs: Any) -> str:
    """Graph JSON text, now and then truncated, doubled or deeply nested."""
    data = draw(graph_dict(**kwargs))
    text = json.dumps(data, allow_nan=True)
    dice = draw(roll(80))
    if dice == 0:
        return text[: draw(st.sampled_from(range(len(text) + 1)))]
    if dice == 1:
        depth = draw(st.sampled_from([30, 200, 990, 5000]))
        return ('{"artflow": 1, "nodes": {"a": {"type": "generate.solid", "params": {"color": '
                + "[" * depth + "]" * depth + "}}}}")
    if dice == 2:
        return text.replace('"', "'", 1)
    return text


@st.composite
def set_option(draw: st.DrawFn) -> str:
    """A ``--set NODE.PARAM=VALUE`` argument: usually aimed at a common node and param."""
    target = draw(st.sampled_from(["a.width", "n.count", "s.path", "ghost.x", "a", ".x", "a.", "a.b.c",
                                   "save.path", "blur.radius"]))
    value = draw(st.sampled_from(["5", "-1", "1e309", "NaN", "[1, 2]", '{"a": 1}', "true", "null", "",
                                  "../escape.png", "x" * 300, "[" * 990 + "]" * 990, "\u2028", '"str"']))
    return target + draw(st.sampled_from(["=", "", "=="])) + value


# -- gallery specs --------------------------------------------------------------------------------

def toml_str(text: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped, the rest raw."""
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        elif 0xD800 <= ord(ch) <= 0xDFFF:
            out.append("?")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def toml_value(value: Any, depth: int = 0) -> str:
    """A value as TOML (inline tables and arrays), including nan/inf, which TOML allows; nesting
    past 60 levels is cut (the deep-TOML case is written by hand in :func:`spec_source`)."""
    if depth > 60:
        return '"too deep"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return toml_str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v, depth + 1) for v in value if v is not None) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{toml_str(str(k))} = {toml_value(v, depth + 1)}" for k, v in value.items()
                               if v is not None) + "}"
    return '""'


def spec_text(doc: dict[str, Any]) -> str:
    """TOML for a spec: top-level scalars and arrays, then tables."""
    lines = []
    for key, value in doc.items():
        if not isinstance(value, dict) and value is not None:
            lines.append(f"{toml_str(key)} = {toml_value(value)}")
    for key, value in doc.items():
        if isinstance(value, dict):
            lines.append(f"[{toml_str(key)}]")
            for k, v in value.items():
                if v is not None:
                    lines.append(f"{toml_str(str(k))} = {toml_value(v)}")
    return "\n".join(lines) + "\n"


TINY_GRAPH = {"artflow": 1, "seed": 0, "nodes": {
    "art": {"type": "generate.shapes", "params": {"width": 12, "height": 10}},
    "look": {"type": "color.posterize", "inputs": {"image": "art"}},
    "load": {"type": "image.load", "params": {"path": "../inputs/a.png"}},
}}
NAME_TEMPLATES = ["{seed}", "{seed:03d}", "{index}-{name}", "{levels}", "{art.width}", "{nope}", "{seed:x}",
                  "{seed!r}", "{", "}", "{}", "../{seed}", "/abs/{seed}", "{key}", "\u2028{seed}", "a" * 500,
                  "{seed:>300}", "{width}{height}", "{path}", ".{seed}", "{seed:.2f}", "{seed:%}"]


VALID_NAMES = ["{seed}", "{seed:03d}", "{index}-{name}", "item-{index}", "{key}", "s{seed}-{index}"]
VALID_AXES = [("seed", [1, 2]), ("seed", {"from": 3, "to": 5}), ("art.width", [8, 12]),
              ("art.height", {"from": 6, "to": 10, "step": 4}), ("look.levels", [2, 5]),
              ("art.palette", ["vivid", "pastel"]), ("load.path", {"glob": "../inputs/*.png"}),
              ("art.background", ["solid", "noise"]), ("art.max_shapes", [0, 3])]


@st.composite
def matrix_axis(draw: st.DrawFn, huge: bool) -> tuple[str, Any]:
    key = draw(st.sampled_from(["seed", "art.width", "art.height", "look.levels", "art.palette",
                                "load.path", "art.background", "ghost.x", "art", "art.nope", "look.image",
                                "", "art.count", "art.max_shapes"]))
    dice = draw(roll(10))
    if dice < 3:
        values: Any = draw(st.lists(st.one_of(st.integers(-3, 24), st.sampled_from(
            ["vivid", "pastel", "../inputs/a.png", "../inputs/*.png", "x", 2.5])), min_size=0, max_size=4))
    elif dice < 6:
        start = draw(st.one_of(st.integers(-2, 20), st.sampled_from([0.5, math.nan, math.inf])))
        stop = draw(st.one_of(st.integers(-2, 24),
                              st.sampled_from([math.nan, -math.inf, 10**9 if huge else 30])))
        step = draw(st.sampled_from([1, 2, 0, -1, 0.5, 1e-9, math.nan, None]))
        values = {"from": start, "to": stop, "step": step}
    elif dice < 8:
        values = {"glob": draw(st.sampled_from(["../inputs/*.png", "../inputs/**/*", "nothing/*.png", "",
                                                "/etc/*", "../inputs/["]))}
    elif dice == 8:
        values = draw(st.sampled_from([[], {}, "x", 3, {"from": 1}, {"glob": 1}, [[1, 2], [3]], deep(20)]))
    else:
        values = draw(st.sampled_from([True, [True, False], [1, "a", None], {"from": 1, "to": 3, "x": 1}]))
    return key, values


@st.composite
def spec_doc(draw: st.DrawFn, *, huge: bool = False, renderable: bool = False) -> dict[str, Any]:
    """A gallery spec (as data for :func:`spec_text`), the graph inline or in a file: valid and
    small (level 0), with one odd part (1), or hostile throughout (2)."""
    level = 0 if renderable and draw(one_in(2)) else draw(st.sampled_from([0, 1, 1, 2]))
    odd = (lambda k: False) if level == 0 else (lambda k: draw(one_in(4 * k if level == 1 else k + 1)))
    doc: dict[str, Any] = {}
    if draw(one_in(2)):
        doc["title"] = draw(st.sampled_from(["<script>x</script>", "\u2028", 5])) if odd(3) else \
            draw(st.text(max_size=10))
    graph_roll = draw(roll(10)) if odd(1) else 0
    if graph_roll < 6:
        doc["graph"] = json.loads(json.dumps(TINY_GRAPH)) if draw(roll(3)) else "g.json"
        if odd(2):
            doc["graph"] = draw(graph_dict(huge=huge, max_nodes=3, cheap_only=True))
    elif graph_roll < 8:
        doc["graph"] = draw(st.sampled_from(["g.json", "missing.json", "../inputs/dir.png", "/etc/passwd",
                                             "../inputs/a.png", ""]))
    elif graph_roll == 8:
        doc["graph"] = draw(st.sampled_from([5, [], True]))
    axes = [draw(matrix_axis(huge)) if odd(1) else draw(st.sampled_from(VALID_AXES))
            for _ in range(draw(roll(4)))]
    if renderable:
        axes = [("seed", draw(st.lists(st.integers(0, 99), min_size=1, max_size=3, unique=True)))]
        if draw(st.booleans()):
            levels = draw(st.lists(st.integers(2, 8), min_size=1, max_size=2, unique=True))
            axes.append(("look.levels", levels))
    if axes or draw(st.booleans()):
        doc["matrix"] = dict(axes)
    if draw(one_in(3)) or renderable:
        doc["name"] = draw(st.sampled_from(NAME_TEMPLATES)) if odd(1) else draw(st.sampled_from(VALID_NAMES))
    if draw(one_in(3)):
        doc["save"] = draw(st.sampled_from([["ghost"], [], [1], ["load"], "look"])) if odd(2) else \
            draw(st.sampled_from([["look"], ["art", "look"], ["art"]]))
    if renderable and "save" not in doc:
        doc["save"] = ["look"]
    if draw(one_in(4)):
        doc["captions"] = {"template": draw(st.sampled_from(NAME_TEMPLATES + ["{caption}", "seed {seed}"]))
                           if odd(1) else "seed {seed}"}
    if draw(one_in(5)):
        odd_thumbs = [{"size": 8}, {"size": 10**9}, {"format": "gif"}, {"extra": 1}]
        good_thumbs = [{"size": 16}, {"format": "webp", "size": 32}]
        doc["thumbnails"] = draw(st.sampled_from(odd_thumbs if odd(1) else good_thumbs))
    if odd(10):
        doc["unknown"] = 1
    return doc


@st.composite
def spec_source(draw: st.DrawFn, **kwargs: Any) -> str:
    """Spec TOML text, now and then mangled into invalid TOML."""
    text = spec_text(draw(spec_doc(**kwargs)))
    dice = draw(roll(40))
    if dice == 0:
        return text[: draw(st.sampled_from(range(len(text) + 1)))]
    if dice == 1:
        return text + "\n[matrix]\n"  # a table defined twice
    if dice == 2:
        return 'graph = "g.json"\n[matrix]\n"art.width" = ' + "[" * 990 + "]" * 990 + "\n"
    if dice == 3:
        return "\x00\xff" + text
    return text
