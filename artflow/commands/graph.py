"""`artflow graph FILE --svg OUT`: draw a graph (JSON, an artflow PNG, or a gallery spec's graph)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from artflow.graph import Graph


def load_any_graph(path: Path, allow: tuple[str, ...] = ()) -> Graph:
    """The graph a JSON file, an artflow PNG (read policy: ``allow``) or a gallery spec (TOML) holds."""
    from artflow.graph_files import load_graph

    if path.suffix.lower() == ".toml":
        from artflow.gallery.spec import load_spec

        return load_spec(path).graph
    return load_graph(path, allow)


@click.command("graph")
@click.argument("graph_file", metavar="GRAPH|PNG|SPEC.toml", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--svg", "svg_out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              metavar="OUT.svg", help="Write the diagram here (default: print the SVG).")
@click.option("--title", default=None, help="A title above the diagram (default: the file name).")
@click.option("--allow-path", "allow", multiple=True, metavar="DIR",
              help="A folder the graph a PNG carries may read besides the PNG's own (repeatable).")
def graph(graph_file: Path, svg_out: Path | None, title: str | None, allow: tuple[str, ...]) -> None:
    """Draw a graph as a layered diagram: node ids and types, typed sockets, params.

    \b
    artflow graph sketch.json --svg sketch.svg
    artflow graph gallery/showcase.toml --svg showcase.svg
    artflow graph out/picture.png --svg picture-graph.svg
    """
    from artflow.diagram import graph_svg
    from artflow.imaging import atomic_write_bytes

    g = load_any_graph(graph_file, allow)
    text = graph_svg(g, title=title if title is not None else graph_file.name)
    if svg_out is None:
        click.echo(text, nl=False)
        return
    atomic_write_bytes(svg_out, text.encode())
    click.echo(f"wrote {svg_out} ({len(g)} nodes)")
