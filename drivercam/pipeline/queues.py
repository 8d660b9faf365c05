"""Queue puts that never block past a stop request, and the newest-frame put of live sources."""

from __future__ import annotations

import queue
import threading
from typing import TypeVar

from drivercam.pipeline.stats import SharedCounter

_T = TypeVar("_T")


def put_until_stopped(q: queue.Queue[_T], item: _T, stop: threading.Event, poll_s: float) -> bool:
    """Put ``item``, waking every ``poll_s`` to check ``stop``.

    Returns:
        True when the item was put, False when ``stop`` was set first.
    """
    while not stop.is_set():
        try:
            q.put(item, timeout=poll_s)
            return True
        except queue.Full:
            continue
    return False


def put_newest(
    q: queue.Queue[_T],
    item: _T,
    stop: threading.Event,
    poll_s: float,
    dropped: SharedCounter,
    *,
    is_frame: type,
) -> bool:
    """Put ``item``, replacing (and counting in ``dropped``) a stale frame the consumer has not taken.

    Only one thread may put into ``q``: between taking the stale frame out and
    putting the new one in, nobody else can fill the slot.

    Args:
        is_frame: the type of queued frames; a stale item of another type (an
            end marker) is not counted as a dropped frame.
    """
    try:
        q.put_nowait(item)
        return True
    except queue.Full:
        pass
    try:
        stale = q.get_nowait()
    except queue.Empty:
        stale = None
    if isinstance(stale, is_frame):
        dropped.add()
    return put_until_stopped(q, item, stop, poll_s)
