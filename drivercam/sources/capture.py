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
from drivercam.types import Frame

logger = logging.getLogger(__name__)

CaptureFactory = Callable[..., Any]


def _as_bgr(image: np.ndarray) -> np.ndarray:
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


def _open_capture(factory: CaptureFactory, args: tuple[Any, ...], timeout_s: float, what: str) -> Any:
    """Call ``factory(*args)`` in a helper thread and wait at most ``timeout_s``.

    Some backends block for a long time on an absent device or unreachable
    host. If the call outlives the timeout we give up on it; the helper releases
    the capture itself when (if) the call finally returns.
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
    done.wait(timeout_s)
    with lock:
        if not done.is_set():
            abandoned = True
            raise SourceError(
                f"opening {what} took longer than {timeout_s:g} s; check that it is connected "
                "and reachable, or raise the open timeout"
            )
    if "error" in box:
        raise SourceError(f"could not open {what}: {box['error']}") from box["error"]
    return box["cap"]


class _CaptureSource(_SourceBase):
    """A live ``cv2.VideoCapture`` with a bounded reconnect-with-back-off policy.

    When the capture stops delivering frames, it is released and reopened up to
    ``reconnect_attempts`` times, sleeping ``backoff_s``, then twice that, and
    so on (capped at ``max_backoff_s``) before each attempt. A frame delivered
    resets the policy. When every attempt fails, :meth:`read` raises
    :class:`SourceError`.
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
        sleep: Callable[[float], None],
        clock: Callable[[], float],
        width: int | None = None,
        height: int | None = None,
        fps: float | None = None,
    ) -> None:
        if open_timeout_s <= 0:
            raise ValueError(f"open_timeout_s must be > 0, got {open_timeout_s!r}")
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
        self._reconnect_attempts = reconnect_attempts
        self._backoff_s = backoff_s
        self._max_backoff_s = max_backoff_s
        self._sleep = sleep
        self._clock = clock
        self._requested = (width, height, fps)
        self._lock = threading.Lock()
        self._closed = False
        self._index = 0
        self._t0: float | None = None
        self._finite_count: int | None = None
        self.reconnects = 0
        self._size = (0, 0)
        self._reported_fps = 0.0
        self._cap: Any = self._open()
        if self._cap is None:
            raise SourceError(self._open_error)

    def _open(self) -> Any:
        """Open and configure a capture; None when the device does not open."""
        cap = _open_capture(self._factory, self._open_args, self._open_timeout_s, self._what)
        if cap is None or not cap.isOpened():
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
        """Return the next frame, reconnecting if the device stops delivering.

        Returns:
            The frame, or None once the source is closed (or a finite stream ended).

        Raises:
            SourceError: when reconnecting failed ``reconnect_attempts`` times.
        """
        with self._lock:
            image = self._grab()
            if image is None and not self._closed:
                if self._finite_count is not None and self._index >= self._finite_count:
                    return None
                image = self._reconnect()
            if image is None:
                return None
            now = self._clock()
            if self._t0 is None:
                self._t0 = now
            frame = Frame(
                index=self._index,
                image=_as_bgr(image),
                time_s=now - self._t0,
                source=self._what,
                captured_at=now,
            )
            self._index += 1
            return frame

    def _grab(self) -> np.ndarray | None:
        if self._closed or self._cap is None:
            return None
        try:
            ok, image = self._cap.read()
        except cv2.error as exc:
            logger.warning("%s: read failed: %s", self._what, exc)
            return None
        if self._closed:  # closed while we were blocked in read()
            self._release()
            return None
        if not ok or image is None or image.size == 0:
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
            if self._closed:
                return None
            try:
                self._cap = self._open()
            except SourceError as exc:
                logger.warning("%s", exc)
                self._cap = None
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

    def _release(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None

    def close(self, timeout_s: float = 5.0) -> None:
        """Release the device. Safe to call more than once and from another thread.

        Args:
            timeout_s: how long to wait for a read in progress; if it is still
                blocked after that, the reader releases the device when it returns.
        """
        self._closed = True
        if self._lock.acquire(timeout=timeout_s):
            try:
                self._release()
            finally:
                self._lock.release()
        else:
            logger.warning("%s: a read is still blocked; it will be released when it returns", self._what)
