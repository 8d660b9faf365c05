"""Live sources: local cameras and network streams, opened with ``cv2.VideoCapture``."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import cv2

from drivercam.sources.capture import _CaptureSource
from drivercam.sources.device import CaptureFactory


def _redact(url: str) -> str:
    """Hide the password in ``scheme://user:password@host`` URLs for messages."""
    return re.sub(r"(://[^/:@]+):[^/@]*@", r"\1:***@", url)


class CameraSource(_CaptureSource):
    """A local camera by index (0, 1, ...) or device path (/dev/video0).

    Args:
        index_or_device: camera index or device path.
        width: requested frame width (the device may choose another).
        height: requested frame height.
        fps: requested frame rate.
        capture_factory: ``cv2.VideoCapture`` or a fake with the same
            ``isOpened/read/set/get/release`` methods; called as ``factory(index_or_device)``.
        open_timeout_s: give up opening after this long.
        reconnect_attempts: reopen attempts after the camera stops delivering.
        backoff_s: sleep before the first reopen; doubles each attempt.
        max_backoff_s: cap on the sleep between attempts.
        stall_timeout_s: a read that brings no frame for this long counts as a
            stall: the capture is abandoned and reopened.
        sleep: injectable back-off sleep, for tests (default: a wait that closing cuts short).
        clock: injectable monotonic clock, for ``time_s`` and ``captured_at``.

    Raises:
        SourceError: at construction when the camera does not open.
    """

    def __init__(
        self,
        index_or_device: int | str,
        *,
        width: int | None = None,
        height: int | None = None,
        fps: float | None = None,
        capture_factory: CaptureFactory = cv2.VideoCapture,
        open_timeout_s: float = 5.0,
        reconnect_attempts: int = 5,
        backoff_s: float = 0.5,
        max_backoff_s: float = 8.0,
        stall_timeout_s: float = 5.0,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if isinstance(index_or_device, bool) or not isinstance(index_or_device, (int, str)):
            raise TypeError(f"camera must be an int index or a device path, got {index_or_device!r}")
        other = ("1" if index_or_device == 0 else "0") if isinstance(index_or_device, int) else "0"
        super().__init__(
            index_or_device,
            what=f"camera {index_or_device}",
            open_args=(index_or_device,),
            open_error=(
                f"could not open camera {index_or_device}; is it connected or used by another "
                f"program? try --source {other}"
            ),
            capture_factory=capture_factory,
            open_timeout_s=open_timeout_s,
            reconnect_attempts=reconnect_attempts,
            backoff_s=backoff_s,
            max_backoff_s=max_backoff_s,
            sleep=sleep,
            clock=clock,
            stall_timeout_s=stall_timeout_s,
            width=width,
            height=height,
            fps=fps,
        )

    def __repr__(self) -> str:
        return f"CameraSource({self.target!r})"


class StreamSource(_CaptureSource):
    """A network stream (rtsp://, http(s)://, rtmp://, udp://, ...) via OpenCV's FFmpeg backend.

    The capture is opened as ``capture_factory(url, cv2.CAP_FFMPEG, [open and
    read timeouts in ms])`` so a dead host cannot block forever. If the server
    reports a frame count (a plain video file served over HTTP), reading past
    it ends the source instead of reconnecting.

    Args:
        url: the stream URL. A password in it is hidden in messages and logs.
        capture_factory: ``cv2.VideoCapture`` or a fake.
        open_timeout_s: give up opening (and each read) after this long.
        reconnect_attempts: reopen attempts after the stream stops delivering.
        backoff_s: sleep before the first reopen; doubles each attempt.
        max_backoff_s: cap on the sleep between attempts.
        stall_timeout_s: a read that brings no frame for this long counts as a
            stall: the capture is abandoned and reopened.
        sleep: injectable back-off sleep, for tests (default: a wait that closing cuts short).
        clock: injectable monotonic clock.

    Raises:
        SourceError: at construction when the stream does not open.
    """

    def __init__(
        self,
        url: str,
        *,
        capture_factory: CaptureFactory = cv2.VideoCapture,
        open_timeout_s: float = 10.0,
        reconnect_attempts: int = 5,
        backoff_s: float = 0.5,
        max_backoff_s: float = 8.0,
        stall_timeout_s: float = 5.0,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        shown = _redact(url)
        timeout_ms = int(open_timeout_s * 1000)
        params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, timeout_ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, timeout_ms]
        super().__init__(
            url,
            what=f"stream {shown}",
            open_args=(url, cv2.CAP_FFMPEG, params),
            open_error=(
                f"could not open stream {shown}; check the URL, the network and the credentials "
                "(try it in a media player such as ffplay or VLC)"
            ),
            capture_factory=capture_factory,
            # The factory gets the timeout too; ours is a backstop a little later.
            open_timeout_s=open_timeout_s + 2.0,
            reconnect_attempts=reconnect_attempts,
            backoff_s=backoff_s,
            max_backoff_s=max_backoff_s,
            sleep=sleep,
            clock=clock,
            stall_timeout_s=stall_timeout_s,
        )
        count = int(self._cap.get(cv2.CAP_PROP_FRAME_COUNT))
        self._finite_count = count if count > 0 else None

    def __repr__(self) -> str:
        return f"StreamSource({self._what[len('stream ') :]!r})"
