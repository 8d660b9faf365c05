"""Synthetic probability streams for the episode tests."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from drivercam.events import Event
from drivercam.monitoring.episode_config import EpisodeConfig
from drivercam.monitoring.episodes import EpisodeTracker
from drivercam.monitoring.smoothing import ProbabilitySmoother
from support.tiny_models import SHORT_LABELS

LABELS = SHORT_LABELS
TIMING = EpisodeConfig(onset_s=1.0, warning_s=3.5, cooldown_s=3.0, release_s=1.0)
"""Round-number timings that make the expected event times easy to state."""


def probs(mass: float, cls: int = 1) -> np.ndarray:
    """Class ``cls`` holds ``mass``, safe driving the rest."""
    p = np.zeros(len(LABELS))
    p[cls] = mass
    p[0] += 1.0 - mass
    return p


def run(
    signal: Callable[[float], np.ndarray],
    *,
    fps: float,
    duration_s: float,
    config: EpisodeConfig = TIMING,
    smooth_tau_s: float | None = None,
) -> tuple[list[Event], EpisodeTracker]:
    """Feed ``signal(t)`` at ``fps`` for ``duration_s``; returns every event, finish included."""
    tracker = EpisodeTracker(LABELS, config)
    smoother = ProbabilitySmoother(smooth_tau_s) if smooth_tau_s is not None else None
    events: list[Event] = []
    for i in range(round(duration_s * fps)):
        t = i / fps
        p = signal(t)
        if smoother is not None:
            p = smoother.update(t, p)
        events += tracker.update(t, p, i)
    events += tracker.finish()
    return events, tracker


def between(
    a: float, b: float, inside: float = 0.9, outside: float = 0.05, cls: int = 1
) -> Callable[[float], np.ndarray]:
    return lambda t: probs(inside if a - 1e-9 <= t < b - 1e-9 else outside, cls)
