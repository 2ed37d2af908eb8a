"""Rendering: files, manifest and page; resume; failures recorded; names kept inside the folder."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
from PIL import Image

from artflow.gallery.renderer import render
from artflow.graph_files import load_graph
from artflow.imaging import read_png_text

from .conftest import manifest, page_rows, tree_digest, write_png, write_spec

SMALL = """
title = "small"
name = "{colormap}-{seed}"
save = ["look"]
[matrix]
"look.colormap" = ["magma", "ice"]
seed = {from = 1, to = 3}
[captions]
template = "{colormap} / seed {seed}"
"""


def test_render_writes_images_thumbnails_manifest_and_page(tmp_path: Path) -> None:
    out = tmp_path / "out"
    summary = render(write_spec(tmp_path, SMALL), out, workers=2)
    assert (summary.total, summary.ok, summary.failed) == (6, 6, 0)
    data = manifest(out)
    assert [i["name"] for i in data["items"]] == ["magma-1", "magma-2", "magma-3", "ice-1", "ice-2", "ice-3"]
    item = data["items"][4]
    assert item["params"] == {"look.colormap": "ice", "seed": "2"} and item["seed"] == 2
    assert item["status"] == "ok" and item["error"] is None and item["seconds"] > 0
    assert item["files"] == ["images/ice-2.png", "thumbs/ice-2.jpg"]
    assert item["caption"] == "ice / seed 2"
    with Image.open(out / "images/ice-2.png") as im:
        assert im.size == (112, 112)
    with Image.open(out / "thumbs/ice-2.jpg") as im:
        assert im.format == "JPEG" and max(im.size) <= 256
    record = json.loads(read_png_text(out / "images/ice-2.png")["artflow"])
    assert record["graph"]["seed"] == 2
    assert record["graph"]["nodes"]["look"]["params"]["colormap"] == "ice"
    assert str(out) not in json.dumps(record)  # no output folder in the provenance
    # the PNG carries a graph that writes the same picture again
    again = load_graph(out / "images/ice-2.png").run(output_dir=tmp_path / "again", progress=False)
    assert again.ok
    with Image.open(out / "images/ice-2.png") as a, Image.open(tmp_path / "again/images/ice-2.png") as b:
        assert np.array_equal(np.asarray(a), np.asarray(b))
    rows = page_rows(out)
    assert [r[0] for r in rows] == [i["name"] for i in data["items"]]
    assert rows[4][1] == "ice / seed 2" and rows[4][2] == "ok" and rows[4][5][0][0] == "ice-2"
    assert "6 items" in (out / "index.html").read_text()


def test_resume_skips_finished_items_and_redoes_only_missing_ones(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, SMALL)
    out = tmp_path / "out"
    render(spec, out, workers=2)
    first = tree_digest(out)
    mtimes = {p: p.stat().st_mtime_ns for p in (out / "images").iterdir()}
    again = render(spec, out, workers=2)
    assert (again.skipped, again.ok) == (6, 0)
    assert {p: p.stat().st_mtime_ns for p in (out / "images").iterdir()} == mtimes
    (out / "images/magma-2.png").unlink()
    (out / "thumbs/ice-3.jpg").unlink()
    third = render(spec, out, workers=1)
    assert (third.skipped, third.ok) == (4, 2)
    assert tree_digest(out) == first
    # a new value on an axis renders only the new items; --force renders everything
    spec.write_text(spec.read_text().replace('["magma", "ice"]', '["magma", "ice", "fire"]'))
    fourth = render(spec, out, workers=1)
    assert (fourth.skipped, fourth.ok) == (6, 3)
    assert render(spec, out, workers=2, force=True).ok == 9


def test_a_failing_item_is_recorded_and_the_others_finish(tmp_path: Path, artflow_cli) -> None:
    write_png(tmp_path / "a.png", (250, 30, 30))
    write_png(tmp_path / "b.png", (30, 30, 250))
    body = """
    name = "{path}"
    [matrix]
    "load.path" = ["a.png", "missing.png", "b.png"]
    """
    graph = """
    [graph]
    artflow = 1
    [graph.nodes.load]
    type = "image.load"
    [graph.nodes.inv]
    type = "color.invert"
    inputs = {image = "load"}
    """
    spec = write_spec(tmp_path, body, graph)
    out = tmp_path / "out"
    proc = artflow_cli("render", str(spec), "-o", str(out), "--workers", "2")
    assert proc.returncode == 2, proc.stderr
    assert "failed: missing: " in proc.stderr and "'missing.png' not found" in proc.stderr
    assert "3 items: 2 rendered, 0 already done, 1 failed" in proc.stdout
    items = {i["name"]: i for i in manifest(out)["items"]}
    assert items["a"]["status"] == items["b"]["status"] == "ok"
    assert items["missing"]["status"] == "failed" and "missing.png" in items["missing"]["error"]
    assert (out / "images/a.png").is_file() and (out / "images/b.png").is_file()
    assert "missing.png" in {r[0]: r for r in page_rows(out)}["missing"][3]
    # a resume retries only the failed item (and it fails again)
    proc = artflow_cli("render", str(spec), "-o", str(out), "--workers", "1")
    assert proc.returncode == 2 and "3 items: 0 rendered, 2 already done, 1 failed" in proc.stdout


CAPTIONED = """
[graph]
artflow = 1
[graph.nodes.bg]
type = "generate.solid"
params = {width = 48, height = 32}
[graph.nodes.cap]
type = "draw.caption"
inputs = {image = "bg"}
"""


def test_a_param_like_dotdot_cannot_write_outside_the_output_folder(tmp_path: Path) -> None:
    body = r"""
    name = "{text}"
    save = ["cap"]
    [matrix]
    "cap.text" = ["../../x", "../../../../tmp/escape", "/etc/passwd", "..\\..\\y", "a/./../../z", ".."]
    """
    spec = write_spec(tmp_path / "spec", body, CAPTIONED)
    out = tmp_path / "deep" / "out"
    summary = render(spec, out, workers=1)
    assert summary.ok == 6
    outside = [p for p in tmp_path.rglob("*") if p.is_file() and out not in p.parents
               and p.parent != tmp_path / "spec"]
    assert outside == []
    assert not Path("/tmp/escape.png").exists()
    names = sorted(p.name for p in (out / "images").iterdir())
    assert names == sorted(["x.png", "tmp_escape.png", "etc_passwd.png", "y.png", "a_z.png", "item.png"])


def test_a_script_file_name_shows_as_text_in_the_page(tmp_path: Path) -> None:
    inputs = tmp_path / "inputs"
    write_png(inputs / "<script>alert(1)<" / "script>.png", (10, 200, 10))  # '/' splits the name
    write_png(inputs / "<img src=x onerror=alert(2)>.png", (200, 10, 10))
    write_png(inputs / "plain.png", (10, 10, 200))
    body = """
    title = "<script>alert(3)</script>"
    name = "{path}"
    [matrix]
    "load.path" = {glob = "inputs/**/*.png"}
    [captions]
    template = "{path} & </script><b>bold</b>"
    """
    graph = """
    [graph]
    artflow = 1
    [graph.nodes.load]
    type = "image.load"
    """
    out = tmp_path / "out"
    assert render(write_spec(tmp_path, body, graph), out, workers=1).ok == 3
    page = (out / "index.html").read_text()
    assert "<script>alert" not in page and "&lt;script&gt;alert(3)&lt;/script&gt;" in page
    script_data = page.split('id="gallery-data">', 1)[1].split("</script>", 1)[0]
    assert "<" not in script_data and ">" not in script_data
    assert page.count("<script") == 2  # the data and the page's own code, nothing else
    # the items' data (parts) hold the names as JSON text with '<', '>' and '&' escaped
    parts = "".join(p.read_text() for p in (out / "index").glob("part-*.js"))
    assert "<" not in parts and ">" not in parts and "&" not in parts
    captions = [r[1] for r in page_rows(out)]
    assert "<img src=x onerror=alert(2)> & </script><b>bold</b>" in captions
    assert "script> & </script><b>bold</b>" in captions


def test_dry_run_lists_items_and_writes_nothing(tmp_path: Path, artflow_cli) -> None:
    spec = write_spec(tmp_path, SMALL)
    out = tmp_path / "out"
    proc = artflow_cli("render", str(spec), "-o", str(out), "--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert "todo  ice-3  look.colormap=ice seed=3" in proc.stdout
    assert "6 items: 6 to render, 0 done already" in proc.stdout
    assert not out.exists()


def test_workers_times_threads_stays_within_the_cores() -> None:
    from artflow.gallery.backends import LocalBackend, threads_per_worker

    assert [threads_per_worker(w, 2) for w in (1, 2, 3)] == [2, 1, 1]
    assert threads_per_worker(2, 16) == 8
    backend = LocalBackend()
    assert backend.workers * backend.threads <= max(backend.workers, len(os.sched_getaffinity(0)))


MODELS = """
[graph]
artflow = 1
[graph.nodes.digit]
type = "gan.generate"
params = {model = "digits", count = 1}
[graph.nodes.read]
type = "classify.image"
inputs = {image = "digit"}
params = {model = "digits"}
[graph.nodes.big]
type = "image.resize"
inputs = {image = "digit"}
params = {width = 64, height = 64, filter = "nearest"}
[graph.nodes.poster]
type = "draw.caption"
inputs = {image = "big", labels = "read"}
"""


def test_records_and_provenance_do_not_depend_on_what_a_worker_cached(tmp_path: Path) -> None:
    body = """
    name = "{start}-{seed}-{position}"
    save = ["poster"]
    [matrix]
    "digit.start" = [0, 1, 2]
    seed = %s
    "poster.position" = ["bottom", "top"]
    """
    # one worker renders every item in order, so later items find upstream nodes (the digit,
    # the classifier's reading) in its cache ...
    spec = write_spec(tmp_path, body % "[1, 2]", MODELS)
    assert render(spec, tmp_path / "one", workers=1).ok == 12
    # ... while here the seed-2 items render first, with nothing of seed 1 cached, then the rest
    # resumes on two workers. A node that left the graph seed out of its cache key would hand
    # seed 1's digit to seed 2 in the first render only.
    spec.write_text(spec.read_text().replace("seed = [1, 2]", "seed = [2]"))
    assert render(spec, tmp_path / "two", workers=1).ok == 6
    spec.write_text(spec.read_text().replace("seed = [2]", "seed = [1, 2]"))
    assert render(spec, tmp_path / "two", workers=2).ok == 6
    assert tree_digest(tmp_path / "one") == tree_digest(tmp_path / "two")
    item = manifest(tmp_path / "one")["items"][1]
    assert set(item["models"]) == {"digit", "read"} and item["provider"] == "cpu"
    assert item["images"][0]["labels"][0]["node"] == "read"
