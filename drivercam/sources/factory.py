"""Turn a command-line ``--source`` value into the right frame source."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import cv2

from drivercam.errors import SourceError
from drivercam.sources.device import CaptureFactory
from drivercam.sources.images import (
    DEFAULT_IMAGE_FPS,
    IMAGE_SUFFIXES,
    ImageFolderSource,
)
from drivercam.sources.live import CameraSource, StreamSource, _redact
from drivercam.sources.paced import PacedSource
from drivercam.sources.video import VideoFileSource
from drivercam.types import FrameSource

STREAM_SCHEMES = frozenset({"rtsp", "rtsps", "rtmp", "rtmps", "http", "https", "udp", "tcp", "srt"})
_URL_RE = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://")
_SOURCE_HELP = (
    "give a video file, an image folder or glob, a camera index (0) or device "
    "(/dev/video0), or a stream URL (rtsp://...)"
)


def source_kind(spec: int | str | Path) -> str:
    """What a ``--source`` value names, from its text alone: ``"camera"``, ``"stream"`` or ``"file"``.

    ``"file"`` covers video files, image folders and globs (and ``file://`` URLs).
    """
    if isinstance(spec, int) and not isinstance(spec, bool):
        return "camera"
    text = str(spec).strip()
    if text.isdigit() or text.startswith("/dev/video"):
        return "camera"
    match = _URL_RE.match(text)
    if match and match.group("scheme").lower() in STREAM_SCHEMES:
        return "stream"
    return "file"


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
    kind = source_kind(text)
    if kind == "camera":
        target = int(text) if text.isdigit() else text
        return _camera(target, width, height, fps, capture_factory, open_timeout_s, reconnect_attempts)
    if kind == "stream":
        kwargs: dict[str, Any] = {"capture_factory": capture_factory, "reconnect_attempts": reconnect_attempts}
        if open_timeout_s is not None:
            kwargs["open_timeout_s"] = open_timeout_s
        return StreamSource(text, **kwargs)
    match = _URL_RE.match(text)
    if match:
        scheme = match.group("scheme").lower()
        if scheme == "file":
            text = text[len("file://") :]
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
