"""examples/sketch.ipynb executes top to bottom in a real Jupyter kernel (nbclient + ipykernel),
and shows what it promises: the graph diagram, the result's thumbnails, an MP4."""

from __future__ import annotations

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

NOTEBOOK = Path(__file__).resolve().parents[2] / "examples" / "sketch.ipynb"


def test_the_sketch_notebook_runs_in_a_kernel(tmp_path: Path) -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=180, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError naming the cell on any failure
    code = [c for c in nb.cells if c.cell_type == "code"]
    graph_cell, result_cell = code[0], code[1]
    svg = graph_cell.outputs[0]["data"]["image/svg+xml"]
    assert 'data-node="art"' in svg and "generate.voronoi" in svg and "saturation = 1.3" in svg
    html = result_cell.outputs[0]["data"]["text/html"]
    assert html.count("<img") == 3 and "glass.png" in html and "color.adjust" in html
    text = "".join(o.get("text", "") for c in code for o in c.outputs if o.output_type == "stream")
    assert "<RunResult 4 nodes: 1 cached, 3 ran" in text  # only the blur and what follows re-ran
    assert "<ClipRun 12 frames in 3 chunks -> edges.mp4" in text
    assert (tmp_path / "out" / "glass.png").is_file() and (tmp_path / "out" / "edges.mp4").is_file()
    assert "video/mp4" in code[-1].outputs[0]["data"]["text/html"]
