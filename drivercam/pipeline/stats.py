"""The pipeline's measurements: FPS meter, frame-interval meter, shared counters and the stats snapshot."""

from __future__ import annotations

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
        inference_cpu_ms: mean CPU time per frame of the inference threads inside
            the classifier (ONNX Runtime's own pool threads, if any, are not in it).
    """

    frames_read: int
    frames_inferred: int
    frames_delivered: int
    dropped: int
    fps: float
    mean_inference_ms: float
    inference_cpu_ms: float = 0.0


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


class SharedCounter:
    """An integer that several threads add to and read."""

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


__all__ = ["Clock", "FpsMeter", "IntervalMeter", "PipelineStats", "SharedCounter"]
