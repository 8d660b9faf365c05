"""The plain-text summary printed at the end of a run: episodes, the longest one, time per
class, time per activity inside the episodes."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from drivercam.events import Episode, activity_durations, class_durations


def summarize(
    episodes: Sequence[Episode],
    *,
    labels: Sequence[str],
    timeline: Sequence[tuple[float, int]] | None = None,
    duration_s: float | None = None,
) -> str:
    """A short plain-text summary for stdout: episodes, longest one, time per class and per activity.

    Time per class counts the smoothed class of every frame; time per activity
    counts the activities of the episodes (:class:`~drivercam.events.Activity`),
    so it adds up to the time distracted.

    Args:
        episodes: finished episodes.
        labels: class labels.
        timeline: per-frame ``(time_s, smoothed class index)``, for time per class.
        duration_s: length of the analysed video in seconds, if known.
    """
    lines: list[str] = []
    alerts = sum(e.alerts for e in episodes)
    distracted = sum(e.duration_s for e in episodes)
    head = (
        f"{len(episodes)} distraction episode{'s' if len(episodes) != 1 else ''}, "
        f"{alerts} alert{'s' if alerts != 1 else ''}"
    )
    if duration_s:
        head += f", {distracted:.1f} s distracted of {duration_s:.1f} s ({100 * distracted / duration_s:.0f} %)"
    lines.append(head)
    if episodes:
        longest = max(episodes, key=lambda e: e.duration_s)
        lines.append(
            f"longest episode: #{longest.id} {longest.label}, {longest.duration_s:.1f} s "
            f"({longest.start_time_s:.1f}-{longest.end_time_s:.1f} s), peak {longest.peak_confidence:.2f}"
        )
    width = max(len(label) for label in labels)
    activity_seconds = activity_durations(episodes, len(labels))
    if activity_seconds.any():
        counts = [0] * len(labels)
        for episode in episodes:
            for activity in episode.activities:
                counts[activity.class_index] += 1
        total_activity = float(activity_seconds.sum())
        lines.append("time per activity in episodes:")
        for c in np.argsort(-activity_seconds, kind="stable"):
            if activity_seconds[c] > 0:
                lines.append(
                    f"  {labels[c]:<{width}}  {activity_seconds[c]:7.1f} s  "
                    f"{100 * activity_seconds[c] / total_activity:5.1f} %  ({counts[c]}x)"
                )
    seconds = class_durations(timeline or (), len(labels), duration_s)
    if seconds.any():
        total = float(seconds.sum())
        lines.append("time per class:")
        for label, secs in zip(labels, seconds):
            if secs > 0:
                lines.append(f"  {label:<{width}}  {secs:7.1f} s  {100 * secs / total:5.1f} %")
    return "\n".join(lines)
