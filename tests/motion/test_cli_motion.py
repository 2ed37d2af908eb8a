"""`artflow run --frames/--fps`: a run over frames from the command line, and bad input refused."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

GRAPH = {
    "artflow": 1, "seed": 4, "frames": 6, "fps": 12,
    "nodes": {
        "noise": {"type": "generate.noise", "params": {"width": 48, "height": 48, "color": "plasma"}},
        "kal": {"type": "image.kaleidoscope", "inputs": {"image": "noise"},
                "params": {"angle": {"keyframes": {"0": 0, "6": 60}, "ease": "in_out_cubic",
                                     "loop": "repeat"}}},
        "frames": {"type": "image.save", "inputs": {"image": "kal"}, "params": {"path": "f/{frame:04d}.png"}},
        "anim": {"type": "image.save_animation", "inputs": {"image": "kal"}, "params": {"path": "loop.mp4"}},
    },
}


def _write(tmp_path: Path, graph: dict, name: str = "loop.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(graph))
    return path


def test_run_over_frames_from_the_command_line(artflow_cli, tmp_path: Path) -> None:
    path = _write(tmp_path, GRAPH)
    proc = artflow_cli("run", str(path), "-o", str(tmp_path / "out"), "--frames", "8", "--fps", "16",
                       "--workers", "2", "--json")
    assert proc.returncode == 0, proc.stderr
    timeline = json.loads(proc.stdout)["timeline"]
    assert timeline["frames"] == 8 and timeline["fps"] == 16
    assert timeline["runs"]["noise"] == 1 and timeline["runs"]["kal"] == 8
    from artflow.video import describe

    info = describe(tmp_path / "out" / "loop.mp4")
    assert info["frames"] == 8 and info["fps"] == 16
    assert len(list((tmp_path / "out" / "f").glob("*.png"))) == 8


def _bad(where: list[str], value) -> dict:
    graph = copy.deepcopy(GRAPH)
    node, param = where
    graph["nodes"][node]["params"][param] = value
    return graph


@pytest.mark.parametrize(("graph", "args", "words"), [
    (_bad(["kal", "angle"], {"keyframes": {"0": 0, "6": 400}}), [], "reaches 400 at frame 6"),
    (_bad(["kal", "angle"], {"keyframes": {"0": 0, "2.5": 10}}), [], "'2.5' is not a whole frame number"),
    (_bad(["kal", "angle"], {"keyframes": {"-1": 0}}), [], "'-1' is not a whole frame number"),
    (_bad(["frames", "path"], {"keyframes": {"0": 1}}), [], "param 'path' cannot take a schedule"),
    (GRAPH, ["--frames", "200001"], "200001 frames is over the budget of 100000"),
])
def test_bad_motion_input_is_one_line_exit_2_and_nothing_written(artflow_cli, tmp_path: Path, graph, args,
                                                                words) -> None:
    path = _write(tmp_path, graph)
    proc = artflow_cli("run", str(path), "-o", str(tmp_path / "out"), *args)
    assert proc.returncode == 2, proc.stderr
    assert words in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists()
