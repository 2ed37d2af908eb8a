"""Video in and out: video.load (file or frame folder, start/stop/stride), MP4 (H.264) from
image.save_animation, and run_clip streaming a clip through a graph in chunks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from artflow_core.nodes_io import write_mp4
from PIL import Image

import artflow as af
from artflow.errors import GraphError
from artflow.video import describe, flicker_ratio, iter_frames, run_clip

SIDE = 64


def _frame(i: int) -> np.ndarray:
    """Frame i: a red bar whose left edge is at x = 2 i, on blue."""
    f = np.zeros((SIDE, SIDE, 3), np.float32)
    f[..., 2] = 0.35
    f[:, 2 * i: 2 * i + 4, 0] = 1.0
    return f


def _bar(frame: np.ndarray) -> float:
    red = np.asarray(frame, np.float32)[SIDE // 2, :, 0]
    red = red / red.max()
    return float((np.arange(SIDE) * (red > 0.5)).sum() / (red > 0.5).sum()) - 1.5  # left edge


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("clip") / "bar.mp4"
    write_mp4(path, (_frame(i) for i in range(30)), fps=24, quality=98)
    return path


def test_save_animation_writes_h264_mp4_and_bounce_plays_back(tmp_path: Path) -> None:
    g = af.Graph()
    frames = g.add("generate.gradient", "frames", width=48, height=33, count=6)  # odd height: padded
    g.add("image.save_animation", "once", image=frames, path="a.mp4", fps=10)
    g.add("image.save_animation", "back", image=frames, path="b.mp4", fps=10, bounce=True)
    g.run(output_dir=tmp_path)
    a, b = describe(tmp_path / "a.mp4"), describe(tmp_path / "b.mp4")
    assert a["codec"] == "h264" and a["frames"] == 6 and a["size"] == [48, 34] and a["fps"] == 10
    assert b["frames"] == 10  # 6 forwards, 4 back (the ends are not repeated)
    assert not list(tmp_path.glob(".*tmp*"))  # written to a temp file, then renamed


def test_video_load_picks_frames_by_start_stop_stride(clip: Path, tmp_path: Path) -> None:
    g = af.Graph()
    v = g.add("video.load", "clip", path=str(clip), start=4, stop=20, stride=3)
    result = g.run(output_dir=tmp_path)
    frames = result["clip"]
    assert frames.shape == (6, SIDE, SIDE, 3) and frames.dtype == np.float32
    assert result[v["names"]] == [f"frame_{i:06d}" for i in (4, 7, 10, 13, 16, 19)]
    np.testing.assert_allclose(result[v["time"]], np.array([4, 7, 10, 13, 16, 19]) / 24)
    assert [round(_bar(f)) for f in frames] == [8, 14, 20, 26, 32, 38]  # the seek lands on frame 4


def test_video_load_reads_a_frame_folder_in_natural_order(tmp_path: Path) -> None:
    folder = tmp_path / "frames"
    folder.mkdir()
    for i in (1, 2, 10, 11):  # names sort 1, 10, 11, 2 as text
        Image.fromarray((_frame(i) * 255).astype(np.uint8)).save(folder / f"f{i}.png")
    g = af.Graph()
    v = g.add("video.load", "clip", path="frames", stride=1)
    g.input_dir = tmp_path
    result = g.run(output_dir=tmp_path)
    assert result[v["names"]] == ["f1", "f2", "f10", "f11"]
    assert [round(_bar(f)) for f in result["clip"]] == [2, 4, 20, 22]


def test_a_missing_clip_names_the_path(tmp_path: Path) -> None:
    g = af.Graph()
    g.add("video.load", "clip", path="nope.mp4")
    with pytest.raises(af.ArtflowError, match="nope.mp4' not found"):
        g.run(output_dir=tmp_path)


def test_run_clip_in_chunks_matches_one_batch(clip: Path, tmp_path: Path) -> None:
    g = af.Graph(seed=2)
    v = g.add("video.load", "clip", path=str(clip), start=1, stride=2)
    soft = g.add("filter.blur", "soft", image=v, radius=1)
    g.add("image.save_animation", "save", image=soft, path="soft.mp4", fps=12)
    g.run(output_dir=tmp_path / "whole")
    run = run_clip(g, output_dir=tmp_path / "chunks", chunk_frames=4)
    assert (run.frames, run.chunks) == (15, 4)
    info = describe(tmp_path / "chunks" / "soft.mp4")
    assert (info["frames"], info["fps"], info["seconds"]) == (15, 12, 1.25)  # one even stream
    assert [p.resolve() for p in run.files] == [(tmp_path / "chunks" / "soft.mp4").resolve()]
    whole = np.stack(list(iter_frames(tmp_path / "whole" / "soft.mp4"))).astype(float)
    chunked = np.stack(list(iter_frames(tmp_path / "chunks" / "soft.mp4"))).astype(float)
    assert whole.shape == chunked.shape == (15, SIDE, SIDE, 3)
    assert np.abs(whole - chunked).mean() < 2.0  # same frames, same order (H.264 noise only)
    assert [round(_bar(f)) for f in chunked[:6]] == [2, 6, 10, 14, 18, 22]
    assert sorted(p.name for p in (tmp_path / "chunks").iterdir()) == ["soft.mp4"]  # no parts left
    assert 0.8 < flicker_ratio(tmp_path / "chunks" / "soft.mp4", tmp_path / "whole" / "soft.mp4") < 1.2


def test_run_clip_refuses_what_cannot_stream(clip: Path, tmp_path: Path) -> None:
    g = af.Graph()
    v = g.add("video.load", "clip", path=str(clip))
    g.add("image.save_animation", "gif", image=v, path="a.gif")
    with pytest.raises(GraphError, match=r"written as \.mp4"):
        run_clip(g, output_dir=tmp_path)
    g.remove("gif")
    g.add("image.save", "each", image=v, path="f.png")
    with pytest.raises(GraphError, match=r"node 'each' \(image.save\) writes files per chunk"):
        run_clip(g, output_dir=tmp_path)
    g.set("each", path="frames/{name}.png", names=v["names"])
    run = run_clip(g, output_dir=tmp_path, chunk_frames=8)
    assert run.frames == 30 and len(list((tmp_path / "frames").glob("frame_*.png"))) == 30


def test_style_transfer_and_detection_run_over_a_clip(clip: Path, tmp_path: Path) -> None:
    g = af.Graph()
    v = g.add("video.load", "clip", path=str(clip), stop=12)
    styled = g.add("style.transfer", "styled", image=v, style="halftone")
    found = g.add("detect.objects", "found", image=v, model="shapes", score_threshold=0.5)
    boxed = g.add("draw.boxes", "boxed", image=styled, boxes=found)
    g.add("image.save_animation", "save", image=boxed, path="styled.mp4", fps=24)
    run = run_clip(g, output_dir=tmp_path, chunk_frames=5)
    info = describe(tmp_path / "styled.mp4")
    assert run.chunks == 3 and info["frames"] == 12 and info["size"] == [SIDE, SIDE]
    first = next(iter_frames(tmp_path / "styled.mp4")).astype(float)
    assert np.abs(first / 255 - _frame(0)).mean() > 0.05  # stylised, not the source


def test_frames_of_different_sizes_do_not_make_a_broken_mp4(tmp_path: Path) -> None:
    with pytest.raises(af.ArtflowError, match="frames of different sizes"):
        write_mp4(tmp_path / "x.mp4", [_frame(0), _frame(1)[:32]], fps=10)
    assert list(tmp_path.iterdir()) == []  # no file, no temp file left


def test_pose_and_matting_run_over_a_clip(tmp_path: Path) -> None:
    from skimage import data

    photo = Image.fromarray(data.astronaut())
    frames = [np.asarray(photo.crop((8 * i, 0, 8 * i + 400, 400)).resize((160, 160)), np.float32) / 255
              for i in range(6)]
    write_mp4(tmp_path / "astronaut.mp4", frames, fps=12)
    g = af.Graph()
    v = g.add("video.load", "clip", path="astronaut.mp4")
    g.input_dir = tmp_path
    poses = g.add("pose.estimate", "poses", image=v)
    drawn = g.add("draw.pose", "drawn", image=v, poses=poses)
    matte = g.add("matte.person", "matte", image=v)
    blue = g.add("generate.solid", "blue", width=160, height=160, color="#2040ff")
    mixed = g.add("composite.blend", "mixed", base=blue, top=drawn, mask=matte)
    g.add("image.save_animation", "save", image=mixed, path="astronaut_fx.mp4", fps=12)
    run = run_clip(g, output_dir=tmp_path, chunk_frames=4)
    assert (run.frames, run.chunks) == (6, 2)
    out = list(iter_frames(tmp_path / "astronaut_fx.mp4"))
    assert len(out) == 6
    for frame in out:  # the flag behind her is replaced by the blue background
        assert np.abs(frame[6, 6].astype(int) - [32, 64, 255]).max() < 40
    whole = g.run(output_dir=tmp_path / "whole")
    assert [len(people) for people in whole["poses"]] == [1] * 6
    assert 0.3 < float(whole["matte"].mean()) < 0.7


def test_artflow_run_streams_a_clip_graph_through_run_clip(clip: Path, tmp_path: Path) -> None:
    import json
    import os
    import subprocess
    import sys

    g = af.Graph()
    frames = g.add("video.load", "frames", path=str(clip))
    g.add("image.save_animation", "mp4", image=g.add("color.invert", image=frames), path="inverted.mp4",
          fps=12)
    graph_file = g.save(tmp_path / "clip.json")
    env = dict(os.environ, ARTFLOW_CACHE=str(tmp_path / "cache"))
    artflow = str(Path(sys.executable).parent / "artflow")
    proc = subprocess.run([artflow, "run", str(graph_file), "-o", str(tmp_path / "out"), "--json"],
                          capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)["clip"]
    assert report["frames"] == describe(clip)["frames"] and report["files"]
    assert Path(report["files"][0]).name == "inverted.mp4" and Path(report["files"][0]).is_file()
