"""Tests for drivercam.bench.timing: the stage timer on fake clocks."""

from __future__ import annotations

import pytest

from drivercam.bench.stats import StageStats
from drivercam.bench.timing import StageTimer


class FakeClock:
    """Returns the given ticks one after another."""

    def __init__(self, ticks: list[float]) -> None:
        self.ticks = list(ticks)

    def __call__(self) -> float:
        return self.ticks.pop(0)


# -- statistics -------------------------------------------------------------------


def test_stage_timer_on_fake_ticks_gives_exact_stats_and_skips_warmup() -> None:
    # Stage "inference" takes 10, 1, 2, ..., 9 ms (the 10 ms first sample is the warm-up).
    durations = [0.010] + [k / 1000.0 for k in range(1, 10)]
    ticks: list[float] = []
    now = 100.0
    for d in durations:
        ticks += [now, now + d]
        now += 1.0
    timer = StageTimer(FakeClock(ticks))
    for _ in durations:
        with timer.measure("inference"):
            pass
    assert timer.samples("inference") == pytest.approx([d * 1000 for d in durations])
    stats = timer.summary(("inference", "encode"), skip=1)
    inf = stats["inference"]
    assert inf.count == 9
    assert inf.median_ms == pytest.approx(5.0)
    assert inf.p90_ms == pytest.approx(8.2)  # rank 0.9 * 8 = 7.2 -> 8 + 0.2 * (9 - 8)
    assert inf.p99_ms == pytest.approx(8.92)
    assert inf.min_ms == pytest.approx(1.0) and inf.max_ms == pytest.approx(9.0)
    assert stats["encode"] == StageStats(0, None, None, None, None, None, None, None)


def test_stage_timer_records_a_sample_when_the_block_raises() -> None:
    timer = StageTimer(FakeClock([1.0, 1.25]))
    with pytest.raises(RuntimeError):
        with timer.measure("render"):
            raise RuntimeError("boom")
    assert timer.samples("render") == [250.0]
