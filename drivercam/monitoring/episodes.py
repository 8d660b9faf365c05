"""Distraction episodes and alerts from smoothed class probabilities.

The rule, applied frame by frame to *smoothed* probabilities:

* **Distraction mass** ``m = sum(p[c] for c in distraction_classes)``: the
  probability that the driver is doing something other than driving, whatever
  it is. Using the mass rather than one class keeps an episode whole when the
  top class wavers between similar activities (texting vs. phone in one hand).
* **Onset**: an episode starts when ``m >= enter_threshold`` has held on every
  frame for at least ``onset_s``. Its start time is the *first* of those frames,
  so durations and alert times count from the moment distraction began.
* **Alerts**: the first ALERT fires on the first distracted frame at which the
  episode has lasted ``warning_s``; further alerts at ``warning_s + k *
  cooldown_s`` while it lasts. A deadline passed during a short safe blip
  fires on the next distracted frame.
* **Release** (hysteresis): an open episode ends only when ``m < exit_threshold``
  has held for at least ``release_s``; its end time is the first of those
  frames. A shorter safe blip leaves the episode open and uninterrupted.
* **Activities**: each frame's *activity* is its most probable distraction
  class (``argmax`` of the smoothed probabilities over the distraction classes,
  so a frame the model calls safe inside an episode still gets the likeliest
  distraction). Consecutive frames with the same activity form a run, which
  lasts from its first frame's time to the next run's first frame (the last
  run to the episode's end). Runs shorter than ``min_activity_s`` are merged
  away one at a time: the shortest of them (the earlier on ties) is absorbed
  by the longer of its two neighbours (the earlier on ties; at either end of
  the episode, by its only neighbour), taking that neighbour's class, and
  neighbours that now share a class join. This stops when every run lasts at
  least ``min_activity_s`` or one run is left. An activity's confidence is the
  mean smoothed probability of its class over all of its frames.
* **Class**: the activity class with the most time in the episode (the lowest
  class index on ties); **confidence** is the mass ``m``.

The presets follow the timing of the EU advanced driver distraction warning
rules (Regulation (EU) 2023/2590): warn within 3.5 s of sustained distraction
above 50 km/h (``eu-high-speed``, the default) and within 6 s at 20-50 km/h
(``eu-low-speed``); the presets alert 0.5 s before those limits to leave room
for smoothing and detection delay. The vehicle speed is not known here; pick
the preset.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from drivercam.events import Activity, Episode, Event
from drivercam.monitoring.activities import Run, joined, merge_runs
from drivercam.monitoring.episode_config import EpisodeConfig

__all__ = ["EpisodeTracker"]

logger = logging.getLogger(__name__)

# Frame times such as i / 15 are not exact in binary; without a little slack a
# threshold can be missed by one frame at one frame rate and not at another.
_EPS_S = 1e-6


@dataclass
class _Span:
    """Running statistics of the frames of a candidate or open episode."""

    start_time_s: float
    first_frame: int
    frames: int = 0
    mass_sum: float = 0.0
    peak: float = -1.0
    peak_frame: int = -1
    peak_time_s: float = 0.0
    last_frame: int = -1
    runs: list[Run] = field(default_factory=list)

    def add(self, time_s: float, frame: int, mass: float, probs: np.ndarray, activity: int) -> None:
        self.frames += 1
        self.mass_sum += mass
        self.last_frame = frame
        if mass > self.peak:
            self.peak, self.peak_frame, self.peak_time_s = mass, frame, time_s
        if self.runs and self.runs[-1].class_index == activity:
            self.runs[-1].frames += 1
            self.runs[-1].prob_sums += probs
        else:
            self.runs.append(Run(activity, time_s, 1, probs.astype(np.float64, copy=True)))

    def merge(self, other: _Span) -> None:
        # The frames of a safe blip join the episode; they cannot hold its peak.
        self.frames += other.frames
        self.mass_sum += other.mass_sum
        self.runs = joined(self.runs, other.runs)


class EpisodeTracker:
    """Feeds smoothed probabilities frame by frame and reports episode events.

    Args:
        labels: the model's class labels (sets the number of classes).
        config: timing and thresholds; defaults to the ``eu-high-speed`` preset.

    Example:
        >>> tracker = EpisodeTracker(labels)
        >>> for frame_index, (t, p) in enumerate(stream):
        ...     for event in tracker.update(t, p, frame_index):
        ...         print(event.kind, event.episode.label)
        >>> tracker.finish()
    """

    def __init__(
        self,
        labels: Sequence[str],
        config: EpisodeConfig | None = None,
        *,
        class_ids: Sequence[str] | None = None,
    ) -> None:
        self.labels = tuple(labels)
        if not self.labels:
            raise ValueError("labels must name at least one class")
        self.class_ids = tuple(str(i) for i in range(len(self.labels))) if class_ids is None else tuple(class_ids)
        if len(self.class_ids) != len(self.labels):
            raise ValueError(f"got {len(self.class_ids)} class ids for {len(self.labels)} labels; give one per class")
        self.config = config if config is not None else EpisodeConfig()
        self._classes = np.array(self.config.classes_for(len(self.labels)), dtype=np.intp)
        self.episodes: list[Episode] = []
        self._next_id = 1
        self._last_time_s: float | None = None
        self._last_frame = -1
        self._last_mass = 0.0
        self._span: _Span | None = None  # candidate or open episode
        self._open_id: int | None = None  # set once the onset is confirmed
        self._release: _Span | None = None  # safe frames of a pending release
        self._alert_times: list[float] = []
        self._next_alert_s = 0.0  # episode age at which the next alert is due

    # -- state for the caller -------------------------------------------------

    @property
    def distraction_classes(self) -> np.ndarray:
        """Indices of the classes that count as distraction (a copy)."""
        return self._classes.copy()

    @property
    def current(self) -> Episode | None:
        """The open episode as it stands, or None."""
        if self._open_id is None or self._span is None or self._last_time_s is None:
            return None
        return self._episode_as_of(self._last_time_s, final=False)

    @property
    def alerting(self) -> bool:
        """True while an episode that has alerted is open and the driver still distracted."""
        return self._open_id is not None and bool(self._alert_times) and self._release is None

    @property
    def elapsed_s(self) -> float | None:
        """Seconds from the open episode's start to the latest frame, or None (cheaper than :attr:`current`)."""
        if self._open_id is None or self._span is None or self._last_time_s is None:
            return None
        return self._last_time_s - self._span.start_time_s

    @property
    def current_activity(self) -> Activity | None:
        """What the driver is doing now, while an episode is open: the latest frame's
        activity class, since when it has lasted (unmerged), and its mean probability."""
        if self._open_id is None or self._span is None or self._last_time_s is None:
            return None
        source = self._release if self._release is not None else self._span
        if not source.runs:
            return None
        return self._activity(source.runs[-1], self._last_time_s)

    @property
    def peak_frame_index(self) -> int | None:
        """Peak frame of the candidate or open episode (for snapshots), or None."""
        return None if self._span is None else self._span.peak_frame

    # -- feeding --------------------------------------------------------------

    def update(self, time_s: float, probs: np.ndarray, frame_index: int) -> list[Event]:
        """Feed one frame's smoothed (C,) probabilities; returns the events it caused.

        Args:
            time_s: frame time in seconds, never decreasing.
            probs: (C,) probabilities, C == len(labels).
            frame_index: the frame's index (for the episode record).
        """
        p = np.asarray(probs, dtype=np.float64)
        if p.shape != (len(self.labels),):
            raise ValueError(f"probs must have shape ({len(self.labels)},), got {p.shape}")
        if not math.isfinite(time_s):
            raise ValueError(f"time_s must be finite, got {time_s!r}")
        if self._last_time_s is not None and time_s < self._last_time_s:
            raise ValueError(
                f"time_s went back from {self._last_time_s!r} to {time_s!r}; call finish() before feeding a new stream"
            )
        mass = float(p[self._classes].sum())
        activity = int(self._classes[np.argmax(p[self._classes])])
        self._last_time_s = float(time_s)
        self._last_frame = frame_index
        self._last_mass = mass
        cfg = self.config
        events: list[Event] = []

        if self._open_id is None:
            if mass < cfg.enter_threshold:
                self._span = None  # a candidate that did not last
                return events
            if self._span is None:
                self._span = _Span(time_s, frame_index)
            self._span.add(time_s, frame_index, mass, p, activity)
            if time_s - self._span.start_time_s + _EPS_S < cfg.onset_s:
                return events
            self._open_id = self._next_id
            self._next_id += 1
            self._alert_times = []
            self._next_alert_s = cfg.warning_s
            events.append(Event("episode_start", time_s, frame_index, mass, self._episode_as_of(time_s, final=False)))
        elif mass >= cfg.exit_threshold:
            assert self._span is not None
            if self._release is not None:
                self._span.merge(self._release)
                self._release = None
            self._span.add(time_s, frame_index, mass, p, activity)
        else:
            if self._release is None:
                self._release = _Span(time_s, frame_index)
            self._release.add(time_s, frame_index, mass, p, activity)
            if time_s - self._release.start_time_s + _EPS_S >= cfg.release_s:
                events.append(self._close(time_s, frame_index, mass, self._release.start_time_s))
            return events

        assert self._span is not None
        age = time_s - self._span.start_time_s
        if age + _EPS_S >= self._next_alert_s:
            self._alert_times.append(float(time_s))
            while self._next_alert_s <= age + _EPS_S:  # skip deadlines missed in a blip
                self._next_alert_s += cfg.cooldown_s
            events.append(
                Event(
                    "alert",
                    time_s,
                    frame_index,
                    mass,
                    self._episode_as_of(time_s, final=False),
                    alert_number=len(self._alert_times),
                    activity=self.current_activity,
                )
            )
        return events

    def finish(self, time_s: float | None = None) -> list[Event]:
        """End of stream: close an open episode and forget any candidate.

        Args:
            time_s: the end time of the stream (for example the last frame's
                time plus one frame period); defaults to the last frame's time.

        Returns:
            ``[episode_end]`` if an episode was open, else ``[]``.
        """
        events: list[Event] = []
        if self._open_id is not None and self._last_time_s is not None:
            end_s = self._last_time_s if time_s is None else max(float(time_s), self._last_time_s)
            if self._release is not None:
                end_s = self._release.start_time_s
            events.append(self._close(self._last_time_s, self._last_frame, self._last_mass, end_s))
        self._span = None
        self._release = None
        self._last_time_s = None
        return events

    # -- internals ------------------------------------------------------------

    def _close(self, time_s: float, frame_index: int, mass: float, end_s: float) -> Event:
        episode = self._episode_as_of(end_s, final=True)
        self.episodes.append(episode)
        self._span = None
        self._release = None
        self._open_id = None
        return Event("episode_end", time_s, frame_index, mass, episode)

    def _activity(self, run: Run, end_s: float) -> Activity:
        c = run.class_index
        return Activity(
            class_index=c,
            class_id=self.class_ids[c],
            label=self.labels[c],
            start_time_s=run.start_time_s,
            end_time_s=end_s,
            duration_s=end_s - run.start_time_s,
            mean_confidence=float(run.prob_sums[c] / run.frames),
        )

    def _activities(self, runs: list[Run], end_s: float) -> tuple[Activity, ...]:
        ends = [r.start_time_s for r in runs[1:]] + [max(end_s, runs[-1].start_time_s)]
        merged = merge_runs(
            [(r.class_index, r.start_time_s, e) for r, e in zip(runs, ends)], self.config.min_activity_s
        )
        out = []
        for c, start, end, members in merged:
            frames = sum(runs[i].frames for i in members)
            prob = sum(float(runs[i].prob_sums[c]) for i in members)
            out.append(
                Activity(
                    class_index=c,
                    class_id=self.class_ids[c],
                    label=self.labels[c],
                    start_time_s=start,
                    end_time_s=end,
                    duration_s=end - start,
                    mean_confidence=prob / frames,
                )
            )
        return tuple(out)

    def _episode_as_of(self, end_s: float, *, final: bool) -> Episode:
        span = self._span
        assert span is not None and self._open_id is not None
        frames, runs, mass_sum = span.frames, span.runs, span.mass_sum
        if not final and self._release is not None:
            # An open episode in a blip: count the blip so far, as it would be if resumed.
            frames += self._release.frames
            runs = joined(runs, self._release.runs)
            mass_sum += self._release.mass_sum
        activities = self._activities(runs, end_s)
        seconds = np.zeros(len(self.labels))
        for a in activities:
            seconds[a.class_index] += a.duration_s
        if not seconds.any():  # only one frame so far: no time has passed
            seconds[activities[0].class_index] = 1.0
        class_index = int(np.argmax(seconds))
        return Episode(
            id=self._open_id,
            class_index=class_index,
            label=self.labels[class_index],
            start_time_s=span.start_time_s,
            end_time_s=end_s,
            duration_s=end_s - span.start_time_s,
            first_frame=span.first_frame,
            last_frame=span.last_frame,
            peak_confidence=span.peak,
            mean_confidence=mass_sum / frames,
            peak_frame_index=span.peak_frame,
            peak_time_s=span.peak_time_s,
            alerts=len(self._alert_times),
            alert_times_s=tuple(self._alert_times),
            activities=activities,
        )
