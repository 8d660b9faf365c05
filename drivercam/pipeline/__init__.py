"""Capture thread -> frames queue -> inference thread(s) -> results queue -> caller.

The frame path's threads and queues live here (the other threads of a run:
the alert command's runner, :mod:`drivercam.monitoring.alert_command`, and a
camera's open-with-timeout helper in :mod:`drivercam.sources.capture`).
The source is opened and the classifier built *before* any thread starts, so
a missing camera or a broken model fails at once, on the caller's thread.

* :mod:`~drivercam.pipeline.capture`: the capture loop reads frames and, when
  the classifier can (:class:`~drivercam.types.PreparingClassifier`), resizes
  each one into a model input there, so that work overlaps inference;
* :mod:`~drivercam.pipeline.inference`: each inference thread takes a numbered
  batch, runs the classifier and puts the results; under the file policy there
  may be several (``workers``): on a CPU, two single-threaded model runs side
  by side use the cores better than one run split across them;
* :mod:`~drivercam.pipeline.reorder`: the caller's side puts batches back in
  frame order;
* :mod:`~drivercam.pipeline.messages`: what travels down the queues; end of
  stream and failures travel with the data, so every frame read before a
  failure is delivered before it is re-raised on the caller's thread as
  :class:`~drivercam.errors.PipelineError` with the original as ``__cause__``;
* :mod:`~drivercam.pipeline.config`, :mod:`~drivercam.pipeline.stats`,
  :mod:`~drivercam.pipeline.workers`: settings, counters, thread planning.

Two queue policies, chosen by ``source.is_live`` unless overridden:

* **live** (``drop_stale=True``): the frames queue holds one frame; the capture
  thread replaces a frame the inference thread has not taken yet and counts it
  as dropped, so inference always works on the newest frame;
* **file** (``drop_stale=False``): a bounded frames queue with a blocking put;
  a slow consumer slows the reader down (back-pressure), no frame is dropped
  and order is kept.
"""

from __future__ import annotations

from drivercam.pipeline.config import PipelineConfig
from drivercam.pipeline.pipeline import Pipeline
from drivercam.pipeline.stats import FpsMeter, PipelineStats
from drivercam.pipeline.workers import plan_workers

__all__ = ["FpsMeter", "Pipeline", "PipelineConfig", "PipelineStats", "plan_workers"]
