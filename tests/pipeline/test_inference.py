"""Tests for drivercam.pipeline.inference: the fresher-frame rule of the live policy, on a fake clock."""

from __future__ import annotations

import queue
import threading
import time

import numpy as np

from drivercam.pipeline.inference import BatchTaker
from drivercam.pipeline.messages import EOS, FrameItem, Queued
from drivercam.pipeline.stats import IntervalMeter, SharedCounter
from drivercam.types import Frame

LABELS = ("safe", "texting", "phone")


def _queued(index: int, queued_at: float) -> Queued:
    image = np.full((6, 8, 3), index, np.uint8)
    return Queued(Frame(index=index, image=image, time_s=index / 30), None, queued_at)


def test_live_policy_swaps_a_stale_frame_for_the_next_when_it_is_due_soon() -> None:
    now = [10.0]
    frames: queue.Queue[FrameItem] = queue.Queue(maxsize=1)
    interval, dropped = IntervalMeter(), SharedCounter()
    taker = BatchTaker(
        frames,
        threading.Event(),
        batch_size=1,
        fresh_frames=True,
        interval=interval,
        dropped=dropped,
        clock=lambda: now[0],
        poll_s=0.05,
    )
    for t in (9.80, 9.84, 9.88):  # a camera every 40 ms
        interval.add(t)
    fresh, old, stalled = _queued(1, 9.99), _queued(2, 9.97), _queued(3, 9.90)
    frames.put(_queued(4, 10.0))
    # 10 ms old (a quarter interval): taken as it is, the queue untouched.
    assert taker._fresher(fresh) == (fresh, None) and frames.qsize() == 1
    # 100 ms old (the camera stalled): taken as it is.
    assert taker._fresher(stalled) == (stalled, None) and frames.qsize() == 1
    # 30 ms old: the next frame is due, so it replaces this one, counted as dropped.
    newer, end = taker._fresher(old)
    assert newer.frame.index == 4 and end is None and dropped.value == 1
    # Nothing arrives within the wait (at most 20 ms here): the old frame goes on.
    started = time.monotonic()
    assert taker._fresher(old) == (old, None)
    assert time.monotonic() - started < 1.0
    # The stream ends while waiting: the old frame is still inferred, then the end.
    frames.put(EOS)
    assert taker._fresher(old) == (old, EOS)
