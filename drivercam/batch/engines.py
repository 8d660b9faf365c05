"""Where batch work runs: local worker processes, or Ray actors on a cluster.

Both engines take ``(method, task)`` pairs, run ``Worker.method(task)`` on
some worker and yield the results as they finish. Each worker holds one ONNX
session, loaded once. Neither engine schedules anything itself: the local one
is :class:`concurrent.futures.ProcessPoolExecutor`, the Ray one a
:class:`ray.util.ActorPool` of actors that Ray restarts, and whose calls it
retries, when a worker dies.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol

from drivercam._closing import Closing
from drivercam.batch.tasks import WorkerConfig
from drivercam.batch.work import Worker
from drivercam.errors import DrivercamError

__all__ = ["RAY_INSTALL_HINT", "Engine", "LocalEngine", "RayEngine", "import_ray"]

logger = logging.getLogger(__name__)

RAY_INSTALL_HINT = "pip install 'drivercam[ray]'"
RETRIES = 4
"""How often Ray restarts a dead worker and retries the call it was running."""


class Engine(Protocol):
    """Runs worker methods on tasks and yields their results as they finish."""

    workers: int

    def map(self, calls: Sequence[tuple[str, Any]]) -> Iterator[Any]: ...

    def close(self) -> None: ...


# -- local processes ---------------------------------------------------------------

_WORKER: Worker | None = None


def _init_local_worker(config: WorkerConfig) -> None:
    global _WORKER
    # Ctrl-C reaches the whole process group; the parent decides what stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _WORKER = Worker(config)


def _call_local(method: str, task: Any) -> Any:
    assert _WORKER is not None, "worker process was not initialised"
    return getattr(_WORKER, method)(task)


class LocalEngine(Closing):
    """Worker processes on this machine (spawned, so no thread or lock is inherited half-held).

    Args:
        config: the model each worker loads.
        workers: worker processes.
    """

    def __init__(self, config: WorkerConfig, workers: int) -> None:
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers!r}")
        self.workers = workers
        self._pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_local_worker,
            initargs=(config,),
        )

    def map(self, calls: Sequence[tuple[str, Any]]) -> Iterator[Any]:
        futures: list[Future[Any]] = []
        try:
            futures = [self._pool.submit(_call_local, method, task) for method, task in calls]
            for future in as_completed(futures):
                yield future.result()
        except BrokenProcessPool as error:
            raise DrivercamError(
                "a batch worker process died (killed, or out of memory?); finished videos are kept: "
                "run the same command again to do the rest"
            ) from error
        finally:
            for future in futures:
                future.cancel()

    def pids(self) -> list[int]:
        """Process ids of the worker processes started so far."""
        return sorted(getattr(self._pool, "_processes", {}) or {})

    def close(self) -> None:
        """Stop the workers now: running tasks are abandoned (their outputs were never renamed)."""
        processes = list(getattr(self._pool, "_processes", {}).values())
        self._pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            if process.is_alive():
                process.terminate()
        for process in processes:
            process.join(timeout=5.0)


# -- Ray ---------------------------------------------------------------------------


def import_ray() -> Any:
    """The ``ray`` module, or a DrivercamError saying how to install it."""
    try:
        import ray
    except ImportError as error:
        raise DrivercamError(
            f"--engine ray needs Ray, which is not installed; install it with: {RAY_INSTALL_HINT}"
        ) from error
    return ray


class RayEngine(Closing):
    """A pool of Ray actors, each one :class:`Worker` with its ONNX session.

    Connects to ``address`` (``auto``, ``ray://host:10001``, ``host:6379``), or
    starts a local Ray instance when it is None and none is running. Inputs must
    be readable from every node (a shared filesystem or URLs).

    Args:
        config: the model each actor loads (the path must exist on every node).
        workers: actors; None: one per CPU of the cluster.
        address: the cluster; None starts (or joins) a local instance.
        gpus_per_worker: GPUs each actor asks Ray for (0: none).
        init_kwargs: extra ``ray.init`` keywords for a local instance (e.g. ``num_cpus``).
    """

    def __init__(
        self,
        config: WorkerConfig,
        workers: int | None = None,
        *,
        address: str | None = None,
        gpus_per_worker: float = 0.0,
        init_kwargs: dict[str, Any] | None = None,
    ) -> None:
        ray = import_ray()
        from ray.util import ActorPool

        self._ray = ray
        self._owns = False
        if not ray.is_initialized():
            kwargs: dict[str, Any] = {"include_dashboard": False, "logging_level": logging.ERROR}
            kwargs.update(init_kwargs or {})
            ray.init(address=address, **kwargs)
            self._owns = True
        if workers is None:
            workers = max(1, int(ray.cluster_resources().get("CPU", 1) // 1))
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers!r}")
        self.workers = workers

        class RayWorker(Worker):
            def __init__(self, config: WorkerConfig) -> None:
                super().__init__(config)
                self.node_id = ray.get_runtime_context().get_node_id()

            def pid(self) -> int:
                import os

                return os.getpid()

        actor = ray.remote(
            num_cpus=1,
            num_gpus=gpus_per_worker,
            max_restarts=RETRIES,
            max_task_retries=RETRIES,
        )(RayWorker)
        self.actors = [actor.remote(config) for _ in range(workers)]
        self._pool = ActorPool(self.actors)

    def pids(self) -> list[int]:
        """Process ids of the actors (on their nodes)."""
        return sorted(self._ray.get([actor.pid.remote() for actor in self.actors]))

    def map(self, calls: Sequence[tuple[str, Any]]) -> Iterator[Any]:
        try:
            yield from self._pool.map_unordered(lambda a, call: getattr(a, call[0]).remote(call[1]), list(calls))
        except self._ray.exceptions.RayError as error:
            # Retries exhausted (a worker that keeps dying), or the cluster went away.
            first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise DrivercamError(
                f"a Ray worker failed after {RETRIES} retries ({first}); finished videos are kept: "
                "run the same command again to do the rest"
            ) from error

    def close(self) -> None:
        for actor in getattr(self, "actors", []):
            self._ray.kill(actor)
        self.actors = []
        if self._owns:
            self._ray.shutdown()
            self._owns = False
