"""Per-stage timing for ``drivercam bench``: the timer, its statistics, and timed wrappers.

:class:`StageTimer` collects durations per stage from any thread on an
injectable clock; :class:`StageStats` summarises them with :func:`percentile`;
:class:`TimedSource` and :class:`TimedClassifier` wrap a source and a classifier
so the capture, preprocess and inference stages are timed where they really run.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from drivercam.throughput import Clock
from drivercam.types import Frame, FrameSource

__all__ = ["STAGES", "Clock", "StageStats", "StageTimer", "TimedClassifier", "TimedSource", "percentile"]

STAGES = ("capture", "preprocess", "inference", "cam", "render", "encode")


def percentile(samples: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100), interpolating linearly between closest ranks.

    Rank ``r = q / 100 * (n - 1)`` in the sorted samples; a fractional rank
    interpolates between its two neighbours (NumPy's default method).

    Raises:
        ValueError: no samples, or ``q`` outside [0, 100].
    """
    if not samples:
        raise ValueError("percentile of no samples; measure at least one frame")
    if not 0.0 <= q <= 100.0:
        raise ValueError(f"percentile q must be in [0, 100], got {q!r}")
    ordered = sorted(samples)
    rank = q / 100.0 * (len(ordered) - 1)
    lo = math.floor(rank)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (rank - lo)


@dataclass(frozen=True)
class StageStats:
    """Summary of one stage's durations in milliseconds (None when nothing was measured)."""

    count: int
    median_ms: float | None
    p90_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    mean_ms: float | None
    min_ms: float | None
    max_ms: float | None

    @classmethod
    def of(cls, samples_ms: Sequence[float]) -> StageStats:
        if not samples_ms:
            return cls(0, None, None, None, None, None, None, None)
        return cls(
            count=len(samples_ms),
            median_ms=percentile(samples_ms, 50),
            p90_ms=percentile(samples_ms, 90),
            p95_ms=percentile(samples_ms, 95),
            p99_ms=percentile(samples_ms, 99),
            mean_ms=sum(samples_ms) / len(samples_ms),
            min_ms=min(samples_ms),
            max_ms=max(samples_ms),
        )


class StageTimer:
    """Collects durations per stage from any thread, on an injectable clock.

    Args:
        clock: monotonic clock in seconds (``time.monotonic``, the clock sources
            stamp ``captured_at`` with); tests pass fake ticks.
    """

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._samples: dict[str, list[float]] = {}

    @contextmanager
    def measure(self, stage: str) -> Iterator[None]:
        """Time the ``with`` block as one sample of ``stage`` (also when it raises)."""
        start = self.clock()
        try:
            yield
        finally:
            self.add(stage, 1000.0 * (self.clock() - start))

    def add(self, stage: str, ms: float) -> None:
        with self._lock:
            self._samples.setdefault(stage, []).append(ms)

    def samples(self, stage: str) -> list[float]:
        with self._lock:
            return list(self._samples.get(stage, ()))

    def summary(self, stages: Sequence[str] = STAGES, *, skip: int = 0) -> dict[str, StageStats]:
        """Stats of each stage, leaving out its first ``skip`` samples (the warm-up)."""
        return {stage: StageStats.of(self.samples(stage)[skip:]) for stage in stages}


class TimedSource:
    """Times ``read()`` of the wrapped source as the ``capture`` stage."""

    def __init__(self, inner: FrameSource, timer: StageTimer) -> None:
        self.inner = inner
        self._timer = timer
        self.is_live = inner.is_live
        self.fps = inner.fps
        self.frame_count = inner.frame_count

    @property
    def error(self) -> object:
        return getattr(self.inner, "error", None)

    def read(self) -> Frame | None:
        with self._timer.measure("capture"):
            return self.inner.read()

    def close(self) -> None:
        self.inner.close()


class TimedClassifier:
    """Runs an ``OnnxClassifier`` as preprocess (per frame) + inference (per batch), timing each."""

    def __init__(self, classifier: Any, timer: StageTimer) -> None:
        self.inner = classifier
        self._timer = timer

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(self.inner.labels)

    def prepare(self, image: np.ndarray) -> np.ndarray:
        with self._timer.measure("preprocess"):
            return self.inner.prepare(image)  # type: ignore[no-any-return]

    def run_batch(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        with self._timer.measure("inference"):
            return self.inner.run_batch(batch)  # type: ignore[no-any-return]

    def __call__(self, images: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        return self.run_batch(np.stack([self.prepare(image) for image in images]))
