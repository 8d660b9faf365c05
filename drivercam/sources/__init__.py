"""Frame sources: video files, cameras, network streams and image folders.

This is the only package that opens cameras, files and streams. Every source
follows the :class:`drivercam.types.FrameSource` protocol (``is_live``,
``fps``, ``frame_count``, ``read() -> Frame | None``, ``close()``) and is a
context manager. :func:`open_source` turns a command-line ``--source`` value
into the right source.

Files are decoded with PyAV; cameras and streams go through
``cv2.VideoCapture`` (injected as ``capture_factory`` so tests can fake it).

Modules: ``video`` (:class:`VideoFileSource`), ``timeline`` (the repair that
makes frame times go forward), ``device`` (opening and reading one
``cv2.VideoCapture`` with timeouts), ``capture`` (the reconnecting
``cv2.VideoCapture`` base), ``live`` (:class:`CameraSource`,
:class:`StreamSource`), ``images`` (:class:`ImageFolderSource`), ``paced``
(:class:`PacedSource`) and ``factory`` (:func:`open_source`).
"""

from __future__ import annotations

from drivercam.sources.device import CaptureFactory
from drivercam.sources.factory import STREAM_SCHEMES, open_source, source_kind
from drivercam.sources.images import (
    DEFAULT_IMAGE_FPS,
    IMAGE_SUFFIXES,
    ImageFolderSource,
    natural_key,
)
from drivercam.sources.live import CameraSource, StreamSource
from drivercam.sources.paced import PacedSource
from drivercam.sources.video import VideoFileSource

__all__ = [
    "DEFAULT_IMAGE_FPS",
    "IMAGE_SUFFIXES",
    "STREAM_SCHEMES",
    "CameraSource",
    "CaptureFactory",
    "ImageFolderSource",
    "PacedSource",
    "StreamSource",
    "VideoFileSource",
    "natural_key",
    "open_source",
    "source_kind",
]
