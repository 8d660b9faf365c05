"""Tests for drivercam.sources.paced: a file played in real time."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.fake_capture import SleepClock

from drivercam.sources import (
    PacedSource,
    VideoFileSource,
)

# --------------------------------------------------------------------------- video files


def test_paced_source_releases_frames_at_their_times(clip: Path) -> None:
    clock = SleepClock(start=50.0)
    with PacedSource(VideoFileSource(clip), clock=clock, sleep=clock.sleep) as paced:
        assert paced.is_live and paced.fps == pytest.approx(15) and paced.frame_count == 30
        first = paced.read()
        clock.now += 0.02  # the reader spent 20 ms on this frame
        second = paced.read()
        clock.now += 0.5  # the reader fell behind: no waiting now
        third = paced.read()
        assert paced.error is None
    assert first is not None and second is not None and third is not None
    assert clock.sleeps == pytest.approx([1 / 15 - 0.02])
    assert second.captured_at == pytest.approx(50.0 + 1 / 15)
    assert third.time_s == pytest.approx(2 / 15)


# --------------------------------------------------------------------------- open_source
