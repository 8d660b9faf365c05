"""Video files decoded with PyAV, frame by frame."""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np

from drivercam.errors import SourceError, reason
from drivercam.picture import I420
from drivercam.sources._common import _SourceBase
from drivercam.sources.timeline import DEFAULT_MAX_GAP_S, TimelineCounts, TimelineRepair
from drivercam.types import Frame

logger = logging.getLogger(__name__)


class VideoFileSource(_SourceBase):
    """Decode a video file with PyAV, frame by frame.

    ``time_s`` comes from each frame's pts, measured from the container's start
    time (the same origin :class:`drivercam.sinks.Mp4Sink` uses for the audio it
    copies, so sound stays in sync), repaired by
    :class:`~drivercam.sources.timeline.TimelineRepair` so that it strictly
    increases: a damaged, missing, repeated or wrapped timestamp, or recordings
    joined end to end, never make time go back (:attr:`timeline` counts what was
    repaired). A truncated or corrupt file yields every frame that decodes and
    then ends; the problem is recorded in :attr:`error` instead of raised.

    Args:
        path: the video file.
        threads: let FFmpeg decode with several threads (frame/slice threading).
        max_gap_s: largest forward leap between two frames' timestamps kept
            as it is; a longer one is rebased (see :mod:`drivercam.sources.timeline`).
        keep_yuv: deliver frames of 8-bit 4:2:0 video in BT.601 colours as the
            decoder's :class:`~drivercam.picture.I420` picture (``Frame.yuv``),
            their BGR ``image`` converted only when something asks for it; the
            renderer and the MP4 writer then work on the planes directly. False:
            every frame is converted to BGR as it is read.

    Raises:
        SourceError: at construction, when the file is missing, is not a video,
            or has no video stream.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        threads: bool = True,
        max_gap_s: float = DEFAULT_MAX_GAP_S,
        keep_yuv: bool = True,
    ) -> None:
        self.path = Path(path)
        self._keep_yuv = bool(keep_yuv)
        if not self.path.exists():
            raise SourceError(f"video file not found: {str(self.path)!r}; check the path")
        if self.path.is_dir():
            raise SourceError(f"{str(self.path)!r} is a folder, not a video file; pass it as an image folder")
        try:
            self._container = av.open(str(self.path), "r")
        except av.FFmpegError as exc:
            raise SourceError(
                f"could not open {str(self.path)!r} as a video ({reason(exc)}); "
                "is it a video file, and complete? (an MP4 cut off while recording has no index)"
            ) from exc
        if not self._container.streams.video:
            self._container.close()
            raise SourceError(f"{str(self.path)!r} has no video stream; give a video file (e.g. .mp4, .mkv, .avi)")
        self._stream = self._container.streams.video[0]
        ctx = self._stream.codec_context
        if ctx is None or not ctx.width or not ctx.height:
            self._container.close()
            raise SourceError(
                f"{str(self.path)!r} has no decodable video stream (its codec or frame size is unknown); "
                "the file is damaged or uses a codec this FFmpeg build lacks"
            )
        if threads:
            self._stream.thread_type = "AUTO"
        self.has_audio: bool = any(s.codec_context is not None for s in self._container.streams.audio)
        self._width = int(ctx.width)
        self._height = int(ctx.height)
        self._fps = _stream_fps(self._stream)
        self._frame_count, self._count_exact = _stream_frame_count(self._stream, self._container, self._fps)
        start = self._container.start_time
        self._origin_s = float(start) / av.time_base if start is not None else 0.0
        self._timeline = TimelineRepair(
            interval_s=1.0 / self._fps, max_gap_s=max(max_gap_s, 1.0 / self._fps), what=str(self.path)
        )
        self._frames: Iterator[av.VideoFrame] | None = self._decode()
        self._ended = False
        self._bad_packets = 0
        self._last_decode_error: BaseException | None = None
        # One decoded frame of look-ahead, for the timeline; the first also tells
        # the rotation (a phone's display matrix), and so the upright frame size.
        self._ahead: av.VideoFrame | None = self._next_decoded()
        self._turns = 0 if self._ahead is None else _quarter_turns(self._ahead)
        if self._turns % 2:
            self._width, self._height = self._height, self._width
        self._index = 0
        self._lock = threading.Lock()
        self._closed = False
        self._error: str | None = None

    @property
    def width(self) -> int:
        return self._width

    @property
    def height(self) -> int:
        return self._height

    @property
    def audio_path(self) -> str | None:
        """The file itself when it has an audio track."""
        return str(self.path) if self.has_audio else None

    @property
    def error(self) -> str | None:
        """What went wrong when a damaged file was read only in part; None otherwise."""
        return self._error

    @property
    def is_live(self) -> bool:
        return False

    @property
    def fps(self) -> float:
        return self._fps

    @property
    def frame_count(self) -> int | None:
        """Frames the container says it holds (estimated from duration if it does not say)."""
        return self._frame_count

    @property
    def timeline(self) -> TimelineCounts:
        """Frames whose timestamps were repaired so far (see :mod:`drivercam.sources.timeline`)."""
        return self._timeline.counts

    @property
    def frames_read(self) -> int:
        """Frames delivered so far."""
        return self._index

    def read(self) -> Frame | None:
        """Return the next frame, or None at the end (or after an unrecoverable decode error)."""
        with self._lock:
            if self._closed:
                return None
            current = self._ahead if self._ahead is not None else self._next_decoded()
            self._ahead = None
            if current is None:
                if not self._ended:
                    self._ended = True
                    self._finish()
                return None
            self._ahead = self._next_decoded()
            following = None if self._ahead is None else self._raw_time(self._ahead)
            time_s = self._timeline.place(self._raw_time(current), following)
            yuv: I420 | None = None
            image: np.ndarray | None = None
            if self._keep_yuv and not self._turns and keeps_yuv(current):
                # The decoder's own planes, copied (the decoder reuses its buffers):
                # drawn on and encoded as they are, BGR only where needed.
                yuv = I420(current.to_ndarray())
            else:
                image = current.to_ndarray(format="bgr24")
                if self._turns:
                    image = cv2.rotate(image, _ROTATIONS[self._turns])
            result = Frame(
                index=self._index,
                image=image,
                time_s=time_s,
                source=str(self.path),
                captured_at=time.monotonic(),
                yuv=yuv,
            )
            self._index += 1
            return result

    def _next_decoded(self) -> av.VideoFrame | None:
        if self._frames is None:
            return None
        frame = next(self._frames, None)
        if frame is None:
            self._frames = None
        return frame

    def _raw_time(self, frame: av.VideoFrame) -> float | None:
        """The frame's pts in seconds from the container's start; None when it has none."""
        if frame.pts is None or frame.time_base is None:
            return None
        return float(frame.pts * frame.time_base) - self._origin_s

    def _decode(self) -> Iterator[av.VideoFrame]:
        """Demux and decode, skipping packets the decoder rejects.

        A damaged packet costs only its own frames. After an error from the
        demuxer (a broken container structure, a stream that appears out of
        nowhere in a damaged MPEG-TS) reading resumes at the next packet; only
        ``_DEMUX_RETRIES`` errors in a row, or the end of the file, end the
        stream. Either kind of error is recorded.
        """
        packets = self._container.demux(self._stream)
        failures = 0
        while True:
            try:
                packet = next(packets)
            except StopIteration:
                return
            except EOFError:  # av.EOFError too: the end, reached through damage
                return
            except IndexError:
                # A packet of a stream the container never announced (a damaged
                # MPEG-TS table): not ours, and not damage to ours.
                failures += 1
                if failures > _DEMUX_RETRIES:
                    return
                packets = self._container.demux(self._stream)
                continue
            except (av.FFmpegError, OSError) as exc:
                self._last_decode_error = exc
                failures += 1
                if failures > _DEMUX_RETRIES:
                    return
                self._bad_packets += 1
                packets = self._container.demux(self._stream)
                continue
            failures = 0
            try:
                frames = packet.decode()
            except EOFError:  # the decoder was drained already: nothing more comes
                return
            except (av.FFmpegError, OSError) as exc:
                self._bad_packets += 1
                self._last_decode_error = exc
                continue
            for frame in frames:
                if isinstance(frame, av.VideoFrame):
                    yield frame

    def _finish(self) -> None:
        """Record why the stream ended early or damaged, if it did."""
        expected = self._frame_count
        about = f"~{expected}" if expected is not None else "?"
        short = False
        if expected is not None and (self._count_exact or not self._timeline.counts.total):
            # An estimated count (from duration) may be off by a frame or two, and
            # by any amount when the timestamps it comes from were broken.
            slack = 0 if self._count_exact else max(2, expected // 50)
            short = self._index < expected - slack
        if self._bad_packets:
            self._error = (
                f"decoded {self._index} of {about} frames of {str(self.path)!r}; "
                f"{self._bad_packets} damaged packet(s) skipped "
                f"({reason(self._last_decode_error or ValueError('unknown'))})"
            )
        elif self._last_decode_error is not None:
            self._error = (
                f"decoded {self._index} of {about} frames of {str(self.path)!r}; reading stopped: "
                f"{reason(self._last_decode_error)}"
            )
        elif short:
            self._error = (
                f"decoded {self._index} of {about} frames of {str(self.path)!r}; the file is truncated or damaged"
            )
        if self._error is not None:
            logger.warning("%s", self._error)

    def close(self) -> None:
        """Close the file. Safe to call more than once."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._frames = None
            self._ahead = None
            self._container.close()

    def __repr__(self) -> str:
        return (
            f"VideoFileSource({str(self.path)!r}, {self.width}x{self.height}, "
            f"fps={self._fps:.3f}, frames={self._frame_count})"
        )


_DEMUX_RETRIES = 16
"""Demuxer errors in a row after which a damaged file is read no further."""

# Quarter turns counter-clockwise -> the OpenCV rotation that shows the frame upright.
_ROTATIONS = {1: cv2.ROTATE_90_COUNTERCLOCKWISE, 2: cv2.ROTATE_180, 3: cv2.ROTATE_90_CLOCKWISE}


# FFmpeg's colorspace and range codes for which the decoder's planes are the
# BT.601 limited-range YUV that I420 pictures assume (untagged video is converted
# as BT.601 by FFmpeg too).
_BT601_SPACES = (2, 5, 6)  # unspecified, BT470BG, SMPTE170M
_LIMITED_RANGES = (0, 1)  # unspecified, MPEG


def keeps_yuv(frame: av.VideoFrame) -> bool:
    """Whether ``frame`` can travel as an :class:`~drivercam.picture.I420` picture with the same colours.

    8-bit 4:2:0 (``yuv420p``) of even size, BT.601 (or untagged) limited range:
    its BGR conversion is then the same whether made now or later from the copy.
    """
    return (
        frame.format.name == "yuv420p"
        and frame.width % 2 == 0
        and frame.height % 2 == 0
        and int(frame.colorspace) in _BT601_SPACES
        and int(frame.color_range) in _LIMITED_RANGES
    )


def _quarter_turns(frame: av.VideoFrame) -> int:
    """Counter-clockwise quarter turns that show ``frame`` upright, from its display matrix (0 without one)."""
    try:
        degrees = float(frame.rotation)
    except (AttributeError, TypeError, ValueError):  # no display matrix, or one PyAV cannot read
        return 0
    if not math.isfinite(degrees):
        return 0
    turns = round(degrees / 90) % 4
    if abs(degrees - 90 * round(degrees / 90)) > 1:
        logger.warning("display rotation of %.1f degrees is not a quarter turn; shown unrotated", degrees)
        return 0
    return turns


def _stream_fps(stream: Any) -> float:
    for rate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if rate is not None and float(rate) > 0:
            return float(rate)
    logger.warning("video stream reports no frame rate; assuming 30 fps")
    return 30.0


def _stream_frame_count(stream: Any, container: Any, fps: float) -> tuple[int | None, bool]:
    """Return (frame count, whether it is exact) for a video stream."""
    if stream.frames and stream.frames > 0:
        return int(stream.frames), True
    if stream.duration is not None and stream.time_base is not None:
        return max(1, round(float(stream.duration * stream.time_base) * fps)), False
    if container.duration is not None and container.duration > 0:
        return max(1, round(container.duration / av.time_base * fps)), False
    return None, False
