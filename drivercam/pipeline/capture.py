"""The capture thread's loop: read frames from the source into the frames queue."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

import numpy as np

from drivercam.errors import SourceError
from drivercam.pipeline.messages import EOS, Failure, FrameItem, Queued
from drivercam.pipeline.queues import put_newest, put_until_stopped
from drivercam.pipeline.stats import Clock, IntervalMeter, SharedCounter
from drivercam.types import Frame, FrameSource

logger = logging.getLogger(__name__)


def capture_loop(
    source: FrameSource,
    frames: queue.Queue[FrameItem],
    stop: threading.Event,
    *,
    prepare: Callable[[Frame], np.ndarray] | None,
    live: bool,
    read: SharedCounter,
    dropped: SharedCounter,
    interval: IntervalMeter,
    clock: Clock,
    poll_s: float,
) -> None:
    """Read ``source`` until it ends, ``stop`` is set, or it fails; always end with a marker.

    Args:
        prepare: turns a frame into its model input on this thread, or None.
        live: keep only the newest frame in ``frames`` (counting replaced ones
            in ``dropped``) instead of blocking until there is room.
        read: counts frames read.
        interval: fed each frame's queueing time under the live policy (the
            camera's frame interval, for the fresher-frame rule).
    """
    try:
        while not stop.is_set():
            frame = source.read()
            if frame is None:
                problem = source.error
                end: FrameItem = EOS if not problem else Failure("capture", SourceError(problem))
                put_until_stopped(frames, end, stop, poll_s)
                return
            read.add()
            item = Queued(frame, None if prepare is None else prepare(frame), clock())
            if live:
                interval.add(item.queued_at)
                delivered = put_newest(frames, item, stop, poll_s, dropped, is_frame=Queued)
            else:
                delivered = put_until_stopped(frames, item, stop, poll_s)
            if not delivered:
                return
    except BaseException as error:
        logger.debug("capture thread failed", exc_info=True)
        put_until_stopped(frames, Failure("capture", error), stop, poll_s)
