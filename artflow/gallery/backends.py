"""Where jobs run: a local process pool (default) or Ray actors on a local or remote Ray cluster.

Both call :func:`artflow.gallery.worker.render_job` in long-lived workers that each hold one
Engine (and so one set of ONNX Runtime sessions) and hand back a record. Pool workers write the
item's files themselves; Ray actors send them back with the record and the driver writes them
(no shared filesystem needed), unless told the output folder is shared. Jobs stream in: only a
few per worker are in flight, so the driver's memory does not grow with the gallery. Worker
count × inference threads is kept at the number of cores. The Ray backend lives in
:mod:`artflow.gallery.ray_backend`.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..models import usable_cores
from .dispatch import MAX_ATTEMPTS, OnRecord, failed_record, take
from .spec import GalleryError
from .worker import thread_env

#: jobs sorted for model affinity a window at a time (the whole gallery is never held)
AFFINITY_WINDOW = 256


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
                    why = f"a worker process died {MAX_ATTEMPTS} times while this item was being rendered"
                    on_record(job, failed_record(job, why))
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
        first = list(take(jobs, 2 * self.workers))
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
                for job in take(jobs, limit - len(inflight)):
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


def _chain(first: list[dict[str, Any]], rest: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    yield from first
    yield from rest


def _affinity(window: list[dict[str, Any]], workers: int) -> list[dict[str, Any]]:
    from .jobs import affinity_order

    return affinity_order(window, workers)


def make_backend(name: str, workers: int | None = None, *, address: str | None = None,
                 shared_output: bool = False) -> Any:
    """A backend by name: 'local' or 'ray'."""
    if name == "local":
        if address:
            raise GalleryError("--ray-address needs --backend ray")
        return LocalBackend(workers)
    if name == "ray":
        from .ray_backend import RayBackend

        return RayBackend(workers, address=address, shared_output=shared_output)
    raise GalleryError(f"unknown backend '{name}'; use local or ray")
