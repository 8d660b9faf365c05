"""Value objects of the episode rule (:class:`Activity`, :class:`Episode`, :class:`Event`) and time per class.

Shared by the tracker that makes them (:mod:`drivercam.monitoring.episodes`),
the sinks that write them (:mod:`drivercam.sinks.eventlog`,
:mod:`drivercam.sinks.report`) and the alert command that reacts to them
(:mod:`drivercam.monitoring.alert_command`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["EVENT_KINDS", "Activity", "Episode", "Event", "activity_durations", "class_durations"]

EVENT_KINDS = ("episode_start", "alert", "episode_end")


@dataclass(frozen=True)
class Activity:
    """One stretch of an episode during which the driver did one thing.

    An activity is a run of frames whose smoothed class, among the distraction
    classes, stays the same (:mod:`drivercam.monitoring.episodes` says how short
    runs are merged into their neighbours).

    Attributes:
        class_index: the distraction class; ``class_id`` and ``label`` name it.
        start_time_s: time of its first frame.
        end_time_s: time of the frame after its last one (the episode's end for
            the last activity).
        duration_s: ``end_time_s - start_time_s``.
        mean_confidence: mean smoothed probability of ``class_index`` over its frames.
    """

    class_index: int
    class_id: str
    label: str
    start_time_s: float
    end_time_s: float
    duration_s: float
    mean_confidence: float

    def __post_init__(self) -> None:
        if isinstance(self.class_index, bool) or not isinstance(self.class_index, int) or self.class_index < 0:
            raise ValueError(f"class_index must be an int >= 0, got {self.class_index!r}")
        if not self.end_time_s >= self.start_time_s:
            raise ValueError(
                f"an activity must not end ({self.end_time_s!r} s) before it starts ({self.start_time_s!r} s)"
            )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of every field."""
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Episode:
    """One distraction episode; an open episode's end is the latest frame seen.

    Attributes:
        id: 1-based, in order of onset.
        class_index: dominant distraction class; ``label`` is its name.
        start_time_s: time of the first distracted frame.
        end_time_s: time of the first safe frame after it (or of the last frame
            when the stream ended first).
        duration_s: ``end_time_s - start_time_s``.
        first_frame, last_frame: first and last distracted frame indices.
        peak_confidence, mean_confidence: max and mean distraction mass.
        peak_frame_index, peak_time_s: where the peak is (first one on ties).
        alerts: number of alerts fired; ``alert_times_s`` their times.
        snapshot: path of the JPEG snapshot at the peak, when one was written.
        activities: what the driver did during the episode, in time order,
            covering it from start to end; ``class_index`` is the activity
            class with the most time.
    """

    id: int
    class_index: int
    label: str
    start_time_s: float
    end_time_s: float
    duration_s: float
    first_frame: int
    last_frame: int
    peak_confidence: float
    mean_confidence: float
    peak_frame_index: int
    peak_time_s: float
    alerts: int
    alert_times_s: tuple[float, ...] = ()
    snapshot: str | None = None
    activities: tuple[Activity, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of every field."""
        d = dataclasses.asdict(self)
        d["alert_times_s"] = list(self.alert_times_s)
        d["activities"] = [a.to_dict() for a in self.activities]
        return d

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> Episode:
        """The episode :meth:`to_dict` wrote (a log without ``activities`` reads as none)."""
        values = dict(record)
        values["alert_times_s"] = tuple(values.get("alert_times_s", ()))
        values["activities"] = tuple(Activity(**a) for a in values.get("activities", ()))
        return cls(**values)


@dataclass(frozen=True)
class Event:
    """Something that happened at one frame: ``episode_start``, ``alert`` or ``episode_end``.

    Attributes:
        kind: one of :data:`EVENT_KINDS`.
        time_s, frame_index: the frame at which it was decided.
        confidence: the distraction mass at that frame.
        episode: the episode as it stands (final for ``episode_end``).
        alert_number: 1-based alert count within the episode (alerts only, else 0).
        activity: what the driver is doing at this frame (alerts only): the
            smoothed class among the distraction classes, since when it has
            lasted, and its mean probability so far.
    """

    kind: str
    time_s: float
    frame_index: int
    confidence: float
    episode: Episode
    alert_number: int = 0
    activity: Activity | None = None

    @property
    def elapsed_s(self) -> float:
        """Seconds since the episode started."""
        return self.time_s - self.episode.start_time_s

    def to_dict(self) -> dict[str, Any]:
        """A flat JSON-ready dict (``type`` says the kind); ends carry the whole episode.

        Alerts also carry the episode's ``activities`` so far and the current
        ``activity`` (``activity_label`` names it).
        """
        d: dict[str, Any] = {
            "type": self.kind,
            "time_s": self.time_s,
            "frame_index": self.frame_index,
            "episode_id": self.episode.id,
            "class_index": self.episode.class_index,
            "label": self.episode.label,
            "elapsed_s": self.elapsed_s,
            "confidence": self.confidence,
        }
        if self.kind == "alert":
            d["alert_number"] = self.alert_number
            if self.activity is not None:
                d["activity_class_index"] = self.activity.class_index
                d["activity_label"] = self.activity.label
                d["activity"] = self.activity.to_dict()
            d["activities"] = [a.to_dict() for a in self.episode.activities]
        if self.kind == "episode_end":
            d["episode"] = self.episode.to_dict()
        return d


def activity_durations(episodes: Sequence[Episode], num_classes: int) -> np.ndarray:
    """Seconds of each class's activities, summed over ``episodes``.

    Returns:
        (num_classes,) float64 seconds.
    """
    out = np.zeros(num_classes, dtype=np.float64)
    for episode in episodes:
        for activity in episode.activities:
            if not 0 <= activity.class_index < num_classes:
                raise ValueError(
                    f"activity class index {activity.class_index} out of range for {num_classes} classes "
                    f"(episode {episode.id})"
                )
            out[activity.class_index] += activity.duration_s
    return out


def class_durations(
    timeline: Sequence[tuple[float, int]], num_classes: int, duration_s: float | None = None
) -> np.ndarray:
    """Seconds spent in each class, from a per-frame timeline.

    Each ``(time_s, class_index)`` sample lasts until the next sample's time;
    the last one until ``duration_s`` (or, if None, one median frame period).

    Returns:
        (num_classes,) float64 seconds.
    """
    out = np.zeros(num_classes, dtype=np.float64)
    if not timeline:
        return out
    times = np.array([t for t, _ in timeline], dtype=np.float64)
    classes = np.array([c for _, c in timeline], dtype=np.intp)
    if classes.min() < 0 or classes.max() >= num_classes:
        raise ValueError(
            f"timeline class indices must be in 0..{num_classes - 1}, got {classes.min()}..{classes.max()}"
        )
    if duration_s is None:
        step = float(np.median(np.diff(times))) if len(times) > 1 else 0.0
        end = times[-1] + step
    else:
        end = max(float(duration_s), float(times[-1]))
    spans = np.clip(np.diff(np.append(times, end)), 0.0, None)
    np.add.at(out, classes, spans)
    return out
