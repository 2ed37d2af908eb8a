"""Video inputs: a file ffmpeg cannot read as a video is one line and exit 2 (exit 1 on the old
main), frames obey ARTFLOW_MAX_PIXELS, video.load declares its size to the budget, and a clip run
in chunks counts its frames (or lists its frame folder) once, not once per chunk."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from .inproc import chdir, files_under, run_cli


def _ffmpeg(*args: str) -> None:
    import imageio_ffmpeg

    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", *args], check=True)


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """ok.mp4 (2 s, 64x48) and its damaged, empty, random, text and audio-only cousins."""
    d = tmp_path_factory.mktemp("clips")
    _ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x48:rate=24", "-t", "2", "-pix_fmt", "yuv420p",
            str(d / "ok.mp4"))
    _ffmpeg("-f", "lavfi", "-i", "sine=frequency=440", "-t", "1", "-c:a", "aac", str(d / "audio.mp4"))
    good = (d / "ok.mp4").read_bytes()
    (d / "empty.mp4").write_bytes(b"")
    (d / "random.mp4").write_bytes(np.random.default_rng(0).bytes(20000))
    (d / "truncated.mp4").write_bytes(good[: len(good) // 3])
    (d / "tail_cut.mp4").write_bytes(good[: int(len(good) * 0.9)])
    flipped = bytearray(good)
    for i in np.random.default_rng(1).integers(0, len(flipped), 40):
        flipped[i] ^= 0xFF
    (d / "flipped.mp4").write_bytes(bytes(flipped))
    (d / "text.mp4").write_text("hello, this is not a video\n" * 10)
    (d / "frames").mkdir()
    _ffmpeg("-f", "lavfi", "-i", "testsrc=size=32x24:rate=24", "-frames:v", "30",
            str(d / "frames" / "f_%03d.png"))
    return d


def _clip_graph(path: str) -> dict:
    return {"artflow": 1, "nodes": {"v": {"type": "video.load", "params": {"path": path}},
                                    "s": {"type": "image.save_animation", "inputs": {"image": "v"},
                                          "params": {"path": "clip.mp4"}}}}


def _run(clips: Path, tmp_path: Path, graph: dict, *extra: str):
    (tmp_path / "g.json").write_text(json.dumps(graph))
    with chdir(clips):
        return run_cli("run", str(tmp_path / "g.json"), "-o", str(tmp_path / "out"), *extra)


@pytest.mark.parametrize("name", ["empty", "random", "truncated", "flipped", "text", "audio"])
def test_a_file_that_is_not_a_readable_video_is_one_line_and_exit_2(clips: Path, tmp_path: Path,
                                                                      name: str) -> None:
    result = _run(clips, tmp_path, _clip_graph(str(clips / f"{name}.mp4")))
    assert result.code == 2, result.err
    assert len(result.error_lines) == 1 and f"{name}.mp4" in result.err
    assert not (tmp_path / "out").exists() or files_under(tmp_path / "out") == set()


def test_a_clip_cut_short_keeps_the_frames_it_has(clips: Path, tmp_path: Path) -> None:
    result = _run(clips, tmp_path, _clip_graph(str(clips / "tail_cut.mp4")))
    assert result.code in (0, 2) and len(result.error_lines) <= 1, result.err


def test_video_frames_obey_max_pixels(clips: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("ARTFLOW_MAX_PIXELS", "1000")  # the clip is 64x48 = 3072
    result = _run(clips, tmp_path, _clip_graph(str(clips / "ok.mp4")))
    assert result.code == 2 and "ARTFLOW_MAX_PIXELS" in result.err and len(result.error_lines) == 1


def test_video_load_declares_its_frames_to_the_budget(clips: Path, tmp_path: Path, monkeypatch) -> None:
    import artflow as af
    from artflow.budget import estimate_node
    from artflow.errors import ArtflowError

    g = af.Graph(seed=1)
    g.add("color.invert", image=g.add("video.load", "v", path=str(clips / "ok.mp4")))
    vg = g.validate()
    est = estimate_node(vg.specs["v"], vg.params["v"], {}, clips)
    assert est.outputs["image"] == (48, 48, 64, 3)
    monkeypatch.setenv("ARTFLOW_MAX_MEMORY_MB", "1")
    with pytest.raises(ArtflowError, match="ARTFLOW_MAX_MEMORY_MB|budget"):
        g.run(output_dir=tmp_path, progress=False)


def test_a_clip_in_chunks_counts_its_frames_once(clips: Path, tmp_path: Path, monkeypatch) -> None:
    import imageio_ffmpeg

    import artflow as af
    from artflow import video

    calls = []
    real = imageio_ffmpeg.count_frames_and_secs
    monkeypatch.setattr(imageio_ffmpeg, "count_frames_and_secs", lambda p: calls.append(p) or real(p))
    video._MEMO.clear()
    g = af.Graph(seed=1)
    g.add("image.save_animation", image=g.add("video.load", path=str(clips / "ok.mp4")), path="c.mp4")
    run = video.run_clip(g, output_dir=tmp_path, chunk_frames=8)
    assert run.chunks == 6 and len(calls) == 1


def test_a_frame_folder_in_chunks_is_listed_once(clips: Path, tmp_path: Path, monkeypatch) -> None:
    import artflow as af
    from artflow import video

    listed = []
    real = Path.iterdir

    def counting(self: Path):
        if self.name == "frames":
            listed.append(self)
        return real(self)

    monkeypatch.setattr(Path, "iterdir", counting)
    video._MEMO.clear()
    g = af.Graph(seed=1)
    g.add("image.save_animation", image=g.add("video.load", path=str(clips / "frames")), path="c.mp4")
    run = video.run_clip(g, output_dir=tmp_path, chunk_frames=5)
    assert run.chunks == 6 and len(listed) == 1
