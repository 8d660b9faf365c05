"""Repair a stream's timestamps into a timeline that only goes forward.

Damaged packets, a PTS that wraps (MPEG-TS counts 2**33 ticks of 90 kHz,
26.5 hours), recordings joined end to end and streams without timestamps all
give frame times that repeat, go back, are missing or leap ahead. Everything
downstream (smoothing, episodes, the MP4 writer) needs times that strictly
increase, so :class:`TimelineRepair` turns raw times into such a timeline:

* a frame whose time follows its predecessor's by more than nothing and at
  most ``max_gap_s`` keeps its spacing: a clean stream, variable frame rate
  and short gaps pass through unchanged;
* a frame whose own time is out of line while the *next* frame's time follows
  the last good one is an **outlier** (one damaged timestamp): it is put
  between its neighbours and the timeline goes on as before, so the frames
  after it (and the audio copied beside them) do not shift;
* a frame without a time goes one nominal frame interval after the last;
* otherwise the stream's clock **jumped** (went back, repeated, or leapt
  ahead more than ``max_gap_s``: a wrap, a join, a reset): the frame goes one
  interval after the last and the times after it are shifted by the same
  amount (rebased), so the stream continues from there. Until a few frames
  have followed on the new timeline, a frame that continues the old one more
  closely takes it back (two or three damaged times in a row are not a jump).

Forward leaps beyond ``max_gap_s`` are rebased rather than kept because a real
camera does not go silent for that long inside one file, while a damaged or
joined file often leaps by minutes or hours; kept, such a leap would be an
hour-long "episode" or a frozen frame of that length in the MP4. The audio
copied into the MP4 is repaired by the same rule with the same ``max_gap_s``,
so a join rebases both tracks at the same place.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

logger = logging.getLogger(__name__)

DEFAULT_MAX_GAP_S = 5.0
"""Largest forward step between two frames kept as it is (seconds)."""

_CONFIRM_FRAMES = 3
"""Frames that must follow a jump on its new timeline before it counts as real."""


@dataclass(frozen=True)
class TimelineCounts:
    """What a :class:`TimelineRepair` changed.

    Attributes:
        outliers: single frames whose time was out of line, put between their neighbours.
        missing: frames without a time, placed one interval after the last.
        jumps: places where the clock went back, repeated or leapt ahead, rebased.
    """

    outliers: int = 0
    missing: int = 0
    jumps: int = 0

    @property
    def total(self) -> int:
        """Frames whose time was changed."""
        return self.outliers + self.missing + self.jumps


class TimelineRepair:
    """Map raw frame times to strictly increasing ones, one frame at a time.

    Args:
        interval_s: nominal frame interval (1 / fps), the step given to a frame
            whose time is missing or follows a jump.
        max_gap_s: largest forward step kept as it is; longer leaps are rebased.
        offset_s: added to every raw time until the first jump (aligns one
            stream's timeline with another's).
        what: names the stream in the one log message the first repair writes.

    Example:
        >>> repair = TimelineRepair(interval_s=0.1)
        >>> [round(repair.place(t, n), 3) for t, n in [(0.0, 0.1), (0.1, 0.05), (0.05, None)]]
        [0.0, 0.1, 0.2]
    """

    def __init__(
        self, *, interval_s: float, max_gap_s: float = DEFAULT_MAX_GAP_S, offset_s: float = 0.0, what: str = "stream"
    ) -> None:
        if not (interval_s > 0 and math.isfinite(interval_s)):
            raise ValueError(f"interval_s must be a positive number of seconds, got {interval_s!r}")
        if not (max_gap_s >= interval_s and math.isfinite(max_gap_s)):
            raise ValueError(f"max_gap_s must be a number of seconds >= interval_s ({interval_s}), got {max_gap_s!r}")
        self.interval_s = float(interval_s)
        self.max_gap_s = float(max_gap_s)
        self.what = what
        self._offset = float(offset_s)  # repaired time = raw time + offset, changed only at a jump
        self._anchor: float | None = None  # raw time of the last frame that kept its own time
        self._last: float | None = None  # the last repaired time handed out
        self._outliers = 0
        self._missing = 0
        self._jumps = 0
        self._logged = False
        # Before a jump is confirmed, the timeline it left (anchor, offset): a
        # few damaged times in a row look like a jump until the old one resumes.
        self._before: tuple[float | None, float] | None = None
        self._tentative_jumps = 0
        self._tentative_frames = 0

    @property
    def counts(self) -> TimelineCounts:
        """What was changed so far."""
        return TimelineCounts(self._outliers, self._missing, self._jumps)

    def _follows(self, before: float | None, after: float | None) -> bool:
        return before is not None and after is not None and 0.0 < after - before <= self.max_gap_s

    def place(self, raw_s: float | None, next_raw_s: float | None = None) -> float:
        """The repaired time of a frame.

        Args:
            raw_s: the frame's own time in seconds; None (or NaN) when it has none.
            next_raw_s: the next frame's raw time when already known (one frame
                of look-ahead tells a single damaged time from a jump); None
                when unknown.

        Returns:
            A time strictly greater than every one returned before.
        """
        raw = _finite(raw_s)
        following = _finite(next_raw_s)
        last = self._last
        before = self._before
        if raw is None:
            out = 0.0 if last is None else last + self.interval_s
            self._missing += 1
            self._note(f"a frame has no timestamp; placed at {out:.3f} s")
        elif last is None:
            out = raw + self._offset
            self._anchor = raw
        elif before is not None and self._resumes(before[0], raw):
            # The jump was two or more damaged times in a row: the old timeline goes on.
            self._anchor, self._offset = before
            self._jumps -= self._tentative_jumps
            self._outliers += self._tentative_frames
            self._before = None
            out = max(raw + self._offset, _after(last))
            self._anchor = raw
        elif self._follows(self._anchor, raw):
            out = max(raw + self._offset, _after(last))
            self._anchor = raw
            if before is not None:
                self._tentative_frames += 1
                if self._tentative_frames > _CONFIRM_FRAMES:
                    self._before = None  # the jump was real
        elif self._follows(self._anchor, following) or (before is not None and self._follows(before[0], following)):
            assert following is not None
            offset = self._offset if self._follows(self._anchor, following) else before[1]  # type: ignore[index]
            out = max(last + min(self.interval_s, (following + offset - last) / 2), _after(last))
            self._outliers += 1
            self._note(f"one frame's timestamp {raw:.3f} s is out of line; placed at {out:.3f} s")
        else:
            out = last + self.interval_s
            self._jumps += 1
            self._note(
                f"timestamps jump from {self._anchor if self._anchor is not None else last:.3f} s "
                f"to {raw:.3f} s; continuing at {out:.3f} s"
            )
            if before is None:
                self._before = (self._anchor, self._offset)
                self._tentative_jumps = 0
                self._tentative_frames = 0
            self._tentative_jumps += 1
            self._tentative_frames += 1
            self._offset = out - raw
            self._anchor = raw
        self._last = out
        return out

    def _resumes(self, old_anchor: float | None, raw: float) -> bool:
        """Whether ``raw`` continues the timeline from before a jump more closely than the one after it."""
        if not self._follows(old_anchor, raw):
            return False
        assert old_anchor is not None
        return not self._follows(self._anchor, raw) or raw - old_anchor < raw - (self._anchor or 0.0)

    def _note(self, text: str) -> None:
        if not self._logged:
            self._logged = True
            logger.warning("%s: %s (further repairs are counted, not logged)", self.what, text)


def _finite(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def _after(t: float) -> float:
    """The smallest float step after ``t`` that survives rounding to microseconds."""
    return t + max(1e-6, abs(t) * 1e-12)


__all__ = ["DEFAULT_MAX_GAP_S", "TimelineCounts", "TimelineRepair"]
