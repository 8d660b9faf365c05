"""Value objects of the episode rule: :class:`Episode` and :class:`Event`.

Shared by the tracker that makes them (:mod:`drivercam.episodes`), the log that
writes them (:mod:`drivercam.eventlog`) and the alert command that reacts to
them (:mod:`drivercam.alerts`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

__all__ = ["EVENT_KINDS", "Episode", "Event"]

EVENT_KINDS = ("episode_start", "alert", "episode_end")


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

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of every field."""
        d = dataclasses.asdict(self)
        d["alert_times_s"] = list(self.alert_times_s)
        return d


@dataclass(frozen=True)
class Event:
    """Something that happened at one frame: ``episode_start``, ``alert`` or ``episode_end``.

    Attributes:
        kind: one of :data:`EVENT_KINDS`.
        time_s, frame_index: the frame at which it was decided.
        confidence: the distraction mass at that frame.
        episode: the episode as it stands (final for ``episode_end``).
        alert_number: 1-based alert count within the episode (alerts only, else 0).
    """

    kind: str
    time_s: float
    frame_index: int
    confidence: float
    episode: Episode
    alert_number: int = 0

    @property
    def elapsed_s(self) -> float:
        """Seconds since the episode started."""
        return self.time_s - self.episode.start_time_s

    def to_dict(self) -> dict[str, Any]:
        """A flat JSON-ready dict (``type`` says the kind); ends carry the whole episode."""
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
        if self.kind == "episode_end":
            d["episode"] = self.episode.to_dict()
        return d
