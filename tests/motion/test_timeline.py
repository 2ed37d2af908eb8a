"""Runs over frames: schedules per frame, static nodes once, files per frame and animations."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import artflow as af
from artflow.animation import frames_of
from artflow.cache import Cache
from artflow.engine import Engine
from artflow.graph_files import load_graph


def _engine(tmp_path: Path) -> Engine:
    return Engine(Cache(tmp_path / "cache"))


def test_keyframed_colour_gives_frame_k_a_mean_of_k_over_10(tmp_path: Path) -> None:
    g = af.Graph(seed=1)
    solid = g.add("generate.solid", width=16, height=16, color=af.keyframes({0: "black", 10: "white"}))
    g.add("image.save", image=solid, path="solid/{frame:04d}.png")
    result = _engine(tmp_path).run(g, frames=11, output_dir=tmp_path / "out")
    assert result.timeline.runs["solid1"] == 11
    for k in range(11):
        mean = np.asarray(Image.open(tmp_path / "out" / "solid" / f"{k:04d}.png"), np.float64).mean() / 255
        assert abs(mean - k / 10) <= 1 / 255, (k, mean)


def _six_node_graph(frames_path: str = "f/{frame:04d}.png") -> af.Graph:
    g = af.Graph(seed=5)
    noise = g.add("generate.noise", width=64, height=64, color="viridis")
    blur = g.add("filter.blur", image=noise, radius=1.5)
    kal = g.add("image.kaleidoscope", image=blur, segments=5,
                angle=af.keyframes({0: 0, 8: 72}, ease="in_out_sine", loop="repeat"))
    g.add("image.save", image=kal, path=frames_path)
    g.add("image.save_animation", image=kal, path="loop.webp")
    return g


def test_nodes_whose_params_and_inputs_stay_the_same_run_once(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    result = engine.run(_six_node_graph(), frames=8, fps=8, output_dir=tmp_path / "out", frame_workers=2)
    runs = result.timeline.runs
    assert runs["noise1"] == 1 and runs["blur1"] == 1
    assert runs["kaleidoscope1"] == 8 and runs["save1"] == 8 and runs["save_animation1"] == 1
    frames = frames_of(tmp_path / "out" / "loop.webp")
    assert len(frames) == 8 and frames[0].shape == (64, 64, 3)
    assert sorted(p.name for p in (tmp_path / "out" / "f").iterdir()) == [f"{k:04d}.png" for k in range(8)]
    again = engine.run(_six_node_graph(), frames=8, fps=8, output_dir=tmp_path / "out")
    assert again.timeline.runs["noise1"] == 0 and again.timeline.runs["blur1"] == 0  # the cache keeps them


def test_a_frame_renders_again_from_its_png_pixel_for_pixel(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    engine.run(_six_node_graph(), frames=8, output_dir=tmp_path / "out")
    graph = load_graph(tmp_path / "out" / "f" / "0005.png")
    assert graph.frame == 5 and graph.frames == 8
    assert graph.nodes["kaleidoscope1"].params["angle"]["keyframes"] == {"0": 0, "8": 72}
    result = Engine(Cache(tmp_path / "other-cache")).run(graph, output_dir=tmp_path / "again")
    assert result.timeline.rendered == [5]
    assert not (tmp_path / "again" / "loop.webp").exists()  # one frame writes no animation
    first = np.asarray(Image.open(tmp_path / "out" / "f" / "0005.png"))
    second = np.asarray(Image.open(tmp_path / "again" / "f" / "0005.png"))
    assert np.array_equal(first, second)


def test_the_graph_file_carries_frames_and_fps(tmp_path: Path) -> None:
    g = _six_node_graph()
    g.frames, g.fps = 4, 6.0
    path = g.save(tmp_path / "anim.json")
    loaded = af.Graph.load(path)
    assert (loaded.frames, loaded.fps) == (4, 6.0)
    result = _engine(tmp_path).run(loaded, output_dir=tmp_path / "out")
    assert result.timeline.frames == 4 and len(frames_of(tmp_path / "out" / "loop.webp")) == 4


def test_a_node_reading_ctx_frame_runs_per_frame(tmp_path: Path) -> None:
    from artflow.plugins import get_plugins

    @af.node("test.frame_gray", category="test", outputs={"image": af.IMAGE}, animated=True)
    def frame_gray(ctx: af.NodeContext) -> np.ndarray:
        """A grey level that is the frame's share of the run."""
        return np.full((1, 4, 4, 3), ctx.frame / max(1, ctx.frames - 1), np.float32)

    get_plugins().nodes.add(frame_gray, "tests", replace=True)
    g = af.Graph()
    g.add("image.save", image=g.add("test.frame_gray"), path="g/{frame}.png")
    result = _engine(tmp_path).run(g, frames=3, output_dir=tmp_path)
    assert result.timeline.runs["frame_gray1"] == 3
    assert [np.asarray(Image.open(tmp_path / "g" / f"{k}.png")).mean() for k in range(3)] == [0, 128, 255]


def test_a_writer_of_every_frame_without_a_frame_name_is_refused_before_running(tmp_path: Path) -> None:
    g = _six_node_graph(frames_path="same.png")
    with pytest.raises(af.GraphError, match=r"node 'save1' \(image.save\) writes files on every frame"):
        _engine(tmp_path).run(g, frames=4, output_dir=tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_frames_over_the_budget_are_refused_before_running(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("ARTFLOW_MAX_FRAMES", "50")
    with pytest.raises(af.GraphError, match=r"60 frames is over the budget of 50 \(ARTFLOW_MAX_FRAMES\)"):
        _engine(tmp_path).run(_six_node_graph(), frames=60, output_dir=tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_kept_webp_frames_over_the_memory_budget_are_refused_before_any_file(tmp_path: Path,
                                                                            monkeypatch) -> None:
    monkeypatch.setenv("ARTFLOW_MAX_MEMORY_MB", "1")
    with pytest.raises(af.GraphError, match=r"over the 1 MB budget .*write \.mp4"):
        _engine(tmp_path).run(_six_node_graph(), frames=80, output_dir=tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_an_mp4_carries_the_graph_with_its_schedules(tmp_path: Path) -> None:
    import json
    import subprocess

    import imageio_ffmpeg

    g = af.Graph(seed=2)
    spin = af.keyframes({0: 0.0, 6: 1.0}, loop="repeat")
    g.add("image.save_animation", image=g.add("generate.voronoi", width=48, height=48, phase=spin),
          path="cells.mp4")
    _engine(tmp_path).run(g, frames=6, fps=6, output_dir=tmp_path)
    meta = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(tmp_path / "cells.mp4"),
                           "-f", "ffmetadata", "-"], capture_output=True, text=True, check=True).stdout
    comment = next(line for line in meta.splitlines() if line.startswith("comment="))[len("comment="):]
    record = json.loads(comment.replace("\\=", "=").replace("\\;", ";").replace("\\#", "#"))
    graph = record["graph"]
    assert graph["frames"] == 6 and graph["fps"] == 6.0
    phase = graph["nodes"]["voronoi1"]["params"]["phase"]
    assert phase == {"keyframes": {"0": 0.0, "6": 1.0}, "ease": "linear", "loop": "repeat"}


def test_images_of_mixed_sizes_are_refused_over_frames_in_one_line(tmp_path: Path) -> None:
    for name, height in (("a.png", 20), ("b.png", 40)):
        Image.fromarray(np.zeros((height, 30, 3), np.uint8)).save(tmp_path / name)
    g = af.Graph()
    photos = g.add("image.load", path=str(tmp_path / "*.png"))
    brighter = g.add("color.adjust", image=photos, brightness=af.keyframes({0: 1.0, 3: 2.0}))
    g.add("image.save", image=brighter, path="o/{frame}.png")
    with pytest.raises(af.GraphError, match=r"loads images of mixed sizes.*set fit='first'"):
        _engine(tmp_path).run(g, frames=3, output_dir=tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_an_mp4_from_a_sketch_carries_its_constant_arrays_like_a_png(tmp_path: Path) -> None:
    import json
    import subprocess

    import imageio_ffmpeg

    from artflow.sketch import constant

    g = af.Graph(seed=2)
    array = np.linspace(0, 1, 48 * 48 * 3, dtype=np.float32).reshape(48, 48, 3)
    glow = g.add("color.adjust", image=constant(g, array), brightness=af.keyframes({0: 1.0, 4: 1.5}))
    g.add("image.save_animation", image=glow, path="glow.mp4")
    _engine(tmp_path).run(g, frames=4, fps=4, output_dir=tmp_path)
    meta = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(tmp_path / "glow.mp4"),
                           "-f", "ffmetadata", "-"], capture_output=True, text=True, check=True).stdout
    comment = next(line for line in meta.splitlines() if line.startswith("comment="))[len("comment="):]
    record = json.loads(comment.replace("\\=", "=").replace("\\;", ";").replace("\\#", "#"))
    sha = next(n["params"]["sha256"] for n in record["graph"]["nodes"].values() if n["type"] == "const.image")
    assert sha in record["arrays"]
