"""A stand-in for cv2.VideoCapture, for camera and stream tests that cannot have a camera."""

from __future__ import annotations

import threading
import time
from typing import Any

import cv2
import numpy as np


class FakeCapture:
    """Delivers ``frames`` images (None: without end), then fails reads.

    Args:
        opened: what ``isOpened`` answers (False: an absent camera).
        frames: images to deliver before reads fail; None never runs out.
        fps: the frame rate the capture reports (0: it does not say).
        count: the frame count it reports.
        width, height: image size, also reported through ``get``.
        period_s: sleep before each read, like a camera waiting for the sensor.
        counting: pixel values count frames (1, 2, ... mod 256) instead of a constant 100.
    """

    def __init__(
        self,
        *,
        opened: bool = True,
        frames: int | None = 3,
        fps: float = 0.0,
        count: int = 0,
        width: int = 32,
        height: int = 24,
        period_s: float = 0.0,
        counting: bool = False,
    ) -> None:
        self.opened = opened
        self.remaining = frames
        self.props: dict[int, float] = {
            cv2.CAP_PROP_FRAME_WIDTH: width,
            cv2.CAP_PROP_FRAME_HEIGHT: height,
            cv2.CAP_PROP_FPS: fps,
            cv2.CAP_PROP_FRAME_COUNT: count,
        }
        self.period_s = period_s
        self.counting = counting
        self.delivered = 0
        self.sets: list[tuple[int, float]] = []
        self.released = False

    def isOpened(self) -> bool:
        return self.opened and not self.released

    def read(self) -> tuple[bool, np.ndarray | None]:
        if self.remaining is not None:
            if self.remaining <= 0:
                return False, None
            self.remaining -= 1
        if self.period_s:
            time.sleep(self.period_s)
        self.delivered += 1
        h, w = int(self.props[cv2.CAP_PROP_FRAME_HEIGHT]), int(self.props[cv2.CAP_PROP_FRAME_WIDTH])
        return True, np.full((h, w, 3), self.delivered % 256 if self.counting else 100, np.uint8)

    def set(self, prop: int, value: float) -> bool:
        self.sets.append((prop, value))
        self.props[prop] = value
        return True

    def get(self, prop: int) -> float:
        return self.props.get(prop, 0.0)

    def release(self) -> None:
        self.released = True


class FakeFactory:
    """Hands out the given captures in turn (then closed ones) and records the calls."""

    def __init__(self, *captures: FakeCapture) -> None:
        self.captures = list(captures)
        self.calls: list[tuple[Any, ...]] = []

    def __call__(self, *args: Any) -> FakeCapture:
        self.calls.append(args)
        return self.captures.pop(0) if self.captures else FakeCapture(opened=False)


class SleepClock:
    """A clock that only moves when something sleeps on it."""

    def __init__(self, start: float = 100.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class HangingCapture(FakeCapture):
    """Delivers ``frames`` images, then a read blocks until ``unblock`` is set (a stalled stream).

    ``hanging`` is set while a read is blocked.
    """

    def __init__(self, *, frames: int = 1, hang_s: float = 30.0, **kwargs: Any) -> None:
        super().__init__(frames=None, **kwargs)
        self.good = frames
        self.hang_s = hang_s
        self.unblock = threading.Event()
        self.hanging = threading.Event()

    def read(self) -> tuple[bool, np.ndarray | None]:
        if self.good <= 0:
            self.hanging.set()
            self.unblock.wait(self.hang_s)
            return False, None
        self.good -= 1
        return super().read()
