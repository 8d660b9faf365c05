"""Outputs: an H.264 MP4 writer (with the input's audio), a JSONL log, a window.

This is the only package that writes video files or opens windows. Every sink
opens its output at construction, so a bad path fails before any work is done,
and is a context manager whose ``close()`` is idempotent: an exception or
Ctrl-C in the middle of a run still leaves a playable MP4 of the frames done.

Modules: ``mp4`` (:class:`Mp4Sink`, :func:`letterbox`), ``jsonl``
(:class:`PredictionLog`) and ``window`` (:class:`WindowSink`, :func:`probe_gui`).
"""

from __future__ import annotations

from drivercam.sinks.jsonl import PredictionLog
from drivercam.sinks.mp4 import Mp4Sink, letterbox
from drivercam.sinks.window import WindowSink, probe_gui

__all__ = [
    "Mp4Sink",
    "PredictionLog",
    "WindowSink",
    "letterbox",
    "probe_gui",
]
