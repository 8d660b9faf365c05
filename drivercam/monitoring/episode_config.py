"""The episode rule's settings: thresholds, timings and the EU presets, checked once when they are made.

The rule itself (onset, alerts, release, activities) is in
:mod:`drivercam.monitoring.episodes`.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

__all__ = ["EPISODE_PRESETS", "EpisodeConfig"]


EPISODE_PRESETS: dict[str, dict[str, float]] = {
    "eu-high-speed": {"onset_s": 1.0, "warning_s": 3.0, "cooldown_s": 3.0, "release_s": 1.0},
    "eu-low-speed": {"onset_s": 1.0, "warning_s": 5.5, "cooldown_s": 5.0, "release_s": 1.0},
}
"""Timing presets by name; every value can be overridden.

``warning_s`` is the rule's limit (3.5 s, 6 s) less a 0.5 s margin: the episode
clock starts when the *smoothed* distraction mass crosses the threshold, which on
the labelled in-cabin clips came 0.25 s (tau 0.5 s) after the true onset, and a
frame boundary adds up to one more frame interval. With the margin the first
alert came 3.25 s after the true onset there (tools/eval_smoothing.py), inside
the 3.5 s limit."""


@dataclass(frozen=True)
class EpisodeConfig:
    """Timing and thresholds of the episode state machine (defaults: ``eu-high-speed``).

    Attributes:
        onset_s: seconds the distraction mass must stay >= ``enter_threshold``
            before an episode is declared.
        warning_s: episode age in seconds at which the first alert fires
            (>= ``onset_s``).
        cooldown_s: seconds between repeated alerts while the episode lasts.
        release_s: seconds the mass must stay < ``exit_threshold`` to end it.
        enter_threshold: mass at or above which a frame counts as distracted.
        exit_threshold: mass below which a frame counts as safe again
            (<= ``enter_threshold``; the gap is the hysteresis band).
        distraction_classes: class indices that count as distraction; None
            means every class except 0 ("safe driving").
        min_activity_s: activities inside an episode shorter than this many
            seconds are merged into their neighbours (0 keeps every run). The
            default, 1 s, matches ``onset_s``: what would be too short to start
            an episode is too short to count as an activity of its own.
    """

    onset_s: float = 1.0
    warning_s: float = 3.0
    cooldown_s: float = 3.0
    release_s: float = 1.0
    enter_threshold: float = 0.5
    exit_threshold: float = 0.35
    distraction_classes: tuple[int, ...] | None = None
    min_activity_s: float = 1.0

    def __post_init__(self) -> None:
        for name in (
            "onset_s",
            "warning_s",
            "cooldown_s",
            "release_s",
            "enter_threshold",
            "exit_threshold",
            "min_activity_s",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError(f"{name} must be a number, got {type(value).__name__}")
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
        if self.warning_s < self.onset_s:
            raise ValueError(
                f"warning_s ({self.warning_s!r}) must be >= onset_s ({self.onset_s!r}): "
                "an alert needs an episode; lower onset_s or raise warning_s"
            )
        if self.cooldown_s <= 0:
            raise ValueError(f"cooldown_s must be > 0 seconds, got {self.cooldown_s!r}")
        if not 0 < self.enter_threshold <= 1:
            raise ValueError(f"enter_threshold must be in (0, 1], got {self.enter_threshold!r}")
        if not 0 < self.exit_threshold <= self.enter_threshold:
            raise ValueError(
                f"exit_threshold must be in (0, enter_threshold={self.enter_threshold!r}], got {self.exit_threshold!r}"
            )
        if self.distraction_classes is not None:
            classes = self.distraction_classes
            if not isinstance(classes, tuple) or not all(
                isinstance(c, int) and not isinstance(c, bool) for c in classes
            ):
                raise TypeError(f"distraction_classes must be a tuple of ints or None, got {classes!r}")
            if not classes or len(set(classes)) != len(classes) or min(classes) < 0:
                raise ValueError(
                    f"distraction_classes must be distinct class indices >= 0, at least one, got {classes!r}"
                )

    @classmethod
    def from_preset(cls, preset: str = "eu-high-speed", **overrides: Any) -> EpisodeConfig:
        """Build a config from a named preset, with any field overridden.

        Args:
            preset: a key of :data:`EPISODE_PRESETS`.
            **overrides: field values that replace the preset's; None values are
                ignored, so CLI options can be passed straight through.
        """
        if preset not in EPISODE_PRESETS:
            raise ValueError(f"unknown episode preset {preset!r}; choose one of {sorted(EPISODE_PRESETS)}")
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(overrides) - names)
        if unknown:
            raise TypeError(f"unknown EpisodeConfig field(s) {unknown}; valid: {sorted(names)}")
        values: dict[str, Any] = dict(EPISODE_PRESETS[preset])
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def classes_for(self, num_classes: int) -> tuple[int, ...]:
        """The distraction class indices for a model with ``num_classes`` classes."""
        if self.distraction_classes is None:
            return tuple(range(1, num_classes))
        bad = [c for c in self.distraction_classes if c >= num_classes]
        if bad:
            raise ValueError(
                f"distraction_classes {bad} out of range for a model with {num_classes} classes (0..{num_classes - 1})"
            )
        return self.distraction_classes
