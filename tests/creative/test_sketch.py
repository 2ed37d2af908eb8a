"""Sketches: a node declared in the script registers for that process (replaced on reload, never
a built-in's), and arrays or PIL images become content-keyed constant nodes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import artflow as af
from artflow.errors import GraphError
from artflow.sketch import constant, content_sha256, register_node, save_arrays, sketch_nodes
from artflow.watch.runner import Target

SKETCH = '''
import numpy as np
import artflow as af
from artflow.sketch import constant, node

@node("my.tint", category="sketch", inputs={"image": af.IMAGE}, outputs={"image": af.IMAGE},
      params={"amount": af.Float(0.5, min=0, max=1, doc="how far towards orange")})
def tint(ctx, image, amount):
    """Pull the colours towards orange."""
    return image * (1 - amount) + np.array([1.0, 0.55, 0.1], np.float32) * amount

photo = np.zeros((24, 32, 3), np.uint8)
photo[:, :16] = 255
g = af.Graph(seed=1)
tinted = g.add("my.tint", "tint", image=constant(g, photo), amount=AMOUNT)
g.add("image.save", "save", image=tinted, path="tinted.png")
g.run()
'''


def test_a_sketch_with_an_inline_node_and_an_array_runs(tmp_path: Path) -> None:
    script = tmp_path / "sketch.py"
    script.write_text(SKETCH.replace("AMOUNT", "0.5"))
    proc = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    with Image.open(tmp_path / "tinted.png") as im:
        pixels = np.asarray(im.convert("RGB")).astype(int)
    assert np.abs(pixels[0, 0] - np.array([255, 198, 140])).max() <= 1  # white half-way to orange
    assert np.abs(pixels[0, -1] - np.array([128, 70, 13])).max() <= 1  # black half-way to orange


def test_reloading_replaces_the_sketch_node_but_never_a_builtin(tmp_path: Path) -> None:
    script = tmp_path / "sketch.py"
    script.write_text(SKETCH.replace("AMOUNT", "0.5"))
    target = Target(script, tmp_path / "out")
    first = target.run()
    assert first.error is None and sketch_nodes()["my.tint"] == "sketch.py"
    script.write_text(SKETCH.replace("AMOUNT", "0.5").replace("[1.0, 0.55, 0.1]", "[0.0, 0.3, 1.0]"))
    second = target.run()
    assert second.error is None
    assert second.results[0].status["tint"] == "ran"  # new code, new key: the node ran again
    with Image.open(tmp_path / "out" / "tinted.png") as im:
        blue = np.asarray(im.convert("RGB"))[0, 0].astype(int)
    assert np.abs(blue - np.array([128, 166, 255])).max() <= 1  # now half-way to blue

    @af.node("filter.blur", category="sketch", outputs={"image": af.IMAGE})
    def fake(ctx):
        """Not the real blur."""

    with pytest.raises(GraphError, match="belongs to plugin 'core'; a sketch cannot replace it"):
        register_node(fake, "evil.py")
    assert af.get_plugins().nodes.owner("filter.blur") == "core"


def test_arrays_and_pil_images_are_content_keyed_constants(tmp_path: Path) -> None:
    rgb = (np.arange(4 * 5 * 3).reshape(4, 5, 3) % 256).astype(np.uint8)
    g = af.Graph()
    a = constant(g, rgb)
    b = constant(g, Image.fromarray(rgb))  # the same pixels: the same node
    c = constant(g, rgb.astype(np.float32) / 255)
    assert a.id == b.id == c.id and len(g) == 1
    assert g.nodes[a.id].params == {"sha256": content_sha256(rgb[None].astype(np.float32) / 255)}
    other = constant(g, np.zeros((2, 4, 5, 1), np.float32))
    assert other.id != a.id and len(g) == 2
    with pytest.raises(af.ArtflowError, match="values in \\[0, 1\\]"):
        constant(g, np.full((4, 4, 3), 2.0))


def test_a_saved_graph_finds_its_arrays_beside_it(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    art = (rng.random((16, 16, 3)) * 255).astype(np.uint8)
    g = af.Graph()
    inverted = g.add("color.invert", "inv", image=constant(g, art, "art"))
    g.add("image.save", "save", image=inverted, path="inv.png")
    g.save(tmp_path / "g.json")
    (npy,) = save_arrays(g, tmp_path)
    assert npy.name == g.nodes["art"].params["sha256"] + ".npy"
    runner = "import artflow as af; af.Graph.load('g.json').run(output_dir='out')"
    proc = subprocess.run([sys.executable, "-c", runner], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr  # a fresh process: the array comes from the .npy
    with Image.open(tmp_path / "out" / "inv.png") as im:
        assert np.array_equal(np.asarray(im.convert("RGB")), 255 - art)
    runner = runner.replace("output_dir='out'", "output_dir='out', use_cache=False")  # read the file again
    data = bytearray(npy.read_bytes())
    data[-1] ^= 1
    npy.write_bytes(bytes(data))
    proc = subprocess.run([sys.executable, "-c", runner], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode != 0 and "does not hold the array its name says" in proc.stderr
    npy.unlink()
    proc = subprocess.run([sys.executable, "-c", runner], cwd=tmp_path, capture_output=True, text=True)
    assert f"'{npy.name}' is not beside the graph" in proc.stderr
    assert json.loads((tmp_path / "g.json").read_text())["nodes"]["art"]["type"] == "const.image"


def test_provenance_embeds_small_arrays_and_names_big_ones_and_scripts(tmp_path: Path) -> None:
    from artflow.sketch import _STORE, provenance_extras, restore_from_provenance

    small = np.full((8, 8, 3), 200, np.uint8)
    big = np.zeros((1, 300, 300, 3), np.float32)  # 1.08 MB as .npy: referred to by hash only
    g = af.Graph()

    @af.node("my.keep", category="sketch", inputs={"image": af.IMAGE}, outputs={"image": af.IMAGE})
    def keep(ctx, image):
        """Pass the image through."""
        return image

    register_node(keep, "paint.py")
    g.add("my.keep", "k", image=constant(g, small, "small"))
    g.add("color.invert", "inv", image=constant(g, big, "big"))
    extras = json.loads(json.dumps(provenance_extras(g)))  # what a PNG text chunk carries
    small_sha, big_sha = g.nodes["small"].params["sha256"], g.nodes["big"].params["sha256"]
    assert extras["sketch_nodes"] == {"my.keep": "paint.py"}
    assert extras["arrays"][small_sha] and extras["arrays"][big_sha] is None

    _STORE.clear()  # as in a fresh process
    with pytest.raises(af.ArtflowError, match=f"needs the array '{big_sha}.npy' \\(too big to embed"):
        restore_from_provenance(extras, tmp_path)
    save_arrays_dir = tmp_path / "beside"
    save_arrays_dir.mkdir()
    np.save(save_arrays_dir / "x.npy", big)  # a file of another name does not count
    (save_arrays_dir / f"{big_sha}.npy").write_bytes(b"")  # present: restoring goes on
    extras["sketch_nodes"]["my.gone"] = "old.py"  # a sketch that has not run in this process
    with pytest.raises(GraphError, match=r"node type\(s\) my.gone defined in the sketch old.py; run"):
        restore_from_provenance(extras, save_arrays_dir)
    assert small_sha in _STORE  # the embedded array came back
