"""A COCO-subset file with errors gives one clear line per problem and nothing is trained."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from artflow_detector.coco import AnnotationError, load_annotations
from PIL import Image


def _dataset(root: Path, annotations: list[dict], images: list[dict] | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.zeros((40, 60, 3), np.uint8)).save(root / "a.png")
    data = {
        "images": images if images is not None
        else [{"id": 1, "file_name": "a.png", "width": 60, "height": 40}],
        "categories": [{"id": 7, "name": "cup"}, {"id": 9, "name": "pen"}],
        "annotations": annotations,
    }
    path = root / "coco.json"
    path.write_text(json.dumps(data))
    return path


def test_a_good_file_loads_as_xyxy_boxes_with_class_indices(tmp_path):
    path = _dataset(tmp_path, [{"image_id": 1, "category_id": 9, "bbox": [5, 6, 10, 20]}])
    data = load_annotations(path)
    assert data.labels == ["cup", "pen"]
    assert np.allclose(data.boxes[0], [[5, 6, 15, 26]]) and data.classes[0].tolist() == [1]


def test_every_problem_is_one_line(tmp_path):
    path = _dataset(
        tmp_path,
        [{"image_id": 1, "category_id": 7, "bbox": [50, 30, 30, 20]},     # outside the 60x40 image
         {"image_id": 1, "category_id": 42, "bbox": [1, 1, 5, 5]},       # unknown category
         {"image_id": 5, "category_id": 7, "bbox": [1, 1, 5, 5]},        # unknown image
         {"image_id": 1, "category_id": 7, "bbox": [1, 1, 0, 5]}],       # no area
        images=[{"id": 1, "file_name": "a.png"}, {"id": 2, "file_name": "missing.jpg"}],
    )
    with pytest.raises(AnnotationError) as info:
        load_annotations(path)
    problems = info.value.problems
    assert len(problems) == 5, problems
    text = "\n".join(problems)
    assert "missing.jpg' not found" in text
    assert "lies outside image 1 (60x40)" in text
    assert "unknown category id 42" in text
    assert "unknown image id 5" in text
    assert "no area" in text
    message = str(info.value)
    assert "\n" not in message and "5 problems; nothing trained: " in message and "no area" in message


def test_the_cli_reports_the_problems_and_trains_nothing(tmp_path, capsys):
    from artflow.cli import main

    path = _dataset(tmp_path / "data", [{"image_id": 1, "category_id": 3, "bbox": [-20, 0, 5, 5]}])
    out = tmp_path / "run"
    args = ["train", "detector", "--annotations", str(path), "--quick", "-o", str(out)]
    with pytest.raises(SystemExit) as info:
        main(args)
    assert info.value.code != 0
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and "2 problems; nothing trained: " in err[0]
    assert "unknown category id 3" in err[0] and "lies outside image 1" in err[0]
    assert not list(out.glob("*.onnx")) and not list(out.glob("*.keras"))


def test_broken_json_is_one_line(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text("{not json")
    with pytest.raises(AnnotationError) as info:
        load_annotations(path)
    assert len(info.value.problems) == 1 and "not valid JSON" in info.value.problems[0]
