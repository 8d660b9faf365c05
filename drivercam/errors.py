"""Exception hierarchy: every runtime failure a user can meet is a DrivercamError."""

from __future__ import annotations


class DrivercamError(Exception):
    """Base class for runtime conditions the user can act on."""


class SourceError(DrivercamError):
    """A camera, stream, video file or image folder could not be opened or read."""


class SinkError(DrivercamError):
    """An output (window, MP4 file, JSONL log) could not be opened or written."""


class ModelError(DrivercamError):
    """An ONNX model is missing, unreadable, or breaks the drivercam model contract."""


class PipelineError(DrivercamError):
    """A worker thread failed; the original exception is the ``__cause__``."""


def describe(error: BaseException) -> str:
    """One line naming ``error``: its message with whitespace collapsed, or its type when it has none."""
    text = " ".join(str(error).split())
    return text or type(error).__name__
