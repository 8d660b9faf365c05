"""Tests for drivercam.bench.stats: percentiles on hand-computed samples."""

from __future__ import annotations

import numpy as np
import pytest

from drivercam.bench.stats import percentile

# -- statistics -------------------------------------------------------------------


def test_percentiles_are_exact_on_hand_computed_samples() -> None:
    samples = [float(v) for v in range(1, 102)]  # 1..101: rank q exactly hits value q + 1
    assert percentile(samples, 50) == 51.0
    assert percentile(samples, 90) == 91.0
    assert percentile(samples, 99) == 100.0
    assert percentile([4.0, 1.0, 3.0, 2.0], 50) == 2.5  # interpolates, order-independent
    assert percentile([10.0, 20.0], 90) == pytest.approx(19.0)
    assert percentile([7.0], 99) == 7.0
    rng = np.random.default_rng(0)
    values = list(rng.exponential(10.0, 37))
    for q in (0, 12.5, 50, 90, 95, 99, 100):
        assert percentile(values, q) == pytest.approx(float(np.percentile(values, q)), rel=1e-12)


def test_percentile_rejects_no_samples_and_bad_q() -> None:
    with pytest.raises(ValueError, match="no samples"):
        percentile([], 50)
    with pytest.raises(ValueError, match=r"\[0, 100\].*101"):
        percentile([1.0], 101)
