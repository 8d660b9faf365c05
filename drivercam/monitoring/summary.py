"""The plain-text summary printed at the end of a run: episodes, the longest one, time per class."""

from __future__ import annotations

from collections.abc import Sequence

from drivercam.events import Episode, class_durations


def summarize(
    episodes: Sequence[Episode],
    *,
    labels: Sequence[str],
    timeline: Sequence[tuple[float, int]] | None = None,
    duration_s: float | None = None,
) -> str:
    """A short plain-text summary for stdout: episodes, longest one, time per class.

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
    if timeline:
        seconds = class_durations(timeline, len(labels), duration_s)
        total = float(seconds.sum()) or 1.0
        width = max(len(label) for label in labels)
        lines.append("time per class:")
        for label, secs in zip(labels, seconds):
            if secs > 0:
                lines.append(f"  {label:<{width}}  {secs:7.1f} s  {100 * secs / total:5.1f} %")
    return "\n".join(lines)
