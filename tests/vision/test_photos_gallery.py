"""gallery/photos.toml, the second showcase: checks, makes 5 photos × 2 styles, uses every
pretrained-vision node, and one poster renders through ONNX Runtime without TensorFlow."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from artflow.gallery.jobs import expand_jobs
from artflow.gallery.spec import load_spec

SPEC = Path(__file__).resolve().parents[2] / "gallery" / "photos.toml"

PROBE = """
import json, sys
from pathlib import Path
from artflow.gallery.backends import LocalBackend
from artflow.gallery.jobs import expand_jobs
from artflow.gallery.spec import load_spec
jobs = [j for j in expand_jobs(load_spec(sys.argv[1])) if j.name == "astronaut-glass"]
records = []
LocalBackend(0).run([j.to_dict() for j in jobs], Path(sys.argv[2]), lambda job, r: records.append(r))
print(json.dumps({"records": records, "tensorflow": "tensorflow" in sys.modules}))
"""


def test_the_photos_spec_checks_and_uses_every_vision_node() -> None:
    jobs = expand_jobs(load_spec(SPEC))
    assert sorted(j.name for j in jobs) == sorted(f"{p}-{s}" for p in ("astronaut", "chelsea", "coffee",
                                                                        "motorcycle", "rocket")
                                                   for s in ("glass", "halftone"))
    types = {n["type"] for n in jobs[0].graph["nodes"].values()}
    assert {"edges.hed", "detect.objects", "pose.estimate", "draw.pose", "matte.person",
            "style.transfer", "composite.blend"} <= types


def test_a_photo_poster_renders_without_tensorflow(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-c", PROBE, str(SPEC), str(tmp_path)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["tensorflow"] is False
    (record,) = out["records"]
    assert record["status"] == "ok", record
    boxes = record["images"][0]["boxes"]
    assert [b["label"] for b in boxes] == ["person"]
