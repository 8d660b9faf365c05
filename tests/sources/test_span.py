"""Tests for drivercam.sources.span: a span decoded after a seek equals the same frames decoded from the start."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from support import media
from support.decoding import read_all

from drivercam.errors import SourceError
from drivercam.sources.span import probe_video, read_span
from drivercam.sources.video import VideoFileSource


def test_probe_lists_every_frame_and_spans_match_a_full_decode(tmp_path: Path) -> None:
    clip = media.write_video(tmp_path / "c.mp4", frames=40, fps=15)  # a keyframe every 10 frames
    probe = probe_video(str(clip))
    assert probe.frame_count == 40 and probe.fps == 15.0
    full = read_all(VideoFileSource(clip))
    assert np.allclose(probe.times_s(), [f.time_s for f in full])
    for first, stop in ((0, 40), (7, 13), (10, 20), (19, 40), (39, 40)):
        span = list(read_span(probe, first, stop))
        assert [f.index for f in span] == list(range(first, stop))
        for f in span:
            assert f.time_s == full[f.index].time_s
            assert np.array_equal(f.image(), full[f.index].image)
            assert media.frame_index_of(f.image()) == f.index


def test_unreadable_files_and_bad_spans(tmp_path: Path) -> None:
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video at all")
    with pytest.raises(SourceError, match="could not open"):
        probe_video(str(bad))
    probe = probe_video(str(media.write_video(tmp_path / "c.mp4", frames=5)))
    with pytest.raises(ValueError, match="first < stop"):
        list(read_span(probe, 3, 3))
