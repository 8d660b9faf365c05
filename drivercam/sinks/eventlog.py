"""The episode log: :class:`EventLog` writes episodes and alerts as JSON Lines with a
JPEG snapshot per episode; :func:`read_event_log` reads such a file back."""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import cv2

from drivercam.errors import SinkError
from drivercam.events import Episode, Event
from drivercam.picture import Picture, as_bgr

__all__ = ["EventLog", "read_event_log"]


class EventLog:
    """JSON Lines log of episodes and alerts, with a JPEG snapshot per episode.

    Writes one ``{"type": "alert", ...}`` line per alert (as
    :meth:`Event.to_dict`) and one ``{"type": "episode", ...}`` line per finished
    episode (every :class:`Episode` field). Each line is flushed, so the file
    can be followed while a live stream runs. With ``snapshot_dir``, the frame
    the caller rendered at each episode's peak is saved there as
    ``episode_<id>.jpg``; only the current peak frame is held in memory. The
    ``snapshot`` field of a logged record holds its path relative to the log's
    folder; :attr:`episodes` holds the finished episodes with the path as written.

    Args:
        path: the JSONL file to create (overwritten).
        snapshot_dir: folder for snapshots (created), or None for none.
        jpeg_quality: 1-100.

    Example:
        >>> with EventLog("events.jsonl", snapshot_dir="snaps") as log:
        ...     events = tracker.update(t, probs, i)
        ...     log.record(events, frame_index=i, image=rendered,
        ...                peak_frame_index=tracker.peak_frame_index)
        ...     log.record(tracker.finish())
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        snapshot_dir: str | os.PathLike[str] | None = None,
        *,
        jpeg_quality: int = 90,
    ) -> None:
        if not 1 <= jpeg_quality <= 100:
            raise ValueError(f"jpeg_quality must be in 1..100, got {jpeg_quality!r}")
        self.path = Path(path)
        self.snapshot_dir = None if snapshot_dir is None else Path(snapshot_dir)
        self.jpeg_quality = int(jpeg_quality)
        self.episodes: list[Episode] = []
        self._peak: tuple[int, Picture] | None = None
        try:
            if self.snapshot_dir is not None:
                self.snapshot_dir.mkdir(parents=True, exist_ok=True)
            self._file: IO[str] | None = open(self.path, "w", encoding="utf-8")  # noqa: SIM115 - closed by close()
        except OSError as e:
            raise SinkError(
                f"could not create event log {str(self.path)!r}: {e.strerror}; check the folder exists and is writable"
            ) from e

    def record(
        self,
        events: Iterable[Event],
        *,
        frame_index: int | None = None,
        image: Picture | None = None,
        peak_frame_index: int | None = None,
    ) -> list[dict[str, Any]]:
        """Log one frame's events, and keep ``image`` if this frame is the peak so far.

        Args:
            events: what :meth:`EpisodeTracker.update` or ``finish`` returned.
            frame_index: this frame's index.
            image: the rendered frame (BGR, or I420), kept (copied) only when
                ``frame_index == peak_frame_index``.
            peak_frame_index: :attr:`EpisodeTracker.peak_frame_index` after the update.

        Returns:
            The records written.
        """
        if self._file is None:
            raise SinkError(f"event log {str(self.path)!r} is closed")
        if (
            image is not None
            and frame_index is not None
            and frame_index == peak_frame_index
            and self.snapshot_dir is not None
        ):
            self._peak = (frame_index, image.copy())
        written: list[dict[str, Any]] = []
        for event in events:
            if event.kind == "alert":
                rec = event.to_dict()
            elif event.kind == "episode_end":
                snapshot = self._save_snapshot(event.episode)
                episode = dataclasses.replace(event.episode, snapshot=snapshot)
                self.episodes.append(episode)
                rec = {"type": "episode", **episode.to_dict()}
                if snapshot is not None:  # relative, so the log and its folder can move together
                    rec["snapshot"] = os.path.relpath(snapshot, self.path.parent).replace(os.sep, "/")
            else:
                continue
            self._write(rec)
            written.append(rec)
        return written

    def _save_snapshot(self, episode: Episode) -> str | None:
        if self.snapshot_dir is None or self._peak is None or self._peak[0] != episode.peak_frame_index:
            return None
        image = as_bgr(self._peak[1])
        self._peak = None
        target = self.snapshot_dir / f"episode_{episode.id:04d}.jpg"
        ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, self.jpeg_quality])
        if not ok:
            raise SinkError(
                f"could not encode the snapshot of episode {episode.id} (image {image.dtype} {image.shape}); "
                "pass a BGR uint8 frame"
            )
        try:
            target.write_bytes(buf.tobytes())
        except OSError as e:
            raise SinkError(f"could not write snapshot {str(target)!r}: {e.strerror}") from e
        return str(target)

    def _write(self, rec: dict[str, Any]) -> None:
        assert self._file is not None
        try:
            self._file.write(json.dumps(rec, separators=(",", ":"), allow_nan=False) + "\n")
            self._file.flush()
        except (OSError, ValueError) as e:
            raise SinkError(f"could not write to event log {str(self.path)!r}: {e}") from e

    def close(self) -> None:
        """Close the file (idempotent)."""
        if self._file is not None:
            self._file.close()
            self._file = None
        self._peak = None

    def __enter__(self) -> EventLog:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def read_event_log(path: str | os.PathLike[str]) -> tuple[list[Episode], list[dict[str, Any]]]:
    """Read an :class:`EventLog` file back.

    Returns:
        (episodes with their activities, ``snapshot`` resolved against the log's
        folder; alert records as dicts).
    """
    episodes: list[Episode] = []
    alerts: list[dict[str, Any]] = []
    base = Path(path).parent
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            rec = json.loads(line)
            kind = rec.pop("type", None)
            if kind == "alert":
                alerts.append(rec)
            elif kind == "episode":
                if rec.get("snapshot"):
                    rec["snapshot"] = str(base / rec["snapshot"])
                episodes.append(Episode.from_dict(rec))
            else:
                raise ValueError(f"{path}:{n}: unknown record type {kind!r}; expected 'episode' or 'alert'")
    return episodes, alerts
