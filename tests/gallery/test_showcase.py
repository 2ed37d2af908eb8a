"""The README's main-job spec: gallery/showcase.toml checks, has ≥ 48 items, uses the four model
kinds, and renders through ONNX Runtime without importing TensorFlow."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from artflow.gallery.jobs import expand_jobs
from artflow.gallery.spec import load_spec

SHOWCASE = Path(__file__).resolve().parents[2] / "gallery" / "showcase.toml"

PROBE = """
import json, sys
from pathlib import Path
from artflow.gallery.backends import LocalBackend
from artflow.gallery.jobs import expand_jobs
from artflow.gallery.spec import load_spec
jobs = expand_jobs(load_spec(sys.argv[1]))
records = []
LocalBackend(0).run([j.to_dict() for j in jobs[:2]], Path(sys.argv[2]), lambda job, r: records.append(r))
print(json.dumps({"records": records, "tensorflow": "tensorflow" in sys.modules}))
"""


def test_the_showcase_spec_checks_and_has_at_least_48_items() -> None:
    spec = load_spec(SHOWCASE)
    jobs = expand_jobs(spec)
    assert len(jobs) >= 48
    assert len({j.name for j in jobs}) == len(jobs)
    types = {n["type"] for n in jobs[0].graph["nodes"].values()}
    assert {"gan.generate", "classify.image", "style.transfer", "detect.objects"} <= types


def test_showcase_items_render_without_importing_tensorflow(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-c", PROBE, str(SHOWCASE), str(tmp_path)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["tensorflow"] is False
    for record in out["records"]:
        assert record["status"] == "ok", record["error"]
        assert set(record["models"]) == {"styled", "found", "kind", "digit", "read"}
        assert record["provider"] == "cpu"
        assert record["models"]["digit"]["digits"] != record["models"]["read"]["digits"]
        assert {lab["node"] for lab in record["images"][0]["labels"]} == {"kind", "read"}
        assert (tmp_path / record["files"][0]).is_file()
