"""Play a finite source in real time, as if it were a live camera."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from drivercam.sources._common import _SourceBase
from drivercam.types import Frame, FrameSource, InterruptibleSource


class PacedSource(_SourceBase):
    """Play a finite source as if it were a live camera.

    Each frame is released when the wall clock reaches its ``time_s`` (relative
    to the first frame); a slow reader is never made to wait more. Used for
    ``drivercam live --source FILE``.

    The wait for a frame's time sleeps on an event that :meth:`interrupt` and
    :meth:`close` set, so stopping never waits for the next frame.

    Args:
        inner: the source to pace (a video file or image folder).
        clock: injectable monotonic clock.
        sleep: injectable sleep, for tests (default: a wait that closing cuts short).
    """

    def __init__(
        self,
        inner: FrameSource,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.inner = inner
        self._clock = clock
        self._stopping = threading.Event()
        self._sleep: Callable[[float], object] = sleep if sleep is not None else self._stopping.wait
        self._start: float | None = None

    @property
    def is_live(self) -> bool:
        return True

    @property
    def fps(self) -> float:
        return self.inner.fps

    @property
    def frame_count(self) -> int | None:
        return self.inner.frame_count

    @property
    def width(self) -> int | None:
        return self.inner.width

    @property
    def height(self) -> int | None:
        return self.inner.height

    @property
    def audio_path(self) -> str | None:
        return self.inner.audio_path

    @property
    def error(self) -> str | None:
        """The inner source's recorded error (e.g. a truncated file), if any."""
        return self.inner.error

    def read(self) -> Frame | None:
        if self._stopping.is_set():
            return None
        frame = self.inner.read()
        if frame is None:
            return None
        now = self._clock()
        if self._start is None:
            self._start = now - frame.time_s
        delay = self._start + frame.time_s - now
        if delay > 0:
            self._sleep(delay)
            if self._stopping.is_set():
                return None
            now = self._clock()
        return frame.replace(captured_at=now)

    def interrupt(self) -> None:
        """End a wait for the next frame's time at once; reads return None from now on."""
        self._stopping.set()
        if isinstance(self.inner, InterruptibleSource):
            self.inner.interrupt()

    def close(self) -> None:
        self._stopping.set()
        self.inner.close()

    def __repr__(self) -> str:
        return f"PacedSource({self.inner!r})"
