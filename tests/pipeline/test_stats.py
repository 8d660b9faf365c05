"""Tests for drivercam.pipeline.stats: the FPS and frame-interval meters on fake ticks."""

from __future__ import annotations

import pytest

from drivercam.pipeline import FpsMeter
from drivercam.pipeline.stats import IntervalMeter

LABELS = ("safe", "texting", "phone")


def test_fps_meter_with_fake_ticks() -> None:
    ticks = iter([0.0, 0.1, 0.2, 0.3, 0.4, 0.5])
    meter = FpsMeter(window=3, clock=lambda: next(ticks))
    assert meter.fps == 0.0
    assert meter.tick() == 0.0
    assert meter.tick() == pytest.approx(10.0)
    meter.tick()
    meter.tick()
    assert meter.fps == pytest.approx(10.0)  # window of 3: (0.1 .. 0.3)
    with pytest.raises(ValueError, match="window"):
        FpsMeter(window=1)


def test_fps_meter_same_instant_is_zero_not_inf() -> None:
    meter = FpsMeter(clock=lambda: 1.0)
    meter.tick()
    meter.tick()
    assert meter.fps == 0.0


def test_interval_meter_smooths_tick_spacing() -> None:
    meter = IntervalMeter(smoothing=0.5)
    assert meter.value is None
    meter.add(1.0)
    assert meter.value is None
    meter.add(1.1)
    assert meter.value == pytest.approx(0.1)
    meter.add(1.4)  # 0.3 apart: halfway from 0.1
    assert meter.value == pytest.approx(0.2)
