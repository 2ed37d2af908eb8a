"""Where jobs run: a local process pool (default) or Ray actors on a local or remote Ray cluster.

Both call :func:`artflow.gallery.worker.render_job` in long-lived workers that each hold one
Engine (and so one set of ONNX Runtime sessions) and hand back a record. Pool workers write the
item's files themselves; Ray actors send them back with the record and the driver writes them
(no shared filesystem needed), unless told the output folder is shared. Jobs stream in: only a
few per worker are in flight, so the driver's memory does not grow with the gallery. Worker
count × inference threads is kept at the number of cores.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..models import usable_cores
from .spec import GalleryError
from .worker import thread_env

#: called with (job, record) as each item finishes
OnRecord = Callable[[dict[str, Any], dict[str, Any]], None]
MAX_ATTEMPTS = 3
#: jobs sorted for model affinity a window at a time (the whole gallery is never held)
AFFINITY_WINDOW = 256
#: seconds to wait for a Ray worker when none is alive (a node died and no CPU is free)
RAY_WAIT_SECONDS = 120.0


def threads_per_worker(workers: int, cores: int | None = None) -> int:
    """Inference threads per worker so that workers × threads ≈ cores."""
    cores = cores or usable_cores()
    return max(1, cores // max(1, workers))


@contextmanager
def _environ(values: dict[str, str]) -> Iterator[None]:
    """Set environment variables (inherited by processes started meanwhile), then restore them."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


#: imported once in the fork server, so pool workers start without importing them again
PRELOAD = ["artflow", "numpy", "PIL.Image", "PIL.PngImagePlugin", "onnxruntime", "artflow.gallery.worker",
           "artflow.engine", "artflow.models"]


def worker_context() -> Any:
    """The multiprocessing context for pool workers: a fork server that has imported the
    libraries a worker needs (POSIX), else spawn. Forking from a server that has never run a
    job or started a thread is safe, and saves each worker the imports (~0.3 s of CPU each);
    the server starts with the environment of the first pool (its thread limits)."""
    import multiprocessing

    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    return ctx


def _failed(job: dict[str, Any], error: str) -> dict[str, Any]:
    return {"key": job["key"], "status": "failed", "images": [], "files": [], "models": {},
            "provider": None, "seconds": None, "error": error}


def _windows(jobs: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    while True:
        window = []
        for job in jobs:
            window.append(job)
            if len(window) >= size:
                break
        if not window:
            return
        yield window


class LocalBackend:
    """A pool of worker processes (forked from a preloaded server where the OS allows, else
    spawned); ``workers=0`` renders in this process (for debugging)."""

    name = "local"

    def __init__(self, workers: int | None = None, threads: int | None = None):
        self.workers = usable_cores() if workers is None else workers
        self.threads = threads or threads_per_worker(self.workers or 1)

    def describe(self) -> str:
        return f"local, {self.workers} worker(s) × {self.threads} thread(s)"

    def run(self, jobs: Iterable[dict[str, Any]], out_root: Path, on_record: OnRecord,
            expected: int | None = None) -> None:
        source = iter(jobs)
        if self.workers == 0:
            self._inline(source, out_root, on_record)
            return
        attempts: dict[str, int] = {}
        retry: deque[dict[str, Any]] = deque()
        exhausted = [False]

        def next_jobs() -> Iterator[dict[str, Any]]:
            while retry:
                yield retry.popleft()
            for window in _windows(source, AFFINITY_WINDOW):
                yield from _affinity(window, self.workers)
                while retry:
                    yield retry.popleft()
            exhausted[0] = True

        def record(job: dict[str, Any], rec: dict[str, Any]) -> None:
            if attempts.get(job["key"]):
                rec["retried"] = attempts[job["key"]]
            on_record(job, rec)

        while True:
            lost = self._pool_pass(next_jobs(), out_root, record, expected)
            for job in lost:
                attempts[job["key"]] = attempts.get(job["key"], 0) + 1
                if attempts[job["key"]] >= MAX_ATTEMPTS:
                    on_record(job, _failed(job, f"a worker process died {MAX_ATTEMPTS} times while this "
                                                "item was being rendered"))
                else:
                    retry.append(job)
            if not lost and exhausted[0] and not retry:
                return

    def _inline(self, jobs: Iterator[dict[str, Any]], out_root: Path, on_record: OnRecord) -> None:
        from ..models import set_threads
        from .worker import get_engine, init_worker, render_job

        with _environ(thread_env(self.threads)):
            init_worker(self.threads, die_with_parent=False)
            try:
                engine = get_engine(self.threads)
                for job in jobs:
                    on_record(job, render_job(engine, job, out_root))
            finally:
                set_threads(None)

    def _pool_pass(self, jobs: Iterator[dict[str, Any]], out_root: Path, on_record: OnRecord,
                   expected: int | None) -> list[dict[str, Any]]:
        """Run jobs in a fresh pool; return the jobs lost because a worker process died."""
        first = list(_take(jobs, 2 * self.workers))
        if not first:
            return []
        n = min(self.workers, len(first)) if len(first) < 2 * self.workers else self.workers
        if expected is not None:
            n = max(1, min(n, expected))
        # workers are started on demand while jobs are submitted: the thread limits must be in the
        # environment for the pool's whole life, so each worker starts with them (before numpy)
        from .. import settings

        # the run memory budget is shared: each of the n workers gets its part
        share = {"ARTFLOW_MAX_MEMORY_MB": str(max(1, int(settings.get("ARTFLOW_MAX_MEMORY_MB")) // n))}
        with _environ({**thread_env(self.threads), **share}):
            return self._pool_jobs(worker_context(), n, _chain(first, jobs), out_root, on_record)

    def _pool_jobs(self, ctx: Any, n: int, jobs: Iterator[dict[str, Any]], out_root: Path,
                   on_record: OnRecord) -> list[dict[str, Any]]:
        from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
        from concurrent.futures.process import BrokenProcessPool

        from .worker import init_worker, run_job

        pool = ProcessPoolExecutor(max_workers=n, mp_context=ctx, initializer=init_worker,
                                   initargs=(self.threads, True, os.getpid()))
        inflight: dict[Any, dict[str, Any]] = {}
        lost: list[dict[str, Any]] = []
        limit = 4 * n  # a few jobs per worker queued: enough to keep them busy, never the gallery
        try:
            broken = False
            while not broken:
                for job in _take(jobs, limit - len(inflight)):
                    inflight[pool.submit(run_job, job, str(out_root))] = job
                if not inflight:
                    break
                finished, _ = wait(list(inflight), return_when=FIRST_COMPLETED)
                for fut in finished:
                    job = inflight.pop(fut)
                    try:
                        record = fut.result()
                    except BrokenProcessPool:
                        broken = True
                        lost.append(job)
                        continue
                    on_record(job, record)
            if broken:  # results that arrived before the break still count
                for fut, job in inflight.items():
                    if fut.done() and not fut.cancelled() and fut.exception() is None:
                        on_record(job, fut.result())
                    else:
                        lost.append(job)
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown(wait=True)
        return lost


def _take(jobs: Iterator[dict[str, Any]], n: int) -> list[dict[str, Any]]:
    out = []
    while len(out) < n:
        try:
            out.append(next(jobs))
        except StopIteration:
            break
    return out


def _chain(first: list[dict[str, Any]], rest: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    yield from first
    yield from rest


def _affinity(window: list[dict[str, Any]], workers: int) -> list[dict[str, Any]]:
    from .jobs import affinity_order

    return affinity_order(window, workers)


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
            out += _take(jobs, self.batch - len(out))
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
                    on_record(job, _failed(job, f"Ray workers died {n} times while this item was being "
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
            on_record(job, _failed(job, error))
        self.retry.clear()


def make_backend(name: str, workers: int | None = None, *, address: str | None = None,
                 shared_output: bool = False) -> Any:
    """A backend by name: 'local' or 'ray'."""
    if name == "local":
        if address:
            raise GalleryError("--ray-address needs --backend ray")
        return LocalBackend(workers)
    if name == "ray":
        return RayBackend(workers, address=address, shared_output=shared_output)
    raise GalleryError(f"unknown backend '{name}'; use local or ray")
