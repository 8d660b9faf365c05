"""How many inference threads a run gets, and how many ONNX Runtime threads each."""

from __future__ import annotations

import os


def available_cores() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS, Windows
        return max(1, os.cpu_count() or 1)


def plan_workers(
    *,
    live: bool,
    on_cpu: bool,
    workers: int | None = None,
    threads: int | None = None,
    cores: int | None = None,
) -> tuple[int, int | None]:
    """Inference threads and ONNX Runtime intra-op threads per thread for a run.

    Files on a CPU get two inference threads of ``cores // 2`` intra-op threads
    each: a small network's operators split poorly across cores, and two runs
    side by side keep the cores busy while decoding, drawing and encoding take
    their share (annotating 640x480 on 2 cores: 78 fps against 59 with one
    2-thread run; benchmarks/README.md). Live sources keep one inference
    thread, so the newest frame is never held back; accelerators keep one
    too. What the caller gives is kept; None means "decide".

    Returns:
        ``(workers, threads)``; ``threads`` None lets ONNX Runtime decide.
    """
    cores = available_cores() if cores is None else cores
    if workers is None:
        workers = 2 if not live and on_cpu and cores >= 2 else 1
    if threads is None and workers > 1 and on_cpu:
        threads = max(1, cores // workers)
    return workers, threads


__all__ = ["available_cores", "plan_workers"]
