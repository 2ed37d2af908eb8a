"""The Ray backend: a pool of Ray actors (one CPU each) fed small batches of jobs by the driver.

Each actor holds one Engine for its life. Without a shared filesystem (the default) an actor
writes nothing: an item's files travel back with its record and the driver writes them. A dead
actor (its process, or its whole node) is replaced, and the items it had in hand render again
elsewhere, marked ``retried``. Ray is imported only when this backend runs.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from ..models import usable_cores
from .dispatch import MAX_ATTEMPTS, OnRecord, failed_record, take
from .spec import GalleryError
from .worker import thread_env

#: seconds to wait for a Ray worker when none is alive (a node died and no CPU is free)
RAY_WAIT_SECONDS = 120.0


class RayRenderer:
    """A Ray actor: holds one Engine (and its ONNX sessions) for its life and renders batches of
    jobs. With ``out_root=None`` it writes nothing: the files go back to the driver with the
    records (cluster nodes need not share a filesystem)."""

    def __init__(self, threads: int, out_root: str | None) -> None:
        from .worker import get_engine, init_worker

        init_worker(threads, die_with_parent=False)
        self.out_root = Path(out_root) if out_root else None
        self.engine = get_engine(threads)

    def ready(self) -> str:
        """Where this actor runs (the Ray node id)."""
        import ray

        return ray.get_runtime_context().get_node_id()

    def render(self, jobs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        from .worker import render_job

        node = self.ready()[:12]
        out = []
        for job in jobs:
            record = render_job(self.engine, job, self.out_root)
            record["node"] = node
            out.append(record)
        return out


class RayBackend:
    """Ray actors, one CPU each, fed small batches of jobs by the driver.

    Joins ``address`` when given, otherwise starts a local Ray with one CPU per core (or uses
    the one already running in this process). An actor that dies (its process, or its whole
    node) is replaced; its unfinished items are rendered again elsewhere and marked ``retried``.
    """

    name = "ray"

    def __init__(self, workers: int | None = None, threads: int | None = None, address: str | None = None,
                 shared_output: bool = False):
        self.address = address
        self.workers = workers
        self.threads = threads
        self.shared_output = shared_output
        self._started = False

    def describe(self) -> str:
        where = self.address or "local"
        files = "actors write files" if self.shared_output else "files written by the driver"
        return (f"ray ({where}), {self.workers or 'auto'} actor(s) × {self.threads or 'auto'} thread(s), "
                f"{files}")

    def _init(self) -> Any:
        try:
            import ray
        except ImportError:
            raise GalleryError("the ray backend needs Ray: pip install 'artflow[ray]'") from None
        if not ray.is_initialized():
            import logging

            options: dict[str, Any] = {"include_dashboard": False, "logging_level": logging.WARNING,
                                       "log_to_driver": False}
            try:
                if self.address:
                    ray.init(address=self.address, **options)
                else:
                    ray.init(num_cpus=usable_cores(), **options)
            except Exception as exc:  # noqa: BLE001 - one line for the person
                where = f"at {self.address}" if self.address else "locally"
                hint = token_hint(self.address)
                raise GalleryError(f"cannot start or join Ray {where}: {exc}{hint}") from None
            self._started = True
        return ray

    def run(self, jobs: Iterable[dict[str, Any]], out_root: Path, on_record: OnRecord,
            expected: int | None = None) -> None:
        ray = self._init()
        try:
            cpus = int(ray.cluster_resources().get("CPU", usable_cores()))
            workers = max(1, self.workers or cpus)
            if expected is not None:
                workers = max(1, min(workers, expected))
            threads = self.threads or max(1, cpus // workers)
            self.workers, self.threads = workers, threads
            batch = 1 if expected is None or expected < 50 * workers else 8
            _RayScheduler(ray, workers, threads, None if not self.shared_output else str(out_root.resolve()),
                          batch).run(iter(jobs), on_record)
        finally:
            if self._started:
                ray.shutdown()
                self._started = False


def token_hint(address: str | None) -> str:
    """What to check when joining a cluster failed: Ray ≥ 2.52 clusters may demand a token."""
    if not address:
        return ""
    import os

    if os.environ.get("RAY_AUTH_TOKEN") or os.environ.get("RAY_AUTH_TOKEN_PATH"):
        return " (a token is set: is it this cluster's, and RAY_AUTH_MODE=token?)"
    if (Path.home() / ".ray" / "auth_token").is_file():
        return " (using ~/.ray/auth_token: if the cluster has another token, set RAY_AUTH_TOKEN_PATH)"
    return (" (no Ray token found: if the cluster uses token authentication, set RAY_AUTH_MODE=token "
            "and RAY_AUTH_TOKEN_PATH to its token file, or RAY_AUTH_TOKEN)")


class _RayScheduler:
    """Feeds a pool of render actors: two batches in flight per actor; a dead actor's batches go
    back in the queue (at most MAX_ATTEMPTS tries per item) and a replacement is started."""

    def __init__(self, ray: Any, workers: int, threads: int, out_root: str | None, batch: int):
        self.ray = ray
        self.workers = workers
        self.batch = batch
        env = {"env_vars": thread_env(threads)}
        self.actor_class = ray.remote(num_cpus=1, max_restarts=0, runtime_env=env)(RayRenderer)
        self.args = (threads, out_root)
        self.live: dict[Any, int] = {}  # actor -> batches in flight
        self.starting: dict[Any, Any] = {}  # ready() ref -> actor
        self.inflight: dict[Any, tuple[Any, list[dict[str, Any]]]] = {}
        self.attempts: dict[str, int] = {}
        self.retry: deque[dict[str, Any]] = deque()
        self.dead: set[Any] = set()
        self.deaths = 0
        self.last_error = ""

    def _start(self) -> None:
        actor = self.actor_class.remote(*self.args)
        self.starting[actor.ready.remote()] = actor

    def _next_batch(self, jobs: Iterator[dict[str, Any]]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        while self.retry and len(out) < self.batch:
            out.append(self.retry.popleft())
        if len(out) < self.batch:
            out += take(jobs, self.batch - len(out))
        return out

    def run(self, jobs: Iterator[dict[str, Any]], on_record: OnRecord) -> None:
        ray = self.ray
        for _ in range(self.workers):
            self._start()
        exhausted = False
        idle_since: float | None = None
        try:
            while True:
                for actor in list(self.live):
                    while self.live.get(actor, 2) < 2 and not (exhausted and not self.retry):
                        batch = self._next_batch(jobs)
                        if not batch:
                            exhausted = True
                            break
                        self.inflight[actor.render.remote(batch)] = (actor, batch)
                        self.live[actor] += 1
                if not self.inflight and exhausted and not self.retry:
                    return
                waiting = list(self.inflight) + list(self.starting)
                if not self.live and not self.inflight:
                    import time

                    idle_since = idle_since or time.monotonic()
                    if not waiting or time.monotonic() - idle_since > RAY_WAIT_SECONDS:
                        self._give_up(jobs, on_record)
                        return
                else:
                    idle_since = None
                done, _ = ray.wait(waiting, num_returns=1, timeout=1.0)
                for ref in done:
                    if ref in self.starting:
                        self._started_one(ref)
                    else:
                        self._finished(ref, on_record)
        finally:
            for actor in list(self.live) + list(self.starting.values()):
                ray.kill(actor)

    def _started_one(self, ref: Any) -> None:
        actor = self.starting.pop(ref)
        try:
            self.ray.get(ref)
        except Exception as exc:  # noqa: BLE001 - an actor that cannot start
            self._died(actor, exc)
            return
        self.live[actor] = 0

    def _finished(self, ref: Any, on_record: OnRecord) -> None:
        actor, batch = self.inflight.pop(ref)
        try:
            records = self.ray.get(ref)
        except Exception as exc:  # noqa: BLE001 - the actor (or its node) died: try elsewhere
            self._died(actor, exc)
            for job in batch:
                n = self.attempts[job["key"]] = self.attempts.get(job["key"], 0) + 1
                if n >= MAX_ATTEMPTS:
                    on_record(job, failed_record(job, f"Ray workers died {n} times while this item was being "
                                                f"rendered (last: {self.last_error})"))
                else:
                    self.retry.append(job)
            return
        if actor in self.live:
            self.live[actor] -= 1
        for job, record in zip(batch, records, strict=True):
            if self.attempts.get(job["key"]):
                record["retried"] = self.attempts[job["key"]]
            on_record(job, record)

    def _died(self, actor: Any, exc: BaseException) -> None:
        from ..errors import one_line

        self.last_error = one_line(str(exc))[:300]
        if actor in self.dead:
            return
        self.dead.add(actor)
        self.live.pop(actor, None)
        self.deaths += 1
        try:
            self.ray.kill(actor)
        except Exception:  # noqa: BLE001, S110 - already gone
            pass
        if self.deaths <= 4 * self.workers and len(self.live) + len(self.starting) < self.workers:
            self._start()

    def _give_up(self, jobs: Iterator[dict[str, Any]], on_record: OnRecord) -> None:
        error = (f"no Ray worker could run for {RAY_WAIT_SECONDS:.0f}s (last error: "
                 f"{self.last_error or 'none'}); check the cluster (`ray status`)")
        for job in list(self.retry) + list(jobs):
            on_record(job, failed_record(job, error))
        self.retry.clear()
