"""How graphs and run results look in a terminal and a notebook: one-line reprs, an HTML table of
output thumbnails with node names and timings, and ``result.show()``."""

from __future__ import annotations

import base64
import io
import sys
import tempfile
import webbrowser
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .graph import Graph
    from .result import RunResult

THUMB = 160
MAX_NODES = 12
MAX_ITEMS = 4


def _clip(text: str, limit: int = 110) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def graph_repr(graph: Graph) -> str:
    """``<Graph seed=7, 3 nodes: art (generate.voronoi), soft (filter.blur), …>`` on one line."""
    nodes = ", ".join(f"{n.id} ({n.type})" for n in graph)
    where = f" from {graph.source.name}" if graph.source else ""
    plural = "s" * (len(graph) != 1)
    return _clip(f"<Graph seed={graph.seed}{where}, {len(graph)} node{plural}: {nodes}") + ">"


def thumbnail_png(image: np.ndarray, size: int = THUMB) -> bytes:
    """One HWC float image (or mask) in [0, 1] as a small PNG."""
    from .imaging import to_pil

    arr = np.asarray(image, dtype=np.float32)
    if arr.ndim == 2:
        arr = arr[..., None]
    if arr.shape[-1] == 1:
        arr = np.repeat(arr, 3, axis=-1)
    pil = to_pil(arr)
    pil.thumbnail((size, size))
    buf = io.BytesIO()
    pil.save(buf, "PNG", compress_level=1)
    return buf.getvalue()


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode()


def _images_of(result: RunResult, node_id: str) -> list[tuple[str, np.ndarray]]:
    """(output name, batch) of each image-like output the result has without running anything."""
    spec = result.validated.specs[node_id]
    kinds = [s for s in spec.outputs if getattr(s.type, "name", str(s.type)) in ("IMAGE", "MASK")]
    if not kinds:
        return []
    outs = result.values.get(node_id)
    if outs is None:  # not computed by this run: a result never reads the cache for a picture
        return []
    return [(s.name, outs[s.name]) for s in kinds if s.name in outs]


def _files_of(result: RunResult, node_id: str) -> list[str]:
    spec = result.validated.specs[node_id]
    if not spec.writes_files or node_id not in result.values:
        return []
    out: list[str] = []
    for s in spec.outputs:
        if getattr(s.type, "name", str(s.type)) == "TEXT":
            out += [str(v) for v in result.values[node_id].get(s.name, [])]
    return out


def result_html(result: RunResult) -> str:
    """An HTML block: per node its status and seconds, thumbnails of the image outputs this run
    holds (a result never reads the cache or runs anything to draw), and the files written."""
    order = result.validated.order
    rows = []
    shown = 0
    for node_id in reversed(order):  # the last nodes are what people look at; keep them
        spec = result.validated.specs[node_id]
        state = str(result.status.get(node_id, ""))
        seconds = result.seconds.get(node_id)
        timing = f"{seconds:.3f}s" if seconds is not None else ""
        cells = []
        if shown < MAX_NODES:
            for name, batch in _images_of(result, node_id):
                for i, item in enumerate(batch[:MAX_ITEMS]):
                    title = f"{node_id}.{name}[{i}] {item.shape[1]}×{item.shape[0]}"
                    cells.append(f'<img src="{_data_uri(thumbnail_png(item))}" title="{escape(title)}" '
                                 'style="max-width:160px;max-height:160px;margin:2px;'
                                 'image-rendering:auto;border:1px solid #ddd">')
                if len(batch) > MAX_ITEMS:
                    cells.append(f"<span>+{len(batch) - MAX_ITEMS} more</span>")
            if cells:
                shown += 1
        files = _files_of(result, node_id)
        if files:
            names = ", ".join(escape(Path(f).name) for f in files[:MAX_ITEMS])
            more = f" +{len(files) - MAX_ITEMS}" if len(files) > MAX_ITEMS else ""
            cells.append(f'<span title="{escape(", ".join(files[:20]))}">→ {names}{more}</span>')
        error = result.errors.get(node_id)
        if error:
            cells.append(f'<span style="color:#c0392b">{escape(error)}</span>')
        color = {"ran": "#2f9e55", "cached": "#3b82c4", "failed": "#c0392b"}.get(state, "#888")
        rows.append(
            f'<tr><td style="text-align:left;vertical-align:top"><b>{escape(node_id)}</b><br>'
            f'<span style="color:#666">{escape(spec.name)}</span></td>'
            f'<td style="vertical-align:top;color:{color}">{escape(state)}</td>'
            f'<td style="vertical-align:top;text-align:right">{timing}</td>'
            f'<td style="text-align:left">{"".join(cells)}</td></tr>'
        )
    head = escape(repr(result))
    return (f'<div class="artflow-result"><div style="font-family:monospace">{head}</div>'
            '<table style="border-collapse:collapse"><tr><th>node</th><th>status</th><th>seconds</th>'
            f'<th style="text-align:left">outputs</th></tr>{"".join(reversed(rows))}</table></div>')


def _in_notebook() -> bool:
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    try:
        ip = shell.get_ipython()  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001
        return False
    return ip is not None and hasattr(ip, "kernel")


def show(result: RunResult, *, browser: bool | None = None) -> Path | None:
    """Display the result inline in a notebook; elsewhere write an HTML page and open it.

    Returns the page written (None when shown inline)."""
    html = result_html(result)
    if browser is None:
        browser = not _in_notebook()
    if not browser:
        from IPython.display import HTML, display

        display(HTML(html))
        return None
    page = Path(tempfile.mkdtemp(prefix="artflow-show-")) / "result.html"
    page.write_text(f"<!doctype html><meta charset='utf-8'><title>artflow result</title>"
                    f"<body style='font-family:sans-serif'>{html}</body>", encoding="utf-8")
    webbrowser.open(page.as_uri())
    return page
