"""A video's frame times without decoding, and any span of its frames decoded from the keyframe before it.

Batch processing cuts long videos into spans that workers decode side by side.
:func:`probe_video` demuxes the file once (no decoding, a few milliseconds a
minute of video) and lists the presentation time of every frame, so a frame's
index follows from its pts alone. :func:`read_span` seeks to the keyframe at or
before a span, decodes from there and drops the frames before it, so a span's
frames are exactly the frames a decode from the start gives at those indices.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction

import av
import numpy as np

from drivercam.errors import SourceError, reason
from drivercam.picture import I420
from drivercam.types import Frame

__all__ = ["SpanFrame", "VideoProbe", "probe_video", "read_span"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class VideoProbe:
    """What a demux pass over a video tells: its frames' presentation times.

    Attributes:
        path: the file or URL, as given to FFmpeg.
        fps: the stream's nominal frame rate.
        pts: (N,) int64 presentation times of every frame, ascending, in ``time_base`` units.
        time_base: the video stream's time base.
        origin_s: the container's start time in seconds (frame times count from it,
            as :class:`~drivercam.sources.video.VideoFileSource` counts them).
        offset: the index of ``pts[0]`` in the whole video (0 unless this is a :meth:`part`).
    """

    path: str
    fps: float
    pts: np.ndarray
    time_base: Fraction
    origin_s: float
    offset: int = 0

    def __post_init__(self) -> None:
        if self.pts.ndim != 1 or self.pts.dtype != np.int64:
            raise ValueError(f"pts must be a 1-D int64 array, got {self.pts.dtype} {self.pts.shape}")
        if len(self.pts) > 1 and not bool(np.all(np.diff(self.pts) > 0)):
            raise ValueError("pts must be strictly increasing; sort them and drop duplicates")

    @property
    def frame_count(self) -> int:
        """Frames listed (of the whole video, or of this part)."""
        return len(self.pts)

    @property
    def stop(self) -> int:
        """One past the index of the last frame listed."""
        return self.offset + len(self.pts)

    def part(self, first: int, stop: int) -> VideoProbe:
        """Only frames ``first .. stop - 1`` (whole-video indices): what a worker needs for a span."""
        if not self.offset <= first < stop <= self.stop:
            raise ValueError(f"part must lie in frames {self.offset}..{self.stop - 1}, got {first}..{stop - 1}")
        pts = self.pts[first - self.offset : stop - self.offset].copy()
        return VideoProbe(self.path, self.fps, pts, self.time_base, self.origin_s, first)

    def times_s(self) -> np.ndarray:
        """(N,) float64 times of the frames listed, in seconds, computed as the file source computes them."""
        tb = self.time_base
        return np.array([float(int(p) * tb) - self.origin_s for p in self.pts], dtype=np.float64)


@dataclass(frozen=True)
class SpanFrame:
    """One decoded frame of a span: its index in the whole video, its time, and the image on demand."""

    index: int
    time_s: float
    _frame: av.VideoFrame

    def image(self) -> np.ndarray:
        """The frame as BGR uint8 (converted only when asked: skipped frames cost no conversion)."""
        return self._frame.to_ndarray(format="bgr24")

    def frame(self) -> Frame:
        """The frame as :class:`~drivercam.sources.video.VideoFileSource` delivers it (I420 kept when it can be)."""
        from drivercam.sources.video import keeps_yuv

        if keeps_yuv(self._frame):
            return Frame(self.index, None, self.time_s, yuv=I420(self._frame.to_ndarray()))
        return Frame(self.index, self.image(), self.time_s)


def _open(path: str) -> av.container.InputContainer:
    try:
        return av.open(path, "r")
    except av.FFmpegError as exc:
        raise SourceError(
            f"could not open {path!r} as a video ({reason(exc)}); is it a video file, and complete?"
        ) from exc


def probe_video(path: str) -> VideoProbe:
    """List the presentation time of every frame of ``path`` by demuxing it (no decoding).

    Raises:
        SourceError: the file cannot be opened, has no video stream, cannot be
            demuxed to the end, or its packets lack unique timestamps.
    """
    from drivercam.sources.video import _stream_fps

    container = _open(path)
    try:
        if not container.streams.video:
            raise SourceError(f"{path!r} has no video stream; give a video file (e.g. .mp4, .mkv, .avi)")
        stream = container.streams.video[0]
        pts: list[int] = []
        seen = 0
        try:
            for packet in container.demux(stream):
                if packet.size == 0:  # the demuxer's end-of-stream marker
                    continue
                seen += 1
                if packet.is_discard:  # cut by an edit list: the decoder drops it, and so does a file source
                    continue
                if packet.pts is None:
                    raise SourceError(
                        f"{path!r} has video packets without timestamps; remux it (ffmpeg -i IN -c copy OUT.mp4)"
                    )
                pts.append(int(packet.pts))
        except (av.FFmpegError, OSError, EOFError) as exc:
            raise SourceError(f"could not read {path!r} to the end ({reason(exc)}); the file is damaged") from exc
        if not pts:
            raise SourceError(f"{path!r} holds no video frames")
        if stream.frames and seen < stream.frames:
            raise SourceError(
                f"{path!r} holds {seen} of the {stream.frames} frames its index lists; the file is truncated"
            )
        ordered = np.array(sorted(pts), dtype=np.int64)
        if len(ordered) > 1 and not bool(np.all(np.diff(ordered) > 0)):
            raise SourceError(f"{path!r} has video frames with the same timestamp; remux it (ffmpeg -i IN OUT.mp4)")
        start = container.start_time
        assert stream.time_base is not None
        return VideoProbe(
            path=path,
            fps=_stream_fps(stream),
            pts=ordered,
            time_base=Fraction(stream.time_base),
            origin_s=float(start) / av.time_base if start is not None else 0.0,
        )
    finally:
        container.close()


def read_span(
    probe: VideoProbe,
    first: int,
    stop: int,
    *,
    threads: bool = True,
) -> Iterator[SpanFrame]:
    """Decode frames ``first .. stop - 1`` (whole-video indices) of a probed video, in order.

    A span that does not start at frame 0 seeks to the keyframe at or before
    ``first`` and drops the frames decoded before it. Every index in the span
    is delivered exactly once, or an error says which frame was missing.

    Raises:
        ValueError: ``first``/``stop`` outside ``0 .. frame_count``.
        SourceError: a packet fails to decode, or a frame of the span never comes.
    """
    lo, hi = probe.offset, probe.stop
    if not lo <= first < stop <= hi:
        raise ValueError(f"span must satisfy {lo} <= first < stop <= {hi}, got first={first!r} stop={stop!r}")
    pts = probe.pts[first - lo : stop - lo]
    index_of = {int(p): i for i, p in enumerate(pts, start=first)}
    tb, origin = probe.time_base, probe.origin_s
    container = _open(probe.path)
    try:
        stream = container.streams.video[0]
        if threads:
            stream.thread_type = "AUTO"
        if first > 0:
            container.seek(int(pts[0]), stream=stream, backward=True, any_frame=False)
        expected = first
        first_pts, last_pts = int(pts[0]), int(pts[-1])
        for packet in container.demux(stream):
            try:
                frames = packet.decode()
            except (av.FFmpegError, OSError, EOFError) as exc:
                raise SourceError(
                    f"could not decode frame {expected} of {probe.path!r} ({reason(exc)}); the file is damaged"
                ) from exc
            for frame in frames:
                if frame.pts is None or frame.pts < first_pts:
                    continue
                index = index_of.get(int(frame.pts))
                if index != expected:
                    raise SourceError(
                        f"frame {expected} of {probe.path!r} did not decode (got pts {frame.pts} next); "
                        "the file is damaged"
                    )
                yield SpanFrame(index, float(int(frame.pts) * tb) - origin, frame)
                expected += 1
                if frame.pts >= last_pts:
                    return
        if expected < stop:
            raise SourceError(f"decoded frames {first}..{expected - 1} of {probe.path!r}, expected up to {stop - 1}")
    except (av.FFmpegError, OSError, EOFError) as exc:
        raise SourceError(f"could not read {probe.path!r} ({reason(exc)}); the file is damaged") from exc
    finally:
        container.close()
