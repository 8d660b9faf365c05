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


def describe(error: BaseException, *, line: str = "all") -> str:
    """One line naming ``error``: its message, or its type when it has none.

    Args:
        line: ``"all"`` joins the message's lines (whitespace collapsed);
            ``"first"`` keeps its first line (ONNX Runtime puts the cause
            there); ``"last"`` its last (OpenCV puts it there, after the
            source location).
    """
    text = str(error).strip()
    if not text:
        return type(error).__name__
    if line == "first":
        return text.splitlines()[0].strip()
    if line == "last":
        return text.splitlines()[-1].strip()
    if line != "all":
        raise ValueError(f"line must be 'all', 'first' or 'last', got {line!r}")
    return " ".join(text.split())


def reason(error: BaseException) -> str:
    """The human part of an OS or FFmpeg error: its ``strerror`` without errno noise, else its message."""
    strerror = getattr(error, "strerror", None)
    return str(strerror) if strerror else str(error)
