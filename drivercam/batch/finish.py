"""One video's chunks stitched together, smoothed and tracked once, and its logs written under final names.

Workers return raw per-frame probabilities; everything that depends on
history (smoothing, episode onsets and releases, alerts) runs here over the
whole video in one pass with :class:`~drivercam.monitoring.session.RunSession`,
the same object ``drivercam annotate`` uses. So a video cut into chunks has
exactly the episodes of a one-process run, whatever the chunk boundaries.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from drivercam.batch.inputs import VideoInput
from drivercam.batch.settings import EpisodeSettings
from drivercam.batch.tasks import ChunkResult
from drivercam.events import class_durations
from drivercam.sinks.jsonl import PredictionLog, prediction_record
from drivercam.sources.span import VideoProbe
from drivercam.types import Frame, Prediction, Result

__all__ = [
    "ANNOTATED",
    "EVENTS",
    "PART",
    "PREDICTIONS",
    "failed_row",
    "finish_video",
    "part_name",
    "stitch",
    "summary_columns",
]

PREDICTIONS = "predictions.jsonl"
EVENTS = "events.jsonl"
ANNOTATED = "annotated.mp4"
PART = ".part"
"""Suffix of a file still being written; renamed away when complete."""


def part_name(name: str) -> str:
    """``events.jsonl`` -> ``events.part.jsonl`` (the ending kept, so the MP4 writer knows the format)."""
    stem, dot, ext = name.rpartition(".")
    return f"{stem}{PART}{dot}{ext}"


def summary_columns(class_ids: Sequence[str]) -> list[str]:
    """The columns of ``summary.csv``, in order."""
    return [
        "video",
        "path",
        "status",
        "error",
        "frames",
        "duration_s",
        "distracted_s",
        "distracted_share",
        "episodes",
        "alerts",
        "episodes_per_hour",
        *(f"seconds_{cid}" for cid in class_ids),
    ]


def failed_row(video: VideoInput, error: str, class_ids: Sequence[str]) -> dict[str, Any]:
    """The summary row of a video that could not be processed."""
    row: dict[str, Any] = dict.fromkeys(summary_columns(class_ids))
    row.update(video=video.key, path=video.spec, status="failed", error=error)
    return row


def stitch(results: Sequence[ChunkResult], frame_count: int) -> tuple[np.ndarray, np.ndarray]:
    """The chunks' probabilities and inference times, in frame order.

    Raises:
        ValueError: the chunks leave a frame out or cover one twice.
    """
    ordered = sorted(results, key=lambda r: r.chunk.first)
    expected = 0
    for r in ordered:
        if r.chunk.first != expected or len(r.probs) != r.chunk.stop - r.chunk.first:
            raise ValueError(
                f"chunks of {r.key} do not tile its frames: chunk {r.chunk.index} starts at frame "
                f"{r.chunk.first} with {len(r.probs)} rows, expected frame {expected}"
            )
        expected = r.chunk.stop
    if expected != frame_count:
        raise ValueError(f"chunks cover {expected} of {frame_count} frames")
    probs = np.concatenate([r.probs for r in ordered])
    millis = np.concatenate([r.inference_ms for r in ordered])
    return probs, millis


def finish_video(
    folder: Path,
    video: VideoInput,
    probe: VideoProbe,
    results: Sequence[ChunkResult],
    *,
    labels: tuple[str, ...],
    class_ids: tuple[str, ...],
    episodes: EpisodeSettings,
    rendered: bool = False,
) -> dict[str, Any]:
    """Write ``predictions.jsonl`` and ``events.jsonl`` of one video; return its summary row.

    Both are written under ``.part`` names and renamed when complete. With
    ``rendered``, a worker already wrote ``events.part.jsonl`` (with snapshot
    paths) and maybe ``annotated.part.mp4`` beside it; they are renamed too.
    """
    probs, millis = stitch(results, probe.frame_count)
    times = probe.times_s()
    n = len(times)
    folder.mkdir(parents=True, exist_ok=True)
    events_part = folder / part_name(EVENTS)
    predictions_part = folder / part_name(PREDICTIONS)
    session = episodes.session(labels, events_path=None if rendered else events_part, draw_alerts=False)
    blank = np.zeros((1, 1, 3), np.uint8)
    no_cams = np.zeros((len(labels), 1, 1), np.float32)
    with session, PredictionLog(predictions_part) as log:
        for i in range(n):
            frame = Frame(i, blank, float(times[i]), video.spec)
            result = Result(frame, Prediction(probs[i], no_cams, labels), float(millis[i]))
            log.write(prediction_record(result, class_ids, video.spec))
            session.observe(result)
            session.annotate(blank, i)
        session.finish()
    # The event log first: a video counts as done only when both final names exist and the manifest says so.
    if rendered and (folder / part_name(ANNOTATED)).exists():
        os.replace(folder / part_name(ANNOTATED), folder / ANNOTATED)
    os.replace(events_part, folder / EVENTS)
    os.replace(predictions_part, folder / PREDICTIONS)

    step = (float(times[-1]) - float(times[0])) / (n - 1) if n > 1 else 0.0
    duration = float(times[-1]) + max(step, 0.0)
    found = session.episodes
    distracted = sum(e.duration_s for e in found)
    seconds = class_durations(session.timeline, len(labels), duration)
    row: dict[str, Any] = {
        "video": video.key,
        "path": video.spec,
        "status": "ok",
        "error": "",
        "frames": n,
        "duration_s": round(duration, 6),
        "distracted_s": round(distracted, 6),
        "distracted_share": round(distracted / duration, 6) if duration > 0 else 0.0,
        "episodes": len(found),
        "alerts": sum(e.alerts for e in found),
        "episodes_per_hour": round(3600.0 * len(found) / duration, 6) if duration > 0 else 0.0,
    }
    for cid, secs in zip(class_ids, seconds):
        row[f"seconds_{cid}"] = round(float(secs), 6)
    return row
