"""Tests for drivercam.sources.timeline: raw frame times in, a strictly increasing timeline out."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pytest

from drivercam.sources.timeline import TimelineCounts, TimelineRepair


def place_all(raw: list[float | None], **kwargs: Any) -> tuple[list[float], TimelineCounts]:
    repair = TimelineRepair(**{"interval_s": 0.1, **kwargs})
    ahead = [*raw[1:], None]
    out = [repair.place(t, n) for t, n in zip(raw, ahead)]
    return out, repair.counts


def assert_increasing(times: list[float]) -> None:
    assert all(b > a for a, b in zip(times, times[1:])), times


def test_clean_and_variable_rate_times_pass_through_unchanged() -> None:
    raw = [0.0, 0.1, 0.2, 0.25, 0.4, 1.9, 2.0]  # uneven spacing and a 1.5 s gap are real
    out, counts = place_all(raw)
    np.testing.assert_allclose(out, raw)
    assert counts == TimelineCounts()


def test_one_damaged_time_is_put_between_its_neighbours_and_nothing_after_shifts() -> None:
    back = [0.0, 0.1, 0.2, 0.05, 0.4, 0.5]  # frame 3 should be 0.3
    out, counts = place_all(back)
    assert_increasing(out)
    np.testing.assert_allclose(out[:3] + out[4:], [0.0, 0.1, 0.2, 0.4, 0.5])
    assert 0.2 < out[3] < 0.4
    assert counts == TimelineCounts(outliers=1)
    ahead = [0.0, 0.1, 0.2, 900.0, 0.4, 0.5]  # a leap forward and back
    out, counts = place_all(ahead)
    np.testing.assert_allclose(out[:3] + out[4:], [0.0, 0.1, 0.2, 0.4, 0.5])
    assert counts == TimelineCounts(outliers=1)


def test_two_damaged_times_in_a_row_are_not_a_jump() -> None:
    raw = [0.0, 0.1, 0.2, -5.0, 9000.0, 0.5, 0.6, 0.7]
    out, counts = place_all(raw)
    assert_increasing(out)
    np.testing.assert_allclose(out[:3] + out[5:], [0.0, 0.1, 0.2, 0.5, 0.6, 0.7])
    assert counts == TimelineCounts(outliers=2)


def test_a_join_or_reset_rebases_the_rest_one_interval_after_the_last_frame() -> None:
    raw = [0.0, 0.1, 0.2, 0.0, 0.1, 0.2]  # two recordings end to end
    out, counts = place_all(raw)
    np.testing.assert_allclose(out, [0.0, 0.1, 0.2, 0.3, 0.4, 0.5])
    assert counts == TimelineCounts(jumps=1)


def test_a_leap_beyond_max_gap_is_rebased_a_shorter_one_kept() -> None:
    out, counts = place_all([0.0, 0.1, 3600.0, 3600.1], max_gap_s=5.0)
    np.testing.assert_allclose(out, [0.0, 0.1, 0.2, 0.3])
    assert counts.jumps == 1
    out, counts = place_all([0.0, 0.1, 4.1, 4.2], max_gap_s=5.0)
    np.testing.assert_allclose(out, [0.0, 0.1, 4.1, 4.2])
    assert counts.total == 0


def test_repeated_and_missing_times_get_one_interval_each() -> None:
    out, counts = place_all([0.5, 0.5, 0.5, 0.5])
    np.testing.assert_allclose(out, [0.5, 0.6, 0.7, 0.8])
    assert counts.jumps == 3
    out, counts = place_all([None, None, float("nan"), 0.3, 0.4])
    assert_increasing(out)
    np.testing.assert_allclose(out[:3], [0.0, 0.1, 0.2])
    assert counts.missing == 3


def test_the_last_frame_without_look_ahead_still_goes_forward() -> None:
    repair = TimelineRepair(interval_s=0.04)
    assert repair.place(1.0) == 1.0
    assert repair.place(0.5) == pytest.approx(1.04)


def test_random_garbage_always_comes_out_strictly_increasing() -> None:
    rng = np.random.default_rng(0)
    for _ in range(50):
        n = int(rng.integers(2, 60))
        raw: list[float | None] = [
            None if rng.random() < 0.1 else float(rng.choice([rng.normal(0, 100), rng.random() * 5, 0.0]))
            for _ in range(n)
        ]
        out, _ = place_all(raw)
        assert_increasing(out)
        assert all(np.isfinite(out))


def test_only_the_first_repair_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="drivercam.sources.timeline"):
        _, counts = place_all([0.0, 0.1, 0.0, 0.1, 0.0, 0.1, 0.0], what="clip.ts")
    assert counts.jumps == 3
    assert len(caplog.records) == 1
    assert "clip.ts" in caplog.records[0].getMessage()


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [({"interval_s": 0.0}, "interval_s"), ({"interval_s": 0.1, "max_gap_s": 0.05}, "max_gap_s")],
)
def test_bad_settings_are_named(kwargs: dict[str, float], fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        TimelineRepair(**kwargs)  # type: ignore[arg-type]
