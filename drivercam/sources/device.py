"""Opening and reading one ``cv2.VideoCapture`` with timeouts, on helper threads.

Opening a camera or a stream, and reading from it, are native calls that can
block for as long as the driver or the network likes; :func:`open_capture`
and :class:`TimedReader` run them on helper threads and wait with deadlines
that also end when a stop event is set. :mod:`drivercam.sources.capture`
builds the reconnecting live source on them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import cv2
import numpy as np

from drivercam.errors import SourceError

logger = logging.getLogger(__name__)

CaptureFactory = Callable[..., Any]

POLL_S = 0.05  # how often waits wake to check the stop event


def as_bgr(image: np.ndarray) -> np.ndarray:
    """Coerce a capture's image to BGR uint8 (some cameras deliver grey or BGRA)."""
    if image.dtype != np.uint8:
        image = cv2.convertScaleAbs(image)
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    if image.shape[2] == 1:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    return image


def open_capture(
    factory: CaptureFactory,
    args: tuple[Any, ...],
    timeout_s: float,
    what: str,
    stop: threading.Event | None = None,
) -> Any:
    """Call ``factory(*args)`` in a helper thread and wait at most ``timeout_s``.

    Some backends block for a long time on an absent device or unreachable
    host. If the call outlives the timeout, or ``stop`` is set first, we give up
    on it; the helper releases the capture itself when (if) the call finally
    returns.

    Returns:
        The capture, or None when ``stop`` was set first.
    """
    lock = threading.Lock()
    done = threading.Event()
    box: dict[str, Any] = {}
    abandoned = False

    def target() -> None:
        try:
            cap = factory(*args)
        except BaseException as exc:  # reported to the caller below
            box["error"] = exc
            cap = None
        with lock:
            if abandoned:
                if cap is not None:
                    cap.release()
                return
            box["cap"] = cap
            done.set()

    thread = threading.Thread(target=target, name=f"open {what}", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout_s
    while not done.wait(min(POLL_S, max(0.0, deadline - time.monotonic()))):
        if (stop is not None and stop.is_set()) or time.monotonic() >= deadline:
            break
    with lock:
        if not done.is_set():
            abandoned = True
            if stop is not None and stop.is_set():
                return None
            raise SourceError(
                f"opening {what} took longer than {timeout_s:g} s; check that it is connected "
                "and reachable, or raise the open timeout"
            )
    if "error" in box:
        raise SourceError(f"could not open {what}: {box['error']}") from box["error"]
    return box["cap"]


class TimedReader:
    """Reads one capture on a thread of its own, so a read that hangs can be given up on.

    ``cv2.VideoCapture.read`` can block for as long as the driver or the
    network likes (a stalled RTSP server, a camera unplugged mid-read), and a
    blocked native call cannot be interrupted. The caller waits for each read
    with a deadline instead; a capture given up on is released by this thread
    when (if) its read returns. It is released on :meth:`close` otherwise.
    """

    def __init__(self, cap: Any, what: str) -> None:
        self.cap = cap
        self._what = what
        self._want = threading.Event()
        self._done = threading.Event()
        self._stop = threading.Event()
        self._result: tuple[bool, Any] = (False, None)
        self._thread = threading.Thread(target=self._run, name=f"read {what}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            while True:
                while not self._want.wait(POLL_S):
                    if self._stop.is_set():
                        return
                self._want.clear()
                if self._stop.is_set():
                    return
                try:
                    ok, image = self.cap.read()
                except cv2.error as exc:
                    logger.warning("%s: read failed: %s", self._what, exc)
                    ok, image = False, None
                self._result = (bool(ok), image)
                self._done.set()
        finally:
            self.cap.release()

    def read(self, timeout_s: float, stop: threading.Event) -> tuple[str, Any]:
        """Ask for one frame and wait for it.

        Returns:
            ``("ok", image)``, ``("failed", None)`` when the capture said no,
            ``("stalled", None)`` when nothing came within ``timeout_s``, or
            ``("stopped", None)`` when ``stop`` was set first.
        """
        self._done.clear()
        self._want.set()
        deadline = time.monotonic() + timeout_s
        while not self._done.wait(POLL_S):
            if stop.is_set():
                return "stopped", None
            if time.monotonic() >= deadline:
                return "stalled", None
        ok, image = self._result
        self._result = (False, None)
        return ("ok", image) if ok and image is not None and image.size else ("failed", None)

    def close(self, timeout_s: float) -> bool:
        """Stop the thread and release the capture; False when a read still blocks it."""
        self._stop.set()
        self._want.set()
        self._thread.join(timeout_s)
        return not self._thread.is_alive()
