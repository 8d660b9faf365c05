"""Frame sources: video files, cameras, network streams and image folders.

This is the only module that opens cameras, files and streams. Every source
follows the :class:`drivercam.types.FrameSource` protocol (``is_live``,
``fps``, ``frame_count``, ``read() -> Frame | None``, ``close()``) and is a
context manager. :func:`open_source` turns a command-line ``--source`` value
into the right source.

Files are decoded with PyAV; cameras and streams go through
``cv2.VideoCapture`` (injected as ``capture_factory`` so tests can fake it).
"""

from __future__ import annotations

import glob
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import av
import cv2
import numpy as np

from drivercam.errors import SourceError
from drivercam.types import Frame, FrameSource

logger = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp"})
STREAM_SCHEMES = frozenset({"rtsp", "rtsps", "rtmp", "rtmps", "http", "https", "udp", "tcp", "srt"})
DEFAULT_IMAGE_FPS = 15.0
_URL_RE = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://")
_SOURCE_HELP = (
    "give a video file, an image folder or glob, a camera index (0) or device "
    "(/dev/video0), or a stream URL (rtsp://...)"
)


_S = TypeVar("_S", bound="_SourceBase")


class _SourceBase:
    """Context-manager plumbing shared by every source."""

    def close(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def __enter__(self: _S) -> _S:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _as_bgr(image: np.ndarray) -> np.ndarray:
    """Coerce a capture's image to BGR uint8 (some cameras deliver grey or BGRA)."""
    if image.dtype != np.uint8:
        image = cv2.convertScaleAbs(image)
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    if image.shape[2] == 1:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    return image


# --------------------------------------------------------------------------- files


class VideoFileSource(_SourceBase):
    """Decode a video file with PyAV, frame by frame.

    ``time_s`` comes from each frame's pts, measured from the container's start
    time (the same origin :class:`drivercam.sinks.Mp4Sink` uses for the audio it
    copies, so sound stays in sync). A truncated or corrupt file yields every
    frame that decodes and then ends; the problem is recorded in :attr:`error`
    instead of raised.

    Args:
        path: the video file.
        threads: let FFmpeg decode with several threads (frame/slice threading).

    Raises:
        SourceError: at construction, when the file is missing, is not a video,
            or has no video stream.
    """

    def __init__(self, path: str | Path, *, threads: bool = True) -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise SourceError(f"video file not found: {str(self.path)!r}; check the path")
        if self.path.is_dir():
            raise SourceError(
                f"{str(self.path)!r} is a folder, not a video file; pass it as an image folder"
            )
        try:
            self._container = av.open(str(self.path), "r")
        except av.FFmpegError as exc:
            raise SourceError(
                f"could not open {str(self.path)!r} as a video ({_ffmpeg_reason(exc)}); "
                "is it a video file, and complete? (an MP4 cut off while recording has no index)"
            ) from exc
        if not self._container.streams.video:
            self._container.close()
            raise SourceError(
                f"{str(self.path)!r} has no video stream; give a video file (e.g. .mp4, .mkv, .avi)"
            )
        self._stream = self._container.streams.video[0]
        if threads:
            self._stream.thread_type = "AUTO"
        self.has_audio: bool = bool(self._container.streams.audio)
        ctx = self._stream.codec_context
        self.width: int = int(ctx.width)
        self.height: int = int(ctx.height)
        self._fps = _stream_fps(self._stream)
        self._frame_count, self._count_exact = _stream_frame_count(
            self._stream, self._container, self._fps
        )
        start = self._container.start_time
        self._origin_s = float(start) / av.time_base if start is not None else 0.0
        self._frames: Iterator[av.VideoFrame] | None = self._decode()
        self._bad_packets = 0
        self._last_decode_error: BaseException | None = None
        self._index = 0
        self._lock = threading.Lock()
        self._closed = False
        self.error: str | None = None

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
    def frames_read(self) -> int:
        """Frames delivered so far."""
        return self._index

    def read(self) -> Frame | None:
        """Return the next frame, or None at the end (or after an unrecoverable decode error)."""
        with self._lock:
            if self._frames is None:
                return None
            frame = next(self._frames, None)
            if frame is None:
                self._finish()
                return None
            image = frame.to_ndarray(format="bgr24")
            if frame.pts is not None and frame.time_base is not None:
                time_s = float(frame.pts * frame.time_base) - self._origin_s
            else:
                time_s = self._index / self._fps
            result = Frame(
                index=self._index,
                image=image,
                time_s=time_s,
                source=str(self.path),
                captured_at=time.monotonic(),
            )
            self._index += 1
            return result

    def _decode(self) -> Iterator[av.VideoFrame]:
        """Demux and decode, skipping packets the decoder rejects.

        A damaged packet costs only its own frames; an error from the demuxer
        (the container itself is broken) ends the stream. Either is recorded.
        """
        packets = self._container.demux(self._stream)
        while True:
            try:
                packet = next(packets)
            except StopIteration:
                return
            except (av.FFmpegError, OSError, EOFError) as exc:
                self._last_decode_error = exc
                return
            try:
                frames = packet.decode()
            except (av.FFmpegError, OSError, EOFError) as exc:
                self._bad_packets += 1
                self._last_decode_error = exc
                continue
            for frame in frames:
                if isinstance(frame, av.VideoFrame):
                    yield frame

    def _finish(self) -> None:
        """Stop decoding and record why the stream ended early or damaged, if it did."""
        self._frames = None
        expected = self._frame_count
        about = f"~{expected}" if expected is not None else "?"
        short = False
        if expected is not None:
            # An estimated count (from duration) may be off by a frame or two.
            slack = 0 if self._count_exact else max(2, expected // 50)
            short = self._index < expected - slack
        if self._bad_packets:
            self.error = (
                f"decoded {self._index} of {about} frames of {str(self.path)!r}; "
                f"{self._bad_packets} damaged packet(s) skipped "
                f"({_ffmpeg_reason(self._last_decode_error or ValueError('unknown'))})"
            )
        elif self._last_decode_error is not None:
            self.error = (
                f"decoded {self._index} of {about} frames of {str(self.path)!r}; reading stopped: "
                f"{_ffmpeg_reason(self._last_decode_error)}"
            )
        elif short:
            self.error = (
                f"decoded {self._index} of {about} frames of {str(self.path)!r}; "
                "the file is truncated or damaged"
            )
        if self.error is not None:
            logger.warning("%s", self.error)

    def close(self) -> None:
        """Close the file. Safe to call more than once."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._frames = None
            self._container.close()

    def __repr__(self) -> str:
        return (
            f"VideoFileSource({str(self.path)!r}, {self.width}x{self.height}, "
            f"fps={self._fps:.3f}, frames={self._frame_count})"
        )


def _ffmpeg_reason(exc: BaseException) -> str:
    """The human part of a PyAV error, without errno noise."""
    strerror = getattr(exc, "strerror", None)
    return str(strerror) if strerror else str(exc)


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


# --------------------------------------------------------------------------- captures

CaptureFactory = Callable[..., Any]


def _open_capture(
    factory: CaptureFactory, args: tuple[Any, ...], timeout_s: float, what: str
) -> Any:
    """Call ``factory(*args)`` in a helper thread and wait at most ``timeout_s``.

    Some backends block for a long time on an absent device or unreachable
    host. If the call outlives the timeout we give up on it; the helper releases
    the capture itself when (if) the call finally returns.
    """
    lock = threading.Lock()
    done = threading.Event()
    box: dict[str, Any] = {}
    abandoned = False

    def target() -> None:
        try:
            cap = factory(*args)
        except BaseException as exc:  # reported to the caller below
            box["error"] = exc
            cap = None
        with lock:
            if abandoned:
                if cap is not None:
                    cap.release()
                return
            box["cap"] = cap
            done.set()

    thread = threading.Thread(target=target, name=f"open {what}", daemon=True)
    thread.start()
    done.wait(timeout_s)
    with lock:
        if not done.is_set():
            abandoned = True
            raise SourceError(
                f"opening {what} took longer than {timeout_s:g} s; check that it is connected "
                "and reachable, or raise the open timeout"
            )
    if "error" in box:
        raise SourceError(f"could not open {what}: {box['error']}") from box["error"]
    return box["cap"]


def _redact(url: str) -> str:
    """Hide the password in ``scheme://user:password@host`` URLs for messages."""
    return re.sub(r"(://[^/:@]+):[^/@]*@", r"\1:***@", url)


class _CaptureSource(_SourceBase):
    """A live ``cv2.VideoCapture`` with a bounded reconnect-with-back-off policy.

    When the capture stops delivering frames, it is released and reopened up to
    ``reconnect_attempts`` times, sleeping ``backoff_s``, then twice that, and
    so on (capped at ``max_backoff_s``) before each attempt. A frame delivered
    resets the policy. When every attempt fails, :meth:`read` raises
    :class:`SourceError`.
    """

    def __init__(
        self,
        target: int | str,
        *,
        what: str,
        open_args: tuple[Any, ...],
        open_error: str,
        capture_factory: CaptureFactory,
        open_timeout_s: float,
        reconnect_attempts: int,
        backoff_s: float,
        max_backoff_s: float,
        sleep: Callable[[float], None],
        clock: Callable[[], float],
        width: int | None = None,
        height: int | None = None,
        fps: float | None = None,
    ) -> None:
        if open_timeout_s <= 0:
            raise ValueError(f"open_timeout_s must be > 0, got {open_timeout_s!r}")
        if reconnect_attempts < 0:
            raise ValueError(f"reconnect_attempts must be >= 0, got {reconnect_attempts!r}")
        if backoff_s < 0 or max_backoff_s < backoff_s:
            raise ValueError(
                f"need 0 <= backoff_s <= max_backoff_s, got {backoff_s!r} and {max_backoff_s!r}"
            )
        for name, value in (("width", width), ("height", height), ("fps", fps)):
            if value is not None and value <= 0:
                raise ValueError(f"{name} must be > 0, got {value!r}")
        self.target = target
        self._what = what
        self._open_args = open_args
        self._open_error = open_error
        self._factory = capture_factory
        self._open_timeout_s = open_timeout_s
        self._reconnect_attempts = reconnect_attempts
        self._backoff_s = backoff_s
        self._max_backoff_s = max_backoff_s
        self._sleep = sleep
        self._clock = clock
        self._requested = (width, height, fps)
        self._lock = threading.Lock()
        self._closed = False
        self._index = 0
        self._t0: float | None = None
        self._finite_count: int | None = None
        self.reconnects = 0
        self._size = (0, 0)
        self._reported_fps = 0.0
        self._cap: Any = self._open()
        if self._cap is None:
            raise SourceError(self._open_error)

    def _open(self) -> Any:
        """Open and configure a capture; None when the device does not open."""
        cap = _open_capture(self._factory, self._open_args, self._open_timeout_s, self._what)
        if cap is None or not cap.isOpened():
            if cap is not None:
                cap.release()
            return None
        width, height, fps = self._requested
        for prop, value in (
            (cv2.CAP_PROP_FRAME_WIDTH, width),
            (cv2.CAP_PROP_FRAME_HEIGHT, height),
            (cv2.CAP_PROP_FPS, fps),
        ):
            if value is not None:
                cap.set(prop, float(value))
        got_w, got_h = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        if (width is not None and got_w != width) or (height is not None and got_h != height):
            logger.warning(
                "%s: asked for %sx%s, got %dx%d", self._what, width, height, got_w, got_h
            )
        # Cached so the properties never wait on a read blocked in another thread.
        self._size = (got_w, got_h)
        self._reported_fps = float(cap.get(cv2.CAP_PROP_FPS))
        return cap

    @property
    def is_live(self) -> bool:
        return True

    @property
    def fps(self) -> float:
        """The frame rate the device reports, else the one requested, else 30."""
        if self._reported_fps > 0:
            return self._reported_fps
        return float(self._requested[2]) if self._requested[2] else 30.0

    @property
    def frame_count(self) -> int | None:
        return None

    @property
    def width(self) -> int:
        """Frame width the device reported when it was (re)opened."""
        return self._size[0]

    @property
    def height(self) -> int:
        """Frame height the device reported when it was (re)opened."""
        return self._size[1]

    def read(self) -> Frame | None:
        """Return the next frame, reconnecting if the device stops delivering.

        Returns:
            The frame, or None once the source is closed (or a finite stream ended).

        Raises:
            SourceError: when reconnecting failed ``reconnect_attempts`` times.
        """
        with self._lock:
            image = self._grab()
            if image is None and not self._closed:
                if self._finite_count is not None and self._index >= self._finite_count:
                    return None
                image = self._reconnect()
            if image is None:
                return None
            now = self._clock()
            if self._t0 is None:
                self._t0 = now
            frame = Frame(
                index=self._index,
                image=_as_bgr(image),
                time_s=now - self._t0,
                source=self._what,
                captured_at=now,
            )
            self._index += 1
            return frame

    def _grab(self) -> np.ndarray | None:
        if self._closed or self._cap is None:
            return None
        try:
            ok, image = self._cap.read()
        except cv2.error as exc:
            logger.warning("%s: read failed: %s", self._what, exc)
            return None
        if self._closed:  # closed while we were blocked in read()
            self._release()
            return None
        if not ok or image is None or image.size == 0:
            return None
        return np.asarray(image)

    def _reconnect(self) -> np.ndarray | None:
        delay = self._backoff_s
        for attempt in range(1, self._reconnect_attempts + 1):
            logger.warning(
                "%s stopped delivering frames; reconnect %d/%d in %.2f s",
                self._what, attempt, self._reconnect_attempts, delay,
            )
            self._release()
            self._sleep(delay)
            delay = min(delay * 2, self._max_backoff_s)
            if self._closed:
                return None
            try:
                self._cap = self._open()
            except SourceError as exc:
                logger.warning("%s", exc)
                self._cap = None
            image = self._grab()
            if image is not None:
                self.reconnects += 1
                logger.info("%s reconnected after %d attempt(s)", self._what, attempt)
                return image
        self._release()
        raise SourceError(
            f"{self._what} stopped delivering frames and {self._reconnect_attempts} reconnect "
            "attempts failed; check the connection, or that no other program took the device"
        )

    def _release(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None

    def close(self, timeout_s: float = 5.0) -> None:
        """Release the device. Safe to call more than once and from another thread.

        Args:
            timeout_s: how long to wait for a read in progress; if it is still
                blocked after that, the reader releases the device when it returns.
        """
        self._closed = True
        if self._lock.acquire(timeout=timeout_s):
            try:
                self._release()
            finally:
                self._lock.release()
        else:
            logger.warning("%s: a read is still blocked; it will be released when it returns", self._what)


class CameraSource(_CaptureSource):
    """A local camera by index (0, 1, ...) or device path (/dev/video0).

    Args:
        index_or_device: camera index or device path.
        width: requested frame width (the device may choose another).
        height: requested frame height.
        fps: requested frame rate.
        capture_factory: ``cv2.VideoCapture`` or a fake with the same
            ``isOpened/read/set/get/release`` methods; called as ``factory(index_or_device)``.
        open_timeout_s: give up opening after this long.
        reconnect_attempts: reopen attempts after the camera stops delivering.
        backoff_s: sleep before the first reopen; doubles each attempt.
        max_backoff_s: cap on the sleep between attempts.
        sleep: injectable sleep, for tests.
        clock: injectable monotonic clock, for ``time_s`` and ``captured_at``.

    Raises:
        SourceError: at construction when the camera does not open.
    """

    def __init__(
        self,
        index_or_device: int | str,
        *,
        width: int | None = None,
        height: int | None = None,
        fps: float | None = None,
        capture_factory: CaptureFactory = cv2.VideoCapture,
        open_timeout_s: float = 5.0,
        reconnect_attempts: int = 5,
        backoff_s: float = 0.5,
        max_backoff_s: float = 8.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if isinstance(index_or_device, bool) or not isinstance(index_or_device, (int, str)):
            raise TypeError(f"camera must be an int index or a device path, got {index_or_device!r}")
        if isinstance(index_or_device, int):
            other = "1" if index_or_device == 0 else "0"
        else:
            other = "0"
        super().__init__(
            index_or_device,
            what=f"camera {index_or_device}",
            open_args=(index_or_device,),
            open_error=(
                f"could not open camera {index_or_device}; is it connected or used by another "
                f"program? try --source {other}"
            ),
            capture_factory=capture_factory,
            open_timeout_s=open_timeout_s,
            reconnect_attempts=reconnect_attempts,
            backoff_s=backoff_s,
            max_backoff_s=max_backoff_s,
            sleep=sleep,
            clock=clock,
            width=width,
            height=height,
            fps=fps,
        )

    def __repr__(self) -> str:
        return f"CameraSource({self.target!r})"


class StreamSource(_CaptureSource):
    """A network stream (rtsp://, http(s)://, rtmp://, udp://, ...) via OpenCV's FFmpeg backend.

    The capture is opened as ``capture_factory(url, cv2.CAP_FFMPEG, [open and
    read timeouts in ms])`` so a dead host cannot block forever. If the server
    reports a frame count (a plain video file served over HTTP), reading past
    it ends the source instead of reconnecting.

    Args:
        url: the stream URL. A password in it is hidden in messages and logs.
        capture_factory: ``cv2.VideoCapture`` or a fake.
        open_timeout_s: give up opening (and each read) after this long.
        reconnect_attempts: reopen attempts after the stream stops delivering.
        backoff_s: sleep before the first reopen; doubles each attempt.
        max_backoff_s: cap on the sleep between attempts.
        sleep: injectable sleep, for tests.
        clock: injectable monotonic clock.

    Raises:
        SourceError: at construction when the stream does not open.
    """

    def __init__(
        self,
        url: str,
        *,
        capture_factory: CaptureFactory = cv2.VideoCapture,
        open_timeout_s: float = 10.0,
        reconnect_attempts: int = 5,
        backoff_s: float = 0.5,
        max_backoff_s: float = 8.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        shown = _redact(url)
        timeout_ms = int(open_timeout_s * 1000)
        params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, timeout_ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, timeout_ms]
        super().__init__(
            url,
            what=f"stream {shown}",
            open_args=(url, cv2.CAP_FFMPEG, params),
            open_error=(
                f"could not open stream {shown}; check the URL, the network and the credentials "
                "(try it in a media player such as ffplay or VLC)"
            ),
            capture_factory=capture_factory,
            # The factory gets the timeout too; ours is a backstop a little later.
            open_timeout_s=open_timeout_s + 2.0,
            reconnect_attempts=reconnect_attempts,
            backoff_s=backoff_s,
            max_backoff_s=max_backoff_s,
            sleep=sleep,
            clock=clock,
        )
        count = int(self._cap.get(cv2.CAP_PROP_FRAME_COUNT))
        self._finite_count = count if count > 0 else None

    def __repr__(self) -> str:
        return f"StreamSource({self._what[len('stream '):]!r})"


# --------------------------------------------------------------------------- images


def natural_key(path: str | Path) -> tuple[tuple[int, int | str], ...]:
    """Sort key that puts ``img_2`` before ``img_10`` (case-insensitive)."""
    parts = re.split(r"(\d+)", str(path).lower())
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in parts if p)


def _is_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES and path.is_file()


class ImageFolderSource(_SourceBase):
    """Images from a folder, a glob pattern or a single file, in natural order.

    Accepted suffixes: .jpg .jpeg .png .bmp .webp (any case). A folder is not
    searched recursively; use a glob such as ``photos/**/*.jpg`` for that.
    Images may differ in size. An unreadable image is skipped with a warning
    and recorded in :attr:`skipped` (one bad photo should not stop a batch);
    ``Frame.index`` stays contiguous over the images that were read.

    Args:
        folder_or_glob: a folder, a glob pattern, or one image file.
        fps: the frame rate to pretend, for ``time_s`` and for writing a video.

    Raises:
        SourceError: when nothing matches.
    """

    def __init__(self, folder_or_glob: str | Path, *, fps: float = DEFAULT_IMAGE_FPS) -> None:
        if fps <= 0:
            raise ValueError(f"fps must be > 0, got {fps!r}")
        spec = str(folder_or_glob)
        path = Path(spec)
        if path.is_dir():
            paths = [p for p in path.iterdir() if _is_image(p)]
            where = f"folder {spec!r}"
        elif path.is_file():
            paths = [path] if path.suffix.lower() in IMAGE_SUFFIXES else []
            where = f"file {spec!r}"
        else:
            paths = [Path(p) for p in glob.glob(spec, recursive=True)]
            paths = [p for p in paths if _is_image(p)]
            where = f"glob {spec!r}"
        if not paths:
            raise SourceError(
                f"{where} has no images ({' '.join(sorted(IMAGE_SUFFIXES))}); check the path"
            )
        self.paths: list[Path] = sorted(paths, key=natural_key)
        self._fps = float(fps)
        self._next = 0
        self._index = 0
        self.skipped: list[Path] = []

    @property
    def is_live(self) -> bool:
        return False

    @property
    def fps(self) -> float:
        return self._fps

    @property
    def frame_count(self) -> int | None:
        """Number of image files (frames delivered can be fewer if some are unreadable)."""
        return len(self.paths)

    def read(self) -> Frame | None:
        while self._next < len(self.paths):
            path = self.paths[self._next]
            self._next += 1
            image = _read_image(path)
            if image is None:
                logger.warning("skipping unreadable image %s", path)
                self.skipped.append(path)
                continue
            frame = Frame(
                index=self._index,
                image=image,
                time_s=self._index / self._fps,
                source=str(path),
                captured_at=time.monotonic(),
            )
            self._index += 1
            return frame
        return None

    def close(self) -> None:
        self._next = len(self.paths)

    def __repr__(self) -> str:
        return f"ImageFolderSource({len(self.paths)} images, fps={self._fps:g})"


def _read_image(path: Path) -> np.ndarray | None:
    """Read an image as BGR uint8; None when it cannot be decoded."""
    try:
        data = np.fromfile(str(path), dtype=np.uint8)  # works with non-ASCII paths too
    except OSError:
        return None
    if data.size == 0:
        return None
    image = cv2.imdecode(data, cv2.IMREAD_COLOR)
    return None if image is None else np.ascontiguousarray(image)


# --------------------------------------------------------------------------- pacing


class PacedSource(_SourceBase):
    """Play a finite source as if it were a live camera.

    Each frame is released when the wall clock reaches its ``time_s`` (relative
    to the first frame); a slow reader is never made to wait more. Used for
    ``drivercam live --source FILE``.

    Args:
        inner: the source to pace (a video file or image folder).
        clock: injectable monotonic clock.
        sleep: injectable sleep.
    """

    def __init__(
        self,
        inner: FrameSource,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.inner = inner
        self._clock = clock
        self._sleep = sleep
        self._start: float | None = None

    @property
    def is_live(self) -> bool:
        return True

    @property
    def fps(self) -> float:
        return self.inner.fps

    @property
    def frame_count(self) -> int | None:
        return self.inner.frame_count

    @property
    def error(self) -> str | None:
        """The inner source's recorded error (e.g. a truncated file), if any."""
        error = getattr(self.inner, "error", None)
        return error if isinstance(error, str) else None

    def read(self) -> Frame | None:
        frame = self.inner.read()
        if frame is None:
            return None
        now = self._clock()
        if self._start is None:
            self._start = now - frame.time_s
        delay = self._start + frame.time_s - now
        if delay > 0:
            self._sleep(delay)
            now = self._clock()
        return replace(frame, captured_at=now)

    def close(self) -> None:
        self.inner.close()

    def __repr__(self) -> str:
        return f"PacedSource({self.inner!r})"


# --------------------------------------------------------------------------- factory


def open_source(
    spec: int | str | Path,
    *,
    width: int | None = None,
    height: int | None = None,
    fps: float | None = None,
    live: bool | None = None,
    capture_factory: CaptureFactory = cv2.VideoCapture,
    open_timeout_s: float | None = None,
    reconnect_attempts: int = 5,
) -> FrameSource:
    """Open a source from a ``--source`` value.

    ``0`` or ``"0"`` or ``"/dev/video0"`` -> :class:`CameraSource`;
    ``rtsp://``, ``http(s)://`` ... -> :class:`StreamSource`; a folder, a glob or
    an image file -> :class:`ImageFolderSource`; any other existing file ->
    :class:`VideoFileSource`. With ``live=True`` a file or folder is wrapped in
    :class:`PacedSource` so it plays in real time.

    Args:
        spec: what to open.
        width: requested camera width (ignored for files: frames keep their size).
        height: requested camera height.
        fps: requested camera frame rate, or the frame rate of an image folder
            (default 15); ignored for video files, which keep their own.
        live: pace a file or folder as a live camera. Cameras and streams are always live.
        capture_factory: ``cv2.VideoCapture`` or a fake, for cameras and streams.
        open_timeout_s: camera/stream open timeout (default 5 s camera, 10 s stream).
        reconnect_attempts: reopen attempts for cameras and streams.

    Raises:
        SourceError: when ``spec`` names nothing that can be opened, with the fix.
    """
    if isinstance(spec, bool) or not isinstance(spec, (int, str, Path)):
        raise TypeError(f"source must be an int, str or Path, got {spec!r}")
    if isinstance(spec, int):
        if spec < 0:
            raise SourceError(f"camera index must be >= 0, got {spec}; try --source 0")
        return _camera(spec, width, height, fps, capture_factory, open_timeout_s, reconnect_attempts)
    text = str(spec).strip()
    if not text:
        raise SourceError(f"empty source; {_SOURCE_HELP}")
    if text.isdigit():
        return _camera(int(text), width, height, fps, capture_factory, open_timeout_s, reconnect_attempts)
    if text.startswith("/dev/video"):
        return _camera(text, width, height, fps, capture_factory, open_timeout_s, reconnect_attempts)
    match = _URL_RE.match(text)
    if match:
        scheme = match.group("scheme").lower()
        if scheme == "file":
            text = text[len("file://") :]
        elif scheme in STREAM_SCHEMES:
            kwargs: dict[str, Any] = {
                "capture_factory": capture_factory,
                "reconnect_attempts": reconnect_attempts,
            }
            if open_timeout_s is not None:
                kwargs["open_timeout_s"] = open_timeout_s
            return StreamSource(text, **kwargs)
        else:
            raise SourceError(
                f"unsupported URL scheme {scheme!r} in {_redact(text)!r}; "
                f"use one of {', '.join(sorted(STREAM_SCHEMES))}"
            )
    path = Path(text).expanduser()
    source: FrameSource
    if path.is_dir() or (path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES):
        source = ImageFolderSource(path, fps=fps or DEFAULT_IMAGE_FPS)
    elif path.is_file():
        source = VideoFileSource(path)
    elif any(ch in text for ch in "*?["):
        source = ImageFolderSource(text, fps=fps or DEFAULT_IMAGE_FPS)
    else:
        raise SourceError(f"no such file or folder: {text!r}; {_SOURCE_HELP}")
    if live:
        return PacedSource(source)
    return source


def _camera(
    target: int | str,
    width: int | None,
    height: int | None,
    fps: float | None,
    capture_factory: CaptureFactory,
    open_timeout_s: float | None,
    reconnect_attempts: int,
) -> CameraSource:
    return CameraSource(
        target,
        width=width,
        height=height,
        fps=fps,
        capture_factory=capture_factory,
        open_timeout_s=open_timeout_s if open_timeout_s is not None else 5.0,
        reconnect_attempts=reconnect_attempts,
    )
