"""A live ``cv2.VideoCapture`` with a bounded reconnect-with-back-off policy.

:class:`_CaptureSource` is the base of the camera and stream sources in
:mod:`drivercam.sources.live`. Opening runs in a helper thread with a timeout,
so an absent device or an unreachable host cannot block forever.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import cv2
import numpy as np

from drivercam.errors import SourceError
from drivercam.sources._common import _SourceBase
from drivercam.sources.device import CaptureFactory, TimedReader, as_bgr, open_capture
from drivercam.types import Frame

logger = logging.getLogger(__name__)


class _CaptureSource(_SourceBase):
    """A live ``cv2.VideoCapture`` with a bounded reconnect-with-back-off policy.

    When the capture stops delivering frames (reads fail, or no frame comes
    for ``stall_timeout_s``: a stalled stream), it is released and reopened up
    to ``reconnect_attempts`` times, waiting ``backoff_s``, then twice that,
    and so on (capped at ``max_backoff_s``) before each attempt. A frame
    delivered resets the policy. When every attempt fails, :meth:`read` raises
    :class:`SourceError`.

    Every wait (a read, an open, a back-off) wakes at once when
    :meth:`interrupt` or :meth:`close` is called, so closing never waits on
    the device: a read blocked inside the driver is abandoned, and its capture
    released by its reader thread when the driver lets go.
    """

    def __init__(
        self,
        target: int | str,
        *,
        what: str,
        open_args: tuple[Any, ...],
        open_error: str,
        capture_factory: CaptureFactory,
        open_timeout_s: float,
        reconnect_attempts: int,
        backoff_s: float,
        max_backoff_s: float,
        sleep: Callable[[float], None] | None,
        clock: Callable[[], float],
        stall_timeout_s: float = 5.0,
        width: int | None = None,
        height: int | None = None,
        fps: float | None = None,
    ) -> None:
        if open_timeout_s <= 0:
            raise ValueError(f"open_timeout_s must be > 0, got {open_timeout_s!r}")
        if not stall_timeout_s > 0:
            raise ValueError(f"stall_timeout_s must be > 0 seconds, got {stall_timeout_s!r}")
        if reconnect_attempts < 0:
            raise ValueError(f"reconnect_attempts must be >= 0, got {reconnect_attempts!r}")
        if backoff_s < 0 or max_backoff_s < backoff_s:
            raise ValueError(f"need 0 <= backoff_s <= max_backoff_s, got {backoff_s!r} and {max_backoff_s!r}")
        for name, value in (("width", width), ("height", height), ("fps", fps)):
            if value is not None and value <= 0:
                raise ValueError(f"{name} must be > 0, got {value!r}")
        self.target = target
        self._what = what
        self._open_args = open_args
        self._open_error = open_error
        self._factory = capture_factory
        self._open_timeout_s = open_timeout_s
        self._stall_timeout_s = stall_timeout_s
        self._reconnect_attempts = reconnect_attempts
        self._backoff_s = backoff_s
        self._max_backoff_s = max_backoff_s
        self._stopping = threading.Event()
        # Back-off waits on the stop event, so closing cuts it short; tests inject a fake sleep.
        self._sleep: Callable[[float], object] = sleep if sleep is not None else self._stopping.wait
        self._clock = clock
        self._requested = (width, height, fps)
        self._lock = threading.Lock()
        self._closed = False
        self._index = 0
        self._t0: float | None = None
        self._finite_count: int | None = None
        self.reconnects = 0
        self.stalls = 0
        self._size = (0, 0)
        self._reported_fps = 0.0
        self._reader: TimedReader | None = None
        cap = self._open()
        if cap is None:
            raise SourceError(self._open_error)
        self._reader = TimedReader(cap, what)

    @property
    def _cap(self) -> Any:
        return None if self._reader is None else self._reader.cap

    def _open(self) -> Any:
        """Open and configure a capture; None when the device does not open (or closing began)."""
        cap = open_capture(self._factory, self._open_args, self._open_timeout_s, self._what, self._stopping)
        if cap is None or not cap.isOpened() or self._stopping.is_set():
            if cap is not None:
                cap.release()
            return None
        width, height, fps = self._requested
        for prop, value in (
            (cv2.CAP_PROP_FRAME_WIDTH, width),
            (cv2.CAP_PROP_FRAME_HEIGHT, height),
            (cv2.CAP_PROP_FPS, fps),
        ):
            if value is not None:
                cap.set(prop, float(value))
        got_w, got_h = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        if (width is not None and got_w != width) or (height is not None and got_h != height):
            logger.warning("%s: asked for %sx%s, got %dx%d", self._what, width, height, got_w, got_h)
        # Cached so the properties never wait on a read blocked in another thread.
        self._size = (got_w, got_h)
        self._reported_fps = float(cap.get(cv2.CAP_PROP_FPS))
        return cap

    @property
    def is_live(self) -> bool:
        return True

    @property
    def fps(self) -> float:
        """The frame rate the device reports, else the one requested, else 30."""
        if self._reported_fps > 0:
            return self._reported_fps
        return float(self._requested[2]) if self._requested[2] else 30.0

    @property
    def frame_count(self) -> int | None:
        return None

    @property
    def width(self) -> int:
        """Frame width the device reported when it was (re)opened."""
        return self._size[0]

    @property
    def height(self) -> int:
        """Frame height the device reported when it was (re)opened."""
        return self._size[1]

    def read(self) -> Frame | None:
        """Return the next frame, reconnecting if the device stops delivering or stalls.

        Returns:
            The frame, or None once the source is closed or interrupted (or a
            finite stream ended).

        Raises:
            SourceError: when reconnecting failed ``reconnect_attempts`` times.
        """
        with self._lock:
            try:
                return self._read_locked()
            finally:
                if self._closed:  # closed while this read waited: release on the way out
                    self._release(0.0)

    def _read_locked(self) -> Frame | None:
        image = self._grab()
        if image is None and not self._stopping.is_set():
            if self._finite_count is not None and self._index >= self._finite_count:
                return None
            image = self._reconnect()
        if image is None or self._stopping.is_set():
            return None
        now = self._clock()
        if self._t0 is None:
            self._t0 = now
        frame = Frame(
            index=self._index,
            image=as_bgr(image),
            time_s=now - self._t0,
            source=self._what,
            captured_at=now,
        )
        self._index += 1
        return frame

    def _grab(self) -> np.ndarray | None:
        if self._stopping.is_set() or self._reader is None:
            return None
        status, image = self._reader.read(self._stall_timeout_s, self._stopping)
        if status == "stalled":
            self.stalls += 1
            logger.warning("%s delivered no frame for %.1f s; reopening it", self._what, self._stall_timeout_s)
            return None
        if status != "ok":
            return None
        return np.asarray(image)

    def _reconnect(self) -> np.ndarray | None:
        delay = self._backoff_s
        for attempt in range(1, self._reconnect_attempts + 1):
            logger.warning(
                "%s stopped delivering frames; reconnect %d/%d in %.2f s",
                self._what,
                attempt,
                self._reconnect_attempts,
                delay,
            )
            self._release()
            self._sleep(delay)
            delay = min(delay * 2, self._max_backoff_s)
            if self._stopping.is_set():
                return None
            try:
                cap = self._open()
            except SourceError as exc:
                logger.warning("%s", exc)
                cap = None
            if self._stopping.is_set():
                if cap is not None:
                    cap.release()
                return None
            if cap is not None:
                self._reader = TimedReader(cap, self._what)
            image = self._grab()
            if image is not None:
                self.reconnects += 1
                logger.info("%s reconnected after %d attempt(s)", self._what, attempt)
                return image
        self._release()
        raise SourceError(
            f"{self._what} stopped delivering frames and {self._reconnect_attempts} reconnect "
            "attempts failed; check the connection, or that no other program took the device"
        )

    def _release(self, timeout_s: float = 0.5) -> None:
        reader, self._reader = self._reader, None
        if reader is not None and not reader.close(timeout_s):
            logger.warning("%s: a read is still blocked in the driver; released when it returns", self._what)

    def interrupt(self) -> None:
        """Make a read, open or back-off in progress (on any thread) return None at once."""
        self._stopping.set()

    def close(self, timeout_s: float = 0.25) -> None:
        """Release the device. Safe to call more than once and from another thread.

        Args:
            timeout_s: how long to wait for a read in progress to give up (it
                wakes within 50 ms) and for the device's reader to stop; a read
                still blocked in the driver after that releases the device when
                it returns.
        """
        self._closed = True
        self._stopping.set()
        if self._lock.acquire(timeout=timeout_s):
            try:
                self._release(timeout_s)
            finally:
                self._lock.release()
        else:
            logger.warning("%s: a read is still blocked; it will be released when it returns", self._what)
