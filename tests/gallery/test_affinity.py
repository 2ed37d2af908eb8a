"""Pool workers are handed items that share models, so each loads fewer of them."""

from __future__ import annotations

from pathlib import Path

from artflow.gallery.jobs import affinity_order, expand_jobs
from artflow.gallery.spec import load_spec

from .conftest import write_spec


def _jobs(models: list[str]) -> list[dict]:
    return [{"index": i, "key": str(i), "models": [m]} for i, m in enumerate(models)]


def test_each_worker_gets_a_run_of_models() -> None:
    jobs = _jobs(["a", "b", "c", "d"] * 4)  # spec order: models interleaved
    order = affinity_order(jobs, 2)
    assert sorted(j["index"] for j in order) == list(range(16))
    # the k-th worker to ask keeps taking every second job: one run of models each
    first, second = order[0::2], order[1::2]
    assert {j["models"][0] for j in first} == {"a", "b"}
    assert {j["models"][0] for j in second} == {"c", "d"}


def test_one_worker_or_few_jobs_keep_spec_order() -> None:
    jobs = _jobs(["b", "a", "b"])
    assert affinity_order(jobs, 1) == jobs
    assert affinity_order(jobs, 3) == jobs


def test_jobs_record_the_models_their_nodes_load(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, """
title = "models"
save = ["styled"]
[matrix]
"styled.style" = ["glass", "marble"]
""", """
[graph]
artflow = 1
[graph.nodes.photo]
type = "generate.gradient"
params = {width = 64, height = 64}
[graph.nodes.styled]
type = "style.transfer"
inputs = {image = "photo"}
""")
    jobs = expand_jobs(load_spec(spec))
    assert [job.models for job in jobs] == [["glass"], ["marble"]]
