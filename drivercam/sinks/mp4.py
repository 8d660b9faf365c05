"""An H.264 MP4 writer that keeps the input's timing and copies its audio."""

from __future__ import annotations

import logging
import math
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from drivercam.errors import SinkError, reason
from drivercam.picture import I420, Picture, as_bgr
from drivercam.sinks._common import _SinkBase
from drivercam.sinks.audio import AudioCopy

logger = logging.getLogger(__name__)


# Each fragment starts at a keyframe and reaches the disk at once
# (flush_packets), not when FFmpeg's write buffer fills. delay_moov writes the
# header once the first fragment is known, with the edit list that starts
# B-frame video and primed audio at their true times (without it FFmpeg shifts
# them later).
_FRAGMENTED_OPTIONS = {"movflags": "+frag_keyframe+empty_moov+delay_moov+default_base_moof", "flush_packets": "1"}


class Mp4Sink(_SinkBase):
    """Write BGR frames (or I420 pictures) to an H.264 (yuv420p) MP4 that browsers play.

    Each :meth:`write` produces exactly one output frame whose pts comes from
    the input frame's ``time_s``, so the timing of the input (including
    variable frame rates and dropped live frames) is preserved. Odd sizes are
    padded to even by repeating the last row/column (yuv420p needs even sizes);
    frames of a different size than declared are letterboxed into it.

    With ``audio_from``, the first audio stream of that input video is copied
    (remuxed, not re-encoded) into the output, interleaved with the video up to
    the end of the last frame written, so a run stopped early keeps its sound.
    Audio times are measured from the input container's start, the same origin
    :class:`drivercam.sources.VideoFileSource` uses for ``time_s``.

    Args:
        path: the output file (.mp4 recommended; the suffix picks the container).
        width: frame width of the images to be written.
        height: frame height of the images to be written.
        fps: nominal frame rate (used for the last frame's duration and rate control).
        time_base: pts unit in seconds (default 1/90000, exact for 15, 25, 30 and 29.97 fps).
        audio_from: an input video whose audio track to copy; ignored (with a log
            message) if it has none.
        crf: libx264 constant rate factor (0-51, lower is better quality).
        preset: libx264 speed preset. ``superfast`` costs ~40 % less CPU per
            frame than ``veryfast`` at the same PSNR, for ~7 % larger files;
            on 2 cores the encoder competes with inference for CPU.
        codec: FFmpeg encoder name.
        fragmented: write a fragmented MP4 flushed to disk fragment by
            fragment, with a keyframe (and a new fragment) every
            ``keyframe_interval_s``: a process killed outright, or a power cut,
            still leaves a file that plays up to its last complete fragment.
            Without it the index is written on close (``+faststart``), so such
            a file is unreadable; players that cannot seek in fragmented MP4
            are rare.
        keyframe_interval_s: seconds between keyframes of a fragmented file.

    Raises:
        SinkError: at construction when the path cannot be written, the encoder
            is missing, or ``audio_from`` cannot be opened.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        width: int,
        height: int,
        fps: float,
        time_base: Fraction | None = None,
        audio_from: str | Path | None = None,
        crf: int = 23,
        preset: str = "superfast",
        codec: str = "libx264",
        fragmented: bool = False,
        keyframe_interval_s: float = 2.0,
    ) -> None:
        if not isinstance(width, (int, np.integer)) or not isinstance(height, (int, np.integer)):
            raise TypeError(f"width and height must be ints, got {width!r} and {height!r}")
        if width <= 0 or height <= 0:
            raise ValueError(f"width and height must be > 0, got {width}x{height}")
        if not fps > 0 or not math.isfinite(fps):
            raise ValueError(f"fps must be a positive number, got {fps!r}")
        if not 0 <= crf <= 51:
            raise ValueError(f"crf must be in [0, 51], got {crf!r}")
        if not keyframe_interval_s > 0:
            raise ValueError(f"keyframe_interval_s must be > 0, got {keyframe_interval_s!r}")
        self.fragmented = bool(fragmented)
        self._keyframe_interval_s = float(keyframe_interval_s)
        try:
            encoder = av.Codec(codec, "w")
        except ValueError as exc:  # av.codec.codec.UnknownCodecError
            raise SinkError(
                f"this PyAV build has no {codec!r} encoder; install the PyAV wheel "
                "(pip install av), which includes libx264"
            ) from exc
        if encoder.type != "video":
            raise SinkError(f"{codec!r} is not a video encoder; use codec='libx264'")
        self.path = Path(path)
        self.width = int(width)
        self.height = int(height)
        self.fps = float(fps)
        self.time_base = Fraction(time_base) if time_base is not None else Fraction(1, 90000)
        if self.time_base <= 0:
            raise ValueError(f"time_base must be > 0, got {time_base!r}")
        self._out_w = self.width + (self.width & 1)
        self._out_h = self.height + (self.height & 1)
        self._frame_ticks = max(1, round(1 / (self.fps * self.time_base)))
        self._last_pts: int | None = None
        self._closed = False
        self.frames_written = 0
        self._warned_size = False

        self._audio: AudioCopy | None = None
        self._settings = (codec, crf, preset)
        audio_path = Path(audio_from) if audio_from is not None else None
        try:
            self._open(audio_path)
        except (av.FFmpegError, OSError, ValueError) as exc:
            copying_audio = self._audio is not None
            self._abort()
            if not copying_audio:
                raise SinkError(
                    f"cannot write video {str(self.path)!r}: {reason(exc)}; "
                    "check that the folder exists and is writable"
                ) from exc
            # The container may refuse that audio codec: keep the video at least.
            logger.warning(
                "cannot copy the audio of %s into %s (%s); the output will be silent",
                audio_path,
                self.path,
                reason(exc),
            )
            try:
                self._open(None)
            except (av.FFmpegError, OSError, ValueError) as exc2:
                self._abort()
                raise SinkError(
                    f"cannot write video {str(self.path)!r}: {reason(exc2)}; "
                    "check that the folder exists and is writable"
                ) from exc2
        except SinkError:
            self._abort()
            raise

    def _open(self, audio_from: Path | None) -> None:
        """Create the container and its streams, and write the header (which opens the file)."""
        codec, crf, preset = self._settings
        self._closed = False
        suffix = self.path.suffix.lower()
        options: dict[str, str] = {}
        if suffix in ("", ".mp4", ".m4v", ".mov"):
            options = _FRAGMENTED_OPTIONS if self.fragmented else {"movflags": "+faststart"}
        try:
            self._container = av.open(str(self.path), "w", format="mp4" if suffix == "" else None, options=options)
        except ValueError as exc:  # FFmpeg knows no container for this suffix
            raise SinkError(f"cannot write video {str(self.path)!r}: {reason(exc)}; use a .mp4 path") from exc
        stream = self._container.add_stream(codec, rate=Fraction(self.fps).limit_denominator(1001))
        if not isinstance(stream, av.VideoStream):
            raise SinkError(f"{codec!r} is not a video encoder; use codec='libx264'")
        stream.width = self._out_w
        stream.height = self._out_h
        stream.pix_fmt = "yuv420p"
        stream.time_base = self.time_base
        # The encoder's own time base defaults to 1/fps, which would round
        # away sub-frame timing; give it the fine one too.
        stream.codec_context.time_base = self.time_base
        if codec == "libx264":
            stream.options = {"crf": str(crf), "preset": preset}
        if self.fragmented:
            stream.codec_context.gop_size = max(1, round(self.fps * self._keyframe_interval_s))
        self._video = stream
        if audio_from is not None:
            self._audio = AudioCopy.open(audio_from, self._container)

        # Writing the header opens the file: an unwritable path fails here.
        self._container.start_encoding()

    @property
    def has_audio(self) -> bool:
        """Whether an audio track is being copied into the output."""
        return self._audio is not None

    def write(self, image: Picture, time_s: float) -> None:
        """Encode one frame shown at ``time_s`` seconds: BGR uint8 (H, W, 3), or an I420 picture.

        An :class:`~drivercam.picture.I420` picture of the output's size goes to
        the encoder as it is (no colour conversion); one of another size is
        converted to BGR and letterboxed like any other frame.

        Times that do not increase (a clock glitch, a repeated timestamp) are
        nudged forward by one tick so that no frame is ever dropped.

        Raises:
            SinkError: if the sink is closed or the file cannot be written.
        """
        if self._closed:
            raise SinkError(f"video {str(self.path)!r} is already closed; cannot write more frames")
        if isinstance(image, I420) and (image.width, image.height) == (self._out_w, self._out_h):
            yuv = image.data
        else:
            image = as_bgr(image)
            if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
                raise ValueError(f"image must be uint8 (H, W, 3) BGR, got {image.dtype} {image.shape}")
            # OpenCV's BGR -> I420 costs 0.44 ms at 640x480 where the encoder's own
            # conversion costs 1.11 ms, and it rounds better (BGR round trip through
            # the decoder: 45.9 vs 41.6 dB PSNR). _fit makes the size even.
            yuv = cv2.cvtColor(self._fit(image), cv2.COLOR_BGR2YUV_I420)
        if math.isfinite(time_s):
            pts = max(0, round(Fraction(time_s) / self.time_base))
        else:  # no usable time: one nominal frame after the last
            pts = 0 if self._last_pts is None else self._last_pts + self._frame_ticks
        if self._last_pts is not None and pts <= self._last_pts:
            pts = self._last_pts + 1
        frame = av.VideoFrame.from_ndarray(yuv, format="yuv420p")
        frame.pts = pts
        frame.time_base = self.time_base
        frame.duration = self._frame_ticks
        try:
            for packet in self._video.encode(frame):
                self._container.mux(packet)
            self._last_pts = pts
            self.frames_written += 1
            if self._audio is not None:
                if self._audio.video_start_s is None:
                    self._audio.video_start_s = float(pts * self.time_base)
                self._audio.copy_until(self._container, self._end_s())
        except (av.FFmpegError, OSError) as exc:
            raise SinkError(f"could not write to video {str(self.path)!r}: {reason(exc)}") from exc

    def _end_s(self) -> float:
        """End time of the last frame written, in seconds."""
        if self._last_pts is None:
            return 0.0
        return float((self._last_pts + self._frame_ticks) * self.time_base)

    def _fit(self, image: np.ndarray) -> np.ndarray:
        h, w = image.shape[:2]
        if (w, h) != (self.width, self.height):
            if not self._warned_size:
                logger.warning(
                    "frame is %dx%d but %s was opened for %dx%d; letterboxing",
                    w,
                    h,
                    self.path,
                    self.width,
                    self.height,
                )
                self._warned_size = True
            image = letterbox(image, self.width, self.height)
        if (self._out_w, self._out_h) != (self.width, self.height):
            image = cv2.copyMakeBorder(
                image, 0, self._out_h - self.height, 0, self._out_w - self.width, cv2.BORDER_REPLICATE
            )
        return np.ascontiguousarray(image)

    def close(self) -> None:
        """Flush the encoder, write the index and close the file. Idempotent.

        Raises:
            SinkError: if the file cannot be finalised (e.g. the disk is full).
        """
        if self._closed:
            return
        self._closed = True
        try:
            for packet in self._video.encode(None):
                self._container.mux(packet)
            if self._audio is not None:
                self._audio.copy_until(self._container, self._end_s())
            self._container.close()
        except (av.FFmpegError, OSError) as exc:
            self._abort()
            raise SinkError(f"could not finish video {str(self.path)!r}: {reason(exc)}") from exc
        finally:
            if self._audio is not None:
                self._audio.close()
        if self.frames_written == 0:
            # A video without a frame plays nowhere; leave nothing rather than a broken file.
            self.path.unlink(missing_ok=True)
            logger.info("no frame was written; removed %s", self.path)
            return
        logger.info("wrote %d frames to %s", self.frames_written, self.path)

    def _abort(self) -> None:
        """Close whatever is open without raising (used on failure paths)."""
        self._closed = True
        if self._audio is not None:
            self._audio.close()
            self._audio = None
        container = getattr(self, "_container", None)
        if container is None:
            return
        try:
            container.close()
        except (av.FFmpegError, OSError, ValueError) as exc:
            logger.debug("closing %s after a failure: %s", self.path, exc)

    def __repr__(self) -> str:
        return f"Mp4Sink({str(self.path)!r}, {self.width}x{self.height}, fps={self.fps:g})"


def letterbox(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """Scale ``image`` to fit ``width`` x ``height`` keeping its aspect, centred on black."""
    h, w = image.shape[:2]
    scale = min(width / w, height / h)
    new_w, new_h = max(1, round(w * scale)), max(1, round(h * scale))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    resized = cv2.resize(image, (new_w, new_h), interpolation=interpolation)
    out = np.zeros((height, width, 3), np.uint8)
    x, y = (width - new_w) // 2, (height - new_h) // 2
    out[y : y + new_h, x : x + new_w] = resized
    return out
