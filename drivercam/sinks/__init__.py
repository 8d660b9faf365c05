"""Outputs: an H.264 MP4 writer (with the input's audio), the prediction log, a window,
the event log and the HTML report.

This is the only package that writes video files, logs and reports or opens windows. Every sink
opens its output at construction, so a bad path fails before any work is done,
and is a context manager whose ``close()`` is idempotent: an exception or
Ctrl-C in the middle of a run still leaves a playable MP4 of the frames done.

Modules: ``mp4`` (:class:`Mp4Sink`, :func:`letterbox`), ``audio`` (the
input's audio copied beside it), ``jsonl``
(:class:`PredictionLog`, :func:`prediction_record`), ``outputs``
(:class:`RunOutputs`: the MP4 and prediction log of one run), ``window``
(:class:`WindowSink`, :func:`probe_gui`), ``eventlog`` (:class:`EventLog`) and
``report`` (:func:`write_report`).
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
