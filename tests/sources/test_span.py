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


def test_a_part_of_the_probe_is_enough_to_read_its_span(tmp_path: Path) -> None:
    clip = media.write_video(tmp_path / "c.mp4", frames=40, fps=15)
    probe = probe_video(str(clip))
    part = probe.part(13, 27)
    assert (part.offset, part.stop, part.frame_count) == (13, 27, 14)
    assert np.array_equal(part.times_s(), probe.times_s()[13:27])
    assert [f.index for f in read_span(part, 15, 27)] == list(range(15, 27))
    assert [media.frame_index_of(f.image()) for f in read_span(part, 13, 16)] == [13, 14, 15]
    with pytest.raises(ValueError, match="13 <= first < stop <= 27"):
        list(read_span(part, 12, 20))
    with pytest.raises(ValueError, match="part must lie"):
        part.part(0, 5)


def test_unreadable_files_and_bad_spans(tmp_path: Path) -> None:
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video at all")
    with pytest.raises(SourceError, match="could not open"):
        probe_video(str(bad))
    probe = probe_video(str(media.write_video(tmp_path / "c.mp4", frames=5)))
    with pytest.raises(ValueError, match="first < stop"):
        list(read_span(probe, 3, 3))


def test_truncated_and_damaged_files_are_errors_not_short_videos(tmp_path: Path) -> None:
    full = media.write_video(tmp_path / "full.mp4", frames=60, fps=15, faststart=True)
    cut = media.truncated_copy(full, tmp_path / "cut.mp4", keep=0.5)
    with pytest.raises(SourceError, match=r"holds \d+ of the 60 frames its index lists; the file is truncated"):
        probe_video(str(cut))
    damaged = media.corrupted_copy(full, tmp_path / "damaged.mp4", at=1 / 3, nbytes=2000)
    probe = probe_video(str(damaged))  # the index is intact
    assert probe.frame_count == 60
    with pytest.raises(SourceError, match="the file is damaged"):
        list(read_span(probe, 0, 60))
