"""How a run result shows itself: one line, an HTML table with thumbnails, result.show()."""

from __future__ import annotations

from pathlib import Path

import pytest

import artflow as af
from artflow import display


def test_result_html_has_thumbnails_statuses_and_files(tmp_path: Path) -> None:
    g = af.Graph(seed=2)
    art = g.add("generate.voronoi", "art", width=48, height=48, cells=6, count=6)
    g.add("image.save", "save", image=art, path="v{index}.png")
    result = g.run(output_dir=tmp_path)
    html = result._repr_html_()
    assert html.count("<img") == display.MAX_ITEMS and "+2 more" in html  # a batch of 6: 4 shown
    assert "generate.voronoi" in html and ">ran<" in html and "v0.png" in html
    assert "\n" not in repr(result)


def test_show_opens_a_page_outside_a_notebook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[str] = []
    monkeypatch.setattr(display.webbrowser, "open", opened.append)
    g = af.Graph()
    g.add("generate.gradient", "sky", width=32, height=16)
    page = g.run(output_dir=tmp_path).show()
    assert page is not None and opened == [page.as_uri()]
    assert "<img" in page.read_text() and "sky" in page.read_text()
