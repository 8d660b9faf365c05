"""A one-line progress bar with ETA on a terminal; silent elsewhere."""

from __future__ import annotations

import math
import time
from typing import IO

from drivercam.pipeline.stats import Clock


def format_duration(seconds: float) -> str:
    """``mm:ss``, or ``h:mm:ss`` from an hour on."""
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60:02d}:{rest % 60:02d}"


def is_terminal(stream: IO[str]) -> bool:
    """Whether ``stream`` is an interactive terminal (False for closed or odd streams)."""
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class ProgressBar:
    """``[#####-----] done/total  pct  fps  ETA`` redrawn in place, at most every ``min_interval_s``.

    Args:
        total: frames expected; None or 0 turns the bar off (nothing to measure against).
        stream: where to draw; nothing is drawn unless it is a terminal (or ``enabled`` says so).
        min_interval_s: least time between two redraws.
        clock: monotonic clock in seconds; injectable for tests.
        enabled: draw even when ``stream`` is not a terminal (tests); None decides.
    """

    def __init__(
        self,
        total: int | None,
        stream: IO[str],
        *,
        min_interval_s: float = 0.25,
        clock: Clock = time.monotonic,
        enabled: bool | None = None,
    ) -> None:
        self.total = total
        self.stream = stream
        self.enabled = bool(total) and (is_terminal(stream) if enabled is None else enabled)
        self.min_interval_s = min_interval_s
        self._clock = clock
        self._start = clock()
        self._last = -math.inf

    def update(self, done: int, *, force: bool = False) -> None:
        """Redraw with ``done`` frames finished (skipped when the last redraw was too recent)."""
        if not self.enabled or not self.total:
            return
        now = self._clock()
        if not force and now - self._last < self.min_interval_s:
            return
        self._last = now
        elapsed = now - self._start
        rate = done / elapsed if elapsed > 0 else 0.0
        total = max(self.total, done)
        eta = (total - done) / rate if rate > 0 else 0.0
        width = 30
        filled = int(width * done / total) if total else width
        bar = "#" * filled + "-" * (width - filled)
        self.stream.write(
            f"\r[{bar}] {done}/{total} {100 * done / total:5.1f}% {rate:5.1f} fps ETA {format_duration(eta)} "
        )
        self.stream.flush()

    def finish(self, done: int) -> None:
        """Draw the final state and end the line."""
        if self.enabled:
            self.update(done, force=True)
            self.stream.write("\n")
            self.stream.flush()
