"""A layered SVG diagram of a graph, drawn by artflow itself (no Graphviz): one box per node with
its id, type, typed input sockets on the left, typed outputs on the right and a params summary;
edges are curves coloured by the socket type they carry.

Layers are longest-path depths from the sources; the order inside a layer comes from a few
barycentre sweeps, which removes most crossings in the graphs people write by hand.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .graph import Graph

TYPE_COLORS = {
    "IMAGE": "#3b82c4", "MASK": "#8a8f98", "LATENT": "#9a5fc9", "LATENT_MAP": "#b04fb0",
    "LABELS": "#d08a16", "BOXES": "#d9463e", "NUMBER": "#2f9e55", "TEXT": "#6b7280", "POSES": "#0f9aa8",
}
NODE_W = 210
ROW = 17
HEAD = 40
PARAM_ROW = 14
MAX_PARAMS = 4
GAP_X = 90
GAP_Y = 26
PAD = 20
WAYPOINT_H = 12


_UNSHOWABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff\ud800-\udfff]")


def _shown(text: str) -> str:
    return _UNSHOWABLE.sub(lambda m: m.group().encode("unicode_escape", "backslashreplace").decode("ascii"),
                           str(text))


def escape(text: str) -> str:
    """Text made safe for SVG/XML: control characters, lone surrogates and non-characters (which
    XML cannot hold, and UTF-8 cannot encode) shown as ``\\xNN``/``\\udNNN``, then HTML-escaped."""
    return html.escape(_shown(text))


def type_color(name: str) -> str:
    """The colour of a socket type; unknown (plugin) types get a stable colour from their name."""
    if name in TYPE_COLORS:
        return TYPE_COLORS[name]
    hue = int(hashlib.sha256(name.encode()).hexdigest()[:4], 16) % 360
    return f"hsl({hue},55%,45%)"


@dataclass
class _Box:
    id: str
    type: str
    inputs: list[tuple[str, str]]  # (socket, type name)
    outputs: list[tuple[str, str]]
    params: list[str]
    layer: int = 0
    x: float = 0.0
    y: float = 0.0
    order: float = 0.0
    sources: list[tuple[str, str, str]] = field(default_factory=list)  # (input, src node, src output)
    via: dict[str, list[str]] = field(default_factory=dict)  # input -> waypoints of a long edge
    virtual: bool = False  # a waypoint: keeps a long edge's lane free in the layers it crosses

    @property
    def height(self) -> float:
        if self.virtual:
            return WAYPOINT_H
        rows = max(len(self.inputs), len(self.outputs), 1)
        return HEAD + rows * ROW + len(self.params) * PARAM_ROW + 10

    def in_y(self, name: str) -> float:
        if self.virtual:
            return self.y + WAYPOINT_H / 2
        idx = next((i for i, (n, _) in enumerate(self.inputs) if n == name), 0)
        return self.y + HEAD + idx * ROW + ROW / 2

    def out_y(self, name: str) -> float:
        if self.virtual:
            return self.y + WAYPOINT_H / 2
        idx = next((i for i, (n, _) in enumerate(self.outputs) if n == name), 0)
        return self.y + HEAD + idx * ROW + ROW / 2


def _short(value: Any, limit: int = 26) -> str:
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), default=str)
    text = _shown(text)  # cut what is drawn, escapes included, so it fits its box
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _boxes(graph: Graph, registry: Any = None) -> dict[str, _Box]:
    """Node boxes with socket types from the registry; unknown types still draw (untyped)."""
    if registry is None:
        try:
            from .plugins import get_plugins

            registry = get_plugins().nodes
        except Exception:  # noqa: BLE001 - a diagram never fails for a broken plugin set
            registry = None
    boxes: dict[str, _Box] = {}
    for inst in graph:
        spec = None
        if registry is not None:
            try:
                spec = registry.get(inst.type, node_id=inst.id)
            except Exception:  # noqa: BLE001 - unknown node type: drawn from the graph alone
                spec = None
        if spec is not None:
            ins = [(s.name, str(getattr(s.type, "name", s.type))) for s in spec.inputs
                   if s.name in inst.inputs or not s.optional]
            outs = [(s.name, str(getattr(s.type, "name", s.type))) for s in spec.outputs]
        else:
            ins = [(n, "?") for n in inst.inputs]
            outs = [("out", "?")]
        params = [f"{k} = {_short(v)}" for k, v in inst.params.items()]
        if len(params) > MAX_PARAMS:
            params = params[: MAX_PARAMS - 1] + [f"+{len(params) - MAX_PARAMS + 1} more"]
        box = _Box(inst.id, inst.type, ins, outs, params)
        for name, ref in inst.inputs.items():
            box.sources.append((name, ref.node, ref.output or ""))
            if name not in {n for n, _ in box.inputs}:
                box.inputs.append((name, "?"))
        boxes[inst.id] = box
    for box in boxes.values():  # default outputs ("node" means its first output)
        box.sources = [(n, s, o or (boxes[s].outputs[0][0] if s in boxes else "")) for n, s, o in box.sources]
    return boxes


def _layout(boxes: dict[str, _Box]) -> tuple[float, float]:
    ids = list(boxes)
    depth: dict[str, int] = {}

    def level(node_id: str, seen: frozenset[str] = frozenset()) -> int:
        if node_id in depth:
            return depth[node_id]
        if node_id in seen:  # a cycle: draw it anyway
            return 0
        srcs = [s for _, s, _ in boxes[node_id].sources if s in boxes]
        d = 1 + max((level(s, seen | {node_id}) for s in srcs), default=-1)
        depth[node_id] = d
        return d

    for n in ids:
        boxes[n].layer = level(n)
    for box in [boxes[n] for n in ids]:  # an edge across layers gets a waypoint in each
        for name, src, out_name in box.sources:
            if src not in boxes or box.layer - boxes[src].layer < 2:
                continue
            prev, chain = src, []
            for layer in range(boxes[src].layer + 1, box.layer):
                way = _Box(f"~{box.id}.{name}.{layer}", "", [], [], [], layer=layer, virtual=True)
                way.sources = [("in", prev, out_name)]
                boxes[way.id] = way
                chain.append(way.id)
                prev = way.id
            box.via[name] = chain
    ids = list(boxes)

    def preds(n: str) -> list[str]:
        b = boxes[n]
        return [b.via[name][-1] if b.via.get(name) else s for name, s, _ in b.sources if s in boxes]

    layers: dict[int, list[str]] = {}
    for n in ids:
        layers.setdefault(boxes[n].layer, []).append(n)
    for i, n in enumerate(ids):
        boxes[n].order = float(i)
    users: dict[str, list[str]] = {n: [] for n in ids}
    for n in ids:
        for s in preds(n):
            users[s].append(n)
    for sweep in range(4):  # barycentre ordering, down then up
        keys = sorted(layers) if sweep % 2 == 0 else sorted(layers, reverse=True)
        for k in keys:
            for n in layers[k]:
                near = preds(n) if sweep % 2 == 0 else users[n]
                if near:
                    boxes[n].order = sum(boxes[m].order for m in near) / len(near)
            layers[k].sort(key=lambda m: boxes[m].order)
            for i, m in enumerate(layers[k]):
                boxes[m].order = float(i)
    heights = {k: sum(boxes[n].height for n in ns) + GAP_Y * (len(ns) - 1) for k, ns in layers.items()}
    total_h = max(heights.values(), default=0.0)
    for k, ns in layers.items():
        y = PAD + (total_h - heights[k]) / 2
        for n in ns:
            boxes[n].x = PAD + k * (NODE_W + GAP_X)
            boxes[n].y = y
            y += boxes[n].height + GAP_Y
    width = PAD * 2 + (max(layers, default=0) + 1) * NODE_W + max(layers, default=0) * GAP_X
    return width, total_h + PAD * 2 + 18


def _edge_path(points: list[tuple[float, float]]) -> str:
    """Curves between layers, straight runs along a long edge's lanes."""
    d = f"M{points[0][0]:.1f},{points[0][1]:.1f}"
    for i in range(len(points) - 1):
        (x1, y1), (x2, y2) = points[i], points[i + 1]
        if i % 2:
            d += f" L{x2:.1f},{y2:.1f}"
        else:
            bend = max(40.0, (x2 - x1) / 2)
            d += f" C{x1 + bend:.1f},{y1:.1f} {x2 - bend:.1f},{y2:.1f} {x2:.1f},{y2:.1f}"
    return d


def graph_svg(graph: Graph, registry: Any = None, *, title: str | None = None,
              status: dict[str, str] | None = None) -> str:
    """The SVG text of a layered diagram of ``graph`` (node ids, types, typed sockets, params)."""
    boxes = _boxes(graph, registry)
    width, height = _layout(boxes)
    top = 28 if title else 0
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height + top:.0f}" '
        f'viewBox="0 0 {width:.0f} {height + top:.0f}" '
        'font-family="DejaVu Sans, Helvetica, Arial, sans-serif">',
        "<style>.id{font-weight:bold;font-size:13px;fill:#111}.ty{font-size:11px;fill:#555}"
        ".so{font-size:10.5px;fill:#222}.pa{font-size:10px;fill:#666;font-family:DejaVu Sans Mono,monospace}"
        ".lg{font-size:10px;fill:#444}</style>",
        '<rect width="100%" height="100%" fill="#fbfbfa"/>',
    ]
    if title:
        out.append(f'<text x="{PAD}" y="20" font-size="15" font-weight="bold" fill="#111">'
                   f"{escape(title)}</text>")
    out.append(f'<g transform="translate(0,{top})">')
    used: set[str] = set()
    for box in boxes.values():  # edges first, under the boxes
        for name, src, out_name in box.sources:
            if src not in boxes or box.virtual:
                continue
            s = boxes[src]
            ty = dict(s.outputs).get(out_name, "?")
            used.add(ty)
            points = [(s.x + NODE_W, s.out_y(out_name))]
            for way in (boxes[w] for w in box.via.get(name, [])):  # through its lane in each layer
                points += [(way.x, way.in_y("")), (way.x + NODE_W, way.in_y(""))]
            points.append((box.x, box.in_y(name)))
            out.append(f'<path d="{_edge_path(points)}" fill="none" stroke="{type_color(ty)}" '
                       f'stroke-width="2" stroke-opacity="0.8">'
                       f'<title>{escape(f"{src}.{out_name} → {box.id}.{name} ({ty})")}</title></path>')
    for box in boxes.values():
        if box.virtual:
            continue
        state = (status or {}).get(box.id)
        border = {"failed": "#d9463e", "ran": "#2f9e55", "cached": "#3b82c4"}.get(state or "", "#9aa0a6")
        out.append(f'<g class="node" data-node="{escape(box.id)}">')
        out.append(f'<rect x="{box.x:.1f}" y="{box.y:.1f}" width="{NODE_W}" height="{box.height:.1f}" rx="7" '
                   f'fill="#ffffff" stroke="{border}" stroke-width="1.5"/>')
        out.append(f'<rect x="{box.x:.1f}" y="{box.y:.1f}" width="{NODE_W}" height="{HEAD - 6}" rx="7" '
                   'fill="#eef1f5"/>')
        out.append(f'<text class="id" x="{box.x + 10:.1f}" y="{box.y + 15:.1f}">'
                   f"{escape(_short(box.id, 28))}</text>")
        out.append(f'<text class="ty" x="{box.x + 10:.1f}" y="{box.y + 29:.1f}">'
                   f"{escape(_short(box.type, 32))}</text>")
        for name, ty in box.inputs:
            used.add(ty)
            y = box.in_y(name)
            out.append(f'<circle cx="{box.x:.1f}" cy="{y:.1f}" r="4.5" fill="{type_color(ty)}" '
                       f'stroke="#fff" stroke-width="1"><title>{escape(f"{name}: {ty}")}</title></circle>')
            out.append(f'<text class="so" x="{box.x + 9:.1f}" y="{y + 3.5:.1f}">{escape(name)}</text>')
        for name, ty in box.outputs:
            used.add(ty)
            y = box.out_y(name)
            out.append(f'<circle cx="{box.x + NODE_W:.1f}" cy="{y:.1f}" r="4.5" fill="{type_color(ty)}" '
                       f'stroke="#fff" stroke-width="1"><title>{escape(f"{name}: {ty}")}</title></circle>')
            out.append(f'<text class="so" x="{box.x + NODE_W - 9:.1f}" y="{y + 3.5:.1f}" '
                       f'text-anchor="end">{escape(name)}</text>')
        py = box.y + HEAD + max(len(box.inputs), len(box.outputs), 1) * ROW + 8
        for line in box.params:
            out.append(f'<text class="pa" x="{box.x + 10:.1f}" y="{py:.1f}">{escape(line)}</text>')
            py += PARAM_ROW
        out.append("</g>")
    x = PAD
    for ty in sorted(used - {"?"}):  # legend of the socket types in use
        out.append(f'<circle cx="{x + 5}" cy="{height - 12:.1f}" r="4.5" fill="{type_color(ty)}"/>')
        out.append(f'<text class="lg" x="{x + 13}" y="{height - 8.5:.1f}">{escape(ty)}</text>')
        x += 22 + 7 * len(ty)
    out.append("</g></svg>")
    return "\n".join(out) + "\n"
