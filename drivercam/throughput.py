"""Throughput helpers for the pipeline: FPS meter, counters, stats, inference-thread planning."""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

Clock = Callable[[], float]


class FpsMeter:
    """Frames per second over a sliding window of recent ticks.

    Args:
        window: number of most recent ticks the rate is computed over.
        clock: monotonic clock in seconds; injectable so tests can use fake ticks.
    """

    def __init__(self, window: int = 30, clock: Clock = time.monotonic) -> None:
        if window < 2:
            raise ValueError(f"FpsMeter window must be >= 2 ticks, got {window!r}")
        self._clock = clock
        self._ticks: deque[float] = deque(maxlen=window)

    def tick(self) -> float:
        """Record one frame now and return the updated rate."""
        self._ticks.append(self._clock())
        return self.fps

    @property
    def fps(self) -> float:
        """Ticks per second over the window; 0.0 until two ticks are known."""
        if len(self._ticks) < 2:
            return 0.0
        span = self._ticks[-1] - self._ticks[0]
        return (len(self._ticks) - 1) / span if span > 0 else 0.0

    def reset(self) -> None:
        """Forget every tick."""
        self._ticks.clear()


@dataclass(frozen=True)
class PipelineStats:
    """A snapshot of the pipeline's counters.

    Attributes:
        frames_read: frames the capture thread read from the source.
        frames_inferred: frames the classifier ran on.
        frames_delivered: results handed to the caller.
        dropped: stale frames replaced before inference (live policy only).
        fps: results per second delivered to the caller, over a sliding window.
        mean_inference_ms: mean classifier time per frame (batch time / batch size).
    """

    frames_read: int
    frames_inferred: int
    frames_delivered: int
    dropped: int
    fps: float
    mean_inference_ms: float


class IntervalMeter:
    """Smoothed time between ticks (an exponential moving average); written by one thread.

    Args:
        smoothing: weight of each new interval.
    """

    def __init__(self, smoothing: float = 0.1) -> None:
        self._smoothing = smoothing
        self._last: float | None = None
        self._value: float | None = None

    def add(self, t: float) -> None:
        """Record a tick at time ``t`` (seconds)."""
        if self._last is not None:
            dt = t - self._last
            self._value = dt if self._value is None else self._value + self._smoothing * (dt - self._value)
        self._last = t

    @property
    def value(self) -> float | None:
        """The smoothed interval in seconds; None until two ticks are known."""
        return self._value


class Counter:
    """An integer shared between threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._value = 0

    def add(self, n: int = 1) -> None:
        with self._lock:
            self._value += n

    @property
    def value(self) -> int:
        with self._lock:
            return self._value


def available_cores() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS, Windows
        return max(1, os.cpu_count() or 1)


def plan_workers(
    *, live: bool, on_cpu: bool, workers: int | None = None, threads: int | None = None,
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


__all__ = ["Counter", "FpsMeter", "IntervalMeter", "PipelineStats", "available_cores", "plan_workers"]
