"""Per-stage timing where each stage really runs: the timer, and timed wrappers of a source and a classifier.

:class:`StageTimer` collects durations per stage from any thread on an
injectable clock; :class:`TimedSource` and :class:`TimedClassifier` wrap a
source and a classifier so the capture, preprocess and inference stages are
timed on the threads that run them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import numpy as np

from drivercam.bench.stats import STAGES, StageStats
from drivercam.model import OnnxClassifier
from drivercam.pipeline.stats import Clock
from drivercam.types import Frame, FrameSource

__all__ = ["StageTimer", "TimedClassifier", "TimedSource"]


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
        self.width = inner.width
        self.height = inner.height
        self.audio_path = inner.audio_path

    @property
    def error(self) -> str | None:
        return self.inner.error

    def read(self) -> Frame | None:
        with self._timer.measure("capture"):
            return self.inner.read()

    def close(self) -> None:
        self.inner.close()


class TimedClassifier:
    """Runs an ``OnnxClassifier`` as preprocess (per frame) + inference (per batch), timing each."""

    def __init__(self, classifier: OnnxClassifier, timer: StageTimer) -> None:
        self.inner = classifier
        self._timer = timer

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(self.inner.labels)

    @property
    def class_ids(self) -> tuple[str, ...]:
        return tuple(self.inner.class_ids)

    def prepare(self, image: np.ndarray) -> np.ndarray:
        with self._timer.measure("preprocess"):
            return self.inner.prepare(image)

    def prepare_frame(self, frame: Frame) -> np.ndarray:
        with self._timer.measure("preprocess"):
            return self.inner.prepare_frame(frame)

    def run_batch(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        with self._timer.measure("inference"):
            return self.inner.run_batch(batch)

    def __call__(self, images: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        return self.run_batch(np.stack([self.prepare(image) for image in images]))
