"""Tests for drivercam.batch.plan: chunk boundaries and --sample-fps sampling, checked by hand."""

from __future__ import annotations

import numpy as np
import pytest

from drivercam.batch.plan import Chunk, plan_chunks, sample_mask

TIMES = np.arange(100) / 10.0  # 10 fps, 0.0 .. 9.9 s


def test_chunks_tile_the_frames_at_whole_chunk_times() -> None:
    chunks = plan_chunks(TIMES, 3.0)
    assert [(c.first, c.stop) for c in chunks] == [(0, 30), (30, 60), (60, 90), (90, 100)]
    assert all(c.warm == c.first for c in chunks)  # every frame sampled: no warm-up needed
    assert [c.index for c in chunks] == [0, 1, 2, 3]


def test_a_short_video_is_one_chunk() -> None:
    assert plan_chunks(TIMES, 300.0) == [Chunk(0, 0, 100, 0)]
    assert plan_chunks(TIMES[:1], 3.0) == [Chunk(0, 0, 1, 0)]
    assert plan_chunks(np.zeros(0), 3.0) == []


def test_sampled_chunks_start_at_their_sampling_period() -> None:
    # 4 samples a second: periods of 0.25 s; frame 30 (3.0 s) opens a period, frame 61 (6.1 s) does not.
    chunks = plan_chunks(TIMES, 3.05, sample_fps=4.0)
    assert [(c.first, c.warm) for c in chunks] == [(0, 0), (31, 30), (61, 60), (92, 90)]
    mask = sample_mask(TIMES, 4.0)
    assert list(np.flatnonzero(mask[:12])) == [0, 3, 5, 8, 10]  # 0.0, 0.3, 0.5, 0.8, 1.0 s
    for c in chunks:  # a chunk's own mask, from its warm frame on, equals the video's
        assert np.array_equal(sample_mask(TIMES[c.warm : c.stop], 4.0), mask[c.warm : c.stop])
        assert mask[c.warm]


def test_every_frame_is_sampled_without_sample_fps() -> None:
    assert sample_mask(TIMES, None).all()
    assert sample_mask(TIMES, 10.0).all()
    assert sample_mask(TIMES, 5.0).sum() == 50


def test_bad_values_are_refused() -> None:
    with pytest.raises(ValueError, match="chunk_s"):
        plan_chunks(TIMES, 0.0)
    with pytest.raises(ValueError, match="sample_fps"):
        plan_chunks(TIMES, 1.0, sample_fps=-1.0)
    with pytest.raises(ValueError, match="warm <= first"):
        Chunk(0, 5, 10, 6)
