"""Copy an input video's audio track into an output, in time order, on a timeline that goes forward."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

from drivercam.errors import SinkError, reason
from drivercam.sources.timeline import DEFAULT_MAX_GAP_S, TimelineRepair

logger = logging.getLogger(__name__)

_DEMUX_RETRIES = 16
"""Demuxer errors in a row after which a damaged input's audio is read no further."""


class AudioCopy:
    """Remux packets of an input's audio stream into an output, in time order.

    Packet times are repaired by the same rule as the video's
    (:class:`~drivercam.sources.timeline.TimelineRepair`), so a damaged or
    joined input's audio goes forward, and is rebased at the same places as
    its video. A packet the muxer still refuses is dropped (logged once).
    """

    def __init__(self, path: Path, source: Any, in_stream: Any, out_stream: Any) -> None:
        self.path = path
        self._source = source
        self._in_stream = in_stream
        self._out_stream = out_stream
        start = source.start_time
        # Same origin as VideoFileSource.time_s: the container's start time.
        self._origin_s = float(Fraction(start, av.time_base)) if start else 0.0
        self._packets: Iterator[Any] | None = source.demux(in_stream)
        self._timeline: TimelineRepair | None = None
        self._ahead: Any = None  # one packet of look-ahead, for the timeline
        self._pending: tuple[Any, float] | None = None  # taken, not yet due
        self._last_pts: int | None = None
        self.video_start_s: float | None = None  # the first video frame's time, set by the sink
        self.copied = 0
        self.dropped = 0

    @classmethod
    def open(cls, path: Path, output: Any) -> AudioCopy | None:
        try:
            source = av.open(str(path), "r")
        except (av.FFmpegError, OSError) as exc:
            raise SinkError(f"cannot read audio from {str(path)!r}: {reason(exc)}; check the input path") from exc
        if not source.streams.audio:
            logger.info("%s has no audio track; the output will be silent", path)
            source.close()
            return None
        in_stream = source.streams.audio[0]
        if in_stream.codec_context is None:
            logger.warning("the audio track of %s is damaged (no codec); the output will be silent", path)
            source.close()
            return None
        try:
            out_stream = output.add_stream_from_template(in_stream)
        except (av.FFmpegError, ValueError) as exc:
            source.close()
            logger.warning(
                "cannot copy the %s audio of %s into MP4 (%s); the output will be silent",
                in_stream.codec_context.name,
                path,
                exc,
            )
            return None
        return cls(path, source, in_stream, out_stream)

    def _next_packet(self) -> Any:
        """The next audio packet with a time and data, or None at the end.

        After an error from the demuxer of a damaged input, reading resumes at
        the next packet, as the video's does; only ``_DEMUX_RETRIES`` errors in
        a row end the audio.
        """
        failures = 0
        while self._packets is not None:
            try:
                packet = next(self._packets)
            except StopIteration:
                self._packets = None
                return None
            except (av.FFmpegError, OSError, IndexError) as exc:
                failures += 1
                if isinstance(exc, EOFError) or failures > _DEMUX_RETRIES:
                    logger.warning("audio of %s ends early: %s", self.path, reason(exc))
                    self._packets = None
                    return None
                self._packets = self._source.demux(self._in_stream)
                continue
            failures = 0
            if packet.pts is not None and packet.size > 0:  # not a demuxer flush packet
                return packet
        return None

    def _seconds(self, packet: Any) -> float:
        return float(packet.pts * self._in_stream.time_base) - self._origin_s

    def _take(self) -> tuple[Any, float] | None:
        """The next packet and its repaired time, or None at the end."""
        packet = self._ahead if self._ahead is not None else self._next_packet()
        if packet is None:
            return None
        self._ahead = self._next_packet()
        if self._timeline is None:
            tb = self._in_stream.time_base
            step = float(packet.duration * tb) if packet.duration else 0.02
            gap = max(DEFAULT_MAX_GAP_S, step)
            offset = 0.0
            start = self._seconds(packet)
            if self.video_start_s is not None and abs(start - self.video_start_s) > gap:
                # Far from the first video frame: that frame's (or this packet's) time
                # was damaged and the video's timeline rebased; start the sound with the picture.
                logger.warning(
                    "audio of %s starts %.3f s away from its video; starting it with the video",
                    self.path,
                    start - self.video_start_s,
                )
                offset = self.video_start_s - start
            self._timeline = TimelineRepair(
                interval_s=step, max_gap_s=gap, offset_s=offset, what=f"audio of {self.path}"
            )
        following = None if self._ahead is None else self._seconds(self._ahead)
        return packet, self._timeline.place(self._seconds(packet), following)

    def copy_until(self, output: Any, end_s: float) -> None:
        """Mux every audio packet that starts before ``end_s`` and has not been copied yet."""
        tb = self._in_stream.time_base
        while True:
            if self._pending is None:
                self._pending = self._take()
                if self._pending is None:
                    return
            packet, time_s = self._pending
            if time_s >= end_s:
                return
            self._pending = None
            pts = round(Fraction(time_s) / tb)
            if self._last_pts is not None and pts <= self._last_pts:
                pts = self._last_pts + 1
            packet.pts = pts
            packet.dts = pts
            packet.stream = self._out_stream
            try:
                output.mux(packet)
            except av.FFmpegError as exc:
                if not self.dropped:
                    logger.warning("dropping audio packets of %s the muxer refuses: %s", self.path, reason(exc))
                self.dropped += 1
                continue
            self._last_pts = pts
            self.copied += 1

    def close(self) -> None:
        self._packets = None
        self._pending = None
        self._ahead = None
        self._source.close()


__all__ = ["AudioCopy"]
