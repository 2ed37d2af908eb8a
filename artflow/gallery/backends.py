"""Where jobs run: a local process pool (default) or Ray Data on a local or remote Ray cluster.

Both call :func:`artflow.gallery.worker.render_job` in long-lived workers that each hold one
Engine (and so one set of ONNX Runtime sessions), write the item's files themselves, and hand
back a record. Worker count × inference threads is kept at the number of cores.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..models import usable_cores
from .spec import GalleryError
from .worker import thread_env

OnRecord = Callable[[dict[str, Any]], None]
#: the output folder of a Ray render actor (a path every node of the cluster sees)
OUT_ENV = "ARTFLOW_GALLERY_OUT"
MAX_ATTEMPTS = 3


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


class LocalBackend:
    """A pool of worker processes (forked from a preloaded server where the OS allows, else
    spawned); ``workers=0`` renders in this process (for debugging)."""

    name = "local"

    def __init__(self, workers: int | None = None, threads: int | None = None):
        self.workers = usable_cores() if workers is None else workers
        self.threads = threads or threads_per_worker(self.workers or 1)

    def describe(self) -> str:
        return f"local, {self.workers} worker(s) × {self.threads} thread(s)"

    def run(self, jobs: list[dict[str, Any]], out_root: Path, on_record: OnRecord) -> None:
        if not jobs:
            return
        if self.workers == 0:
            self._inline(jobs, out_root, on_record)
            return
        attempts = {job["key"]: 0 for job in jobs}
        todo = list(jobs)
        while todo:
            todo = self._pool_pass(todo, out_root, on_record)
            retry = []
            for job in todo:
                attempts[job["key"]] += 1
                if attempts[job["key"]] >= MAX_ATTEMPTS:
                    on_record({"key": job["key"], "status": "failed", "images": [], "files": [],
                               "models": {}, "provider": None, "seconds": None,
                               "error": f"a worker process died {MAX_ATTEMPTS} times while this "
                                        "item was being rendered"})
                else:
                    retry.append(job)
            todo = retry

    def _inline(self, jobs: list[dict[str, Any]], out_root: Path, on_record: OnRecord) -> None:
        from ..models import set_threads
        from .worker import get_engine, init_worker, render_job

        with _environ(thread_env(self.threads)):
            init_worker(self.threads, die_with_parent=False)
            try:
                engine = get_engine(self.threads)
                for job in jobs:
                    on_record(render_job(engine, job, out_root))
            finally:
                set_threads(None)

    def _pool_pass(self, jobs: list[dict[str, Any]], out_root: Path,
                   on_record: OnRecord) -> list[dict[str, Any]]:
        """Run jobs in a fresh pool; return the jobs lost because a worker process died."""
        from .jobs import affinity_order

        n = min(self.workers, len(jobs))
        recorded: set[str] = set()
        # workers are started on demand while jobs are submitted: the thread limits must be in the
        # environment for the pool's whole life, so each worker starts with them (before numpy)
        from .. import settings

        # the run memory budget is shared: each of the n workers gets its part
        share = {"ARTFLOW_MAX_MEMORY_MB": str(max(1, int(settings.get("ARTFLOW_MAX_MEMORY_MB")) // n))}
        with _environ({**thread_env(self.threads), **share}):
            self._pool_jobs(worker_context(), n, affinity_order(jobs, n), out_root, on_record, recorded)
        return [job for job in jobs if job["key"] not in recorded]

    def _pool_jobs(self, ctx: Any, n: int, jobs: list[dict[str, Any]], out_root: Path,
                   on_record: OnRecord, recorded: set[str]) -> None:
        from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
        from concurrent.futures.process import BrokenProcessPool

        from .worker import init_worker, run_job

        pool = ProcessPoolExecutor(max_workers=n, mp_context=ctx, initializer=init_worker,
                                   initargs=(self.threads, True, os.getpid()))
        try:
            futures = {pool.submit(run_job, job, str(out_root)): job for job in jobs}
            pending = set(futures)
            broken = False
            while pending and not broken:
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in finished:
                    try:
                        record = fut.result()
                    except BrokenProcessPool:
                        broken = True
                        continue
                    recorded.add(futures[fut]["key"])
                    on_record(record)
            if broken:  # results that arrived before the break still count
                for fut, job in futures.items():
                    if job["key"] in recorded or not fut.done() or fut.cancelled():
                        continue
                    if fut.exception() is None:
                        recorded.add(job["key"])
                        on_record(fut.result())
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown(wait=True)


class RayRenderer:
    """Ray Data callable class: holds one Engine (and its ONNX sessions) for the actor's life.

    Its settings come through the actor's environment (``runtime_env``), not constructor
    arguments, so Ray can always restart a killed actor.
    """

    def __init__(self) -> None:
        from .. import settings
        from .worker import get_engine, init_worker

        threads = settings.get("ARTFLOW_THREADS") or 1
        init_worker(threads, die_with_parent=False)
        self.out_root = Path(settings.get(OUT_ENV))
        self.engine = get_engine(threads)

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        import numpy as np

        from .worker import render_job

        records = [json.dumps(render_job(self.engine, json.loads(str(text)), self.out_root))
                   for text in batch["job"]]
        return {"record": np.array(records, dtype=object)}


class RayBackend:
    """Ray Data: ``map_batches(RayRenderer, compute=ActorPoolStrategy(size=n), batch_size=1)``.

    Joins ``address`` when given (outputs must then be on a filesystem every node shares),
    otherwise starts a local Ray with one CPU per core (or uses the one already running).
    """

    name = "ray"

    def __init__(self, workers: int | None = None, threads: int | None = None, address: str | None = None):
        self.address = address
        self.workers = workers
        self.threads = threads
        self._started = False

    def describe(self) -> str:
        where = self.address or "local"
        return f"ray ({where}), {self.workers or 'auto'} actor(s) × {self.threads or 'auto'} thread(s)"

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
                raise GalleryError(f"cannot start or join Ray {where}: {exc}") from None
            self._started = True
        return ray

    def run(self, jobs: list[dict[str, Any]], out_root: Path, on_record: OnRecord) -> None:
        if not jobs:
            return
        ray = self._init()
        try:
            cpus = int(ray.cluster_resources().get("CPU", usable_cores()))
            workers = max(1, min(self.workers or cpus, len(jobs)))
            threads = self.threads or max(1, cpus // workers)
            self.workers, self.threads = workers, threads
            import logging

            ctx = ray.data.DataContext.get_current()  # (importing ray.data sets up its logging)
            logging.getLogger("ray.data").setLevel(logging.ERROR)
            ctx.enable_progress_bars = False
            ctx.print_on_execution_start = False
            items = [{"job": json.dumps(job)} for job in jobs]
            ds = ray.data.from_items(items, override_num_blocks=min(len(items), 1000))
            env = {**thread_env(threads), OUT_ENV: str(out_root.resolve())}
            ds = ds.map_batches(
                RayRenderer,
                compute=ray.data.ActorPoolStrategy(size=workers),
                batch_size=1,
                num_cpus=1,
                runtime_env={"env_vars": env},
            )
            for row in ds.iter_rows():
                on_record(json.loads(row["record"]))
        finally:
            if self._started:
                ray.shutdown()
                self._started = False


def make_backend(name: str, workers: int | None = None, *, address: str | None = None) -> Any:
    """A backend by name: 'local' or 'ray'."""
    if name == "local":
        if address:
            raise GalleryError("--ray-address needs --backend ray")
        return LocalBackend(workers)
    if name == "ray":
        return RayBackend(workers, address=address)
    raise GalleryError(f"unknown backend '{name}'; use local or ray")
