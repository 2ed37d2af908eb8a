"""The graph diagram (`artflow graph`, Graph._repr_svg_) and the one-line reprs."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import artflow as af
from artflow.diagram import graph_svg, type_color

ROOT = Path(__file__).resolve().parents[2]
SVG = "{http://www.w3.org/2000/svg}"


def _small() -> af.Graph:
    g = af.Graph(seed=3)
    art = g.add("generate.voronoi", "art", width=64, height=64, cells=12)
    mask = g.add("mask.from_image", "ink", image=art, threshold=0.4)
    g.add("composite.paste", "mix", base=art, top=art, mask=mask, x=2, y=3, opacity=0.5)
    return g


def test_the_diagram_is_valid_svg_with_every_node_socket_and_param() -> None:
    svg = _small()._repr_svg_()
    root = ET.fromstring(svg)
    nodes = [g.get("data-node") for g in root.iter(f"{SVG}g") if g.get("data-node")]
    assert nodes == ["art", "ink", "mix"]
    texts = [t.text for t in root.iter(f"{SVG}text")]
    for wanted in ("generate.voronoi", "mask.from_image", "composite.paste", "base", "top", "mask",
                   "cells = 12", "opacity = 0.5", "IMAGE", "MASK"):
        assert wanted in texts, wanted
    edges = [p for p in root.iter(f"{SVG}path")]
    assert len(edges) == 4  # art→ink, art→mix.base, art→mix.top, ink→mix.mask
    assert {e.get("stroke") for e in edges} == {type_color("IMAGE"), type_color("MASK")}


def test_layers_go_left_to_right_along_the_edges() -> None:
    svg = graph_svg(_small())
    root = ET.fromstring(svg)
    x = {}
    for g in root.iter(f"{SVG}g"):
        if g.get("data-node"):
            x[g.get("data-node")] = float(next(g.iter(f"{SVG}rect")).get("x"))
    assert x["art"] < x["ink"] < x["mix"]


def test_an_unknown_node_type_still_draws_and_text_is_escaped() -> None:
    g = af.Graph()
    a = g.add("nobody.has_this", "a", note="<b>&")
    g.add("filter.blur", "b", image=a, radius=2)
    svg = graph_svg(g)
    ET.fromstring(svg)  # well-formed: the param text was escaped
    assert "nobody.has_this" in svg and "&lt;b&gt;&amp;" in svg


def test_cli_draws_the_showcase_spec(artflow_cli, tmp_path: Path) -> None:
    out = tmp_path / "show.svg"
    proc = artflow_cli("graph", str(ROOT / "gallery" / "showcase.toml"), "--svg", str(out))
    assert proc.returncode == 0, proc.stderr
    root = ET.fromstring(out.read_text())
    nodes = {g.get("data-node") for g in root.iter(f"{SVG}g") if g.get("data-node")}
    assert nodes == {"scene", "styled", "found", "boxed", "kind", "digit", "read", "tiles", "ink",
                     "strokes", "signed", "poster"}


def test_reprs_are_one_line() -> None:
    g = _small()
    text = repr(g)
    assert "\n" not in text and text.startswith("<Graph seed=3, 3 nodes: art (generate.voronoi)")
    many = af.Graph()
    for i in range(40):
        many.add("generate.gradient", f"gradient_number_{i}")
    assert len(repr(many)) <= 120 and "\n" not in repr(many)
    assert repr(g.node("ink")) == "<node ink (mask.from_image)>"


def test_cli_draws_the_graph_a_png_carries(artflow_cli, tmp_path: Path) -> None:
    g = af.Graph(seed=1)
    art = g.add("generate.voronoi", "art", width=32, height=32, cells=5)
    g.add("image.save", "save", image=art, path="art.png")
    g.run(output_dir=tmp_path)
    proc = artflow_cli("graph", str(tmp_path / "art.png"))
    assert proc.returncode == 0, proc.stderr
    nodes = [g.get("data-node") for g in ET.fromstring(proc.stdout).iter(f"{SVG}g") if g.get("data-node")]
    assert nodes == ["art", "save"]


def test_a_long_edge_runs_in_its_own_lane_not_through_boxes() -> None:
    g = af.Graph()
    a = g.add("generate.voronoi", "a", width=32, height=32, cells=5)
    b = g.add("filter.blur", "b", image=a)
    c = g.add("filter.sharpen", "c", image=b)
    g.add("composite.blend", "d", base=c, top=a)  # a → d skips two layers
    root = ET.fromstring(graph_svg(g))
    rects = {}
    for node in root.iter(f"{SVG}g"):
        if node.get("data-node"):
            r = next(node.iter(f"{SVG}rect"))
            x, y = float(r.get("x")), float(r.get("y"))
            rects[node.get("data-node")] = (x, y, x + float(r.get("width")), y + float(r.get("height")))
    long_edge = next(p for p in root.iter(f"{SVG}path") if "a.image → d.top" in p.find(f"{SVG}title").text)
    runs = [seg for seg in long_edge.get("d").split() if seg.startswith("L")]
    assert len(runs) == 2  # one straight run through the lane of each layer it crosses
    for seg in runs:
        y = float(seg[1:].split(",")[1])
        for node in ("b", "c"):
            x0, y0, x1, y1 = rects[node]
            assert not (y0 - 1 <= y <= y1 + 1), (node, y, rects[node])
