"""Statistics of stage timings: :class:`StageStats` (median, p90, p95, p99, mean, min, max)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["STAGES", "StageStats", "percentile"]

STAGES = ("capture", "preprocess", "inference", "cam", "render", "encode")


def percentile(samples: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100), interpolating linearly between closest ranks.

    Rank ``r = q / 100 * (n - 1)`` in the sorted samples; a fractional rank
    interpolates between its two neighbours (NumPy's default method).

    Raises:
        ValueError: no samples, or ``q`` outside [0, 100].
    """
    if not samples:
        raise ValueError("percentile of no samples; measure at least one frame")
    if not 0.0 <= q <= 100.0:
        raise ValueError(f"percentile q must be in [0, 100], got {q!r}")
    return float(np.percentile(np.asarray(samples, dtype=np.float64), q))


@dataclass(frozen=True)
class StageStats:
    """Summary of one stage's durations in milliseconds (None when nothing was measured)."""

    count: int
    median_ms: float | None
    p90_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    mean_ms: float | None
    min_ms: float | None
    max_ms: float | None

    @classmethod
    def of(cls, samples_ms: Sequence[float]) -> StageStats:
        if not samples_ms:
            return cls(0, None, None, None, None, None, None, None)
        return cls(
            count=len(samples_ms),
            median_ms=percentile(samples_ms, 50),
            p90_ms=percentile(samples_ms, 90),
            p95_ms=percentile(samples_ms, 95),
            p99_ms=percentile(samples_ms, 99),
            mean_ms=sum(samples_ms) / len(samples_ms),
            min_ms=min(samples_ms),
            max_ms=max(samples_ms),
        )
