"""A fake frame source and a fake classifier for the pipeline's tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import numpy as np

from drivercam.errors import SourceError
from drivercam.types import Frame

LABELS = ("safe", "texting", "phone")


class FakeClassifier:
    """Scores each image by its first pixel value, optionally slowly."""

    def __init__(self, delay_s: float = 0.0, fail_on_call: int | None = None) -> None:
        self.delay_s = delay_s
        self.fail_on_call = fail_on_call
        self.calls: list[int] = []

    @property
    def labels(self) -> tuple[str, ...]:
        return LABELS

    @property
    def class_ids(self) -> tuple[str, ...]:
        return tuple(f"c{i}" for i in range(len(LABELS)))

    def __call__(self, images: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        if self.fail_on_call is not None and len(self.calls) == self.fail_on_call:
            raise RuntimeError("session run failed: out of memory")
        self.calls.append(len(images))
        if self.delay_s:
            time.sleep(self.delay_s)
        n = len(images)
        probs = np.zeros((n, len(LABELS)), np.float32)
        for i, image in enumerate(images):
            probs[i, int(image[0, 0, 0]) % len(LABELS)] = 1.0
        cams = np.zeros((n, len(LABELS), 2, 3), np.float32)
        return probs, cams


class ListSource:
    """A frame source over synthetic frames, optionally paced like a camera."""

    width: int | None = None
    height: int | None = None
    audio_path: str | None = None
    error: str | None = None

    def __init__(self, count: int, *, live: bool = False, period_s: float = 0.0, fail_at: int | None = None) -> None:
        self.count = count
        self.live = live
        self.period_s = period_s
        self.fail_at = fail_at
        self.index = 0
        self.closed = False
        self.read_threads: set[str] = set()

    @property
    def is_live(self) -> bool:
        return self.live

    @property
    def fps(self) -> float:
        return 1.0 / self.period_s if self.period_s else 30.0

    @property
    def frame_count(self) -> int | None:
        return None if self.live else self.count

    def read(self) -> Frame | None:
        self.read_threads.add(threading.current_thread().name)
        if self.index == self.fail_at:
            raise SourceError(f"camera unplugged at frame {self.index}")
        if self.index >= self.count:
            return None
        if self.period_s:
            time.sleep(self.period_s)
        image = np.full((6, 8, 3), self.index % 256, np.uint8)
        frame = Frame(index=self.index, image=image, time_s=self.index / self.fps)
        self.index += 1
        return frame

    def close(self) -> None:
        self.closed = True
