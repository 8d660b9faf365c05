"""What a batch worker does: probe a video, predict a chunk of it, or render it whole.

A :class:`Worker` holds one ONNX session, loaded once, and serves many tasks:
a local worker process keeps one in a module global, a Ray actor is one.
Tasks and results are small picklable values: paths and frame ranges in, per-
frame arrays out (about 50 bytes a frame). A problem with a video (it cannot be
opened, a packet does not decode) comes back as the result's ``error``, one
line, so one bad video never stops a worker.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import numpy as np

from drivercam.batch.plan import Chunk, sample_mask
from drivercam.batch.render import render_video
from drivercam.batch.tasks import ChunkResult, ChunkTask, ProbeResult, RenderTask, WorkerConfig
from drivercam.errors import DrivercamError, describe
from drivercam.model.classifier import OnnxClassifier
from drivercam.sources.span import probe_video, read_span

__all__ = ["Worker", "model_fingerprint"]

logger = logging.getLogger(__name__)


def _host() -> str:
    return os.uname().nodename if hasattr(os, "uname") else ""


class Worker:
    """One ONNX session and the tasks that use it.

    Args:
        config: the model, device and threads.
    """

    def __init__(self, config: WorkerConfig) -> None:
        self.config = config
        self.classifier = OnnxClassifier(config.model, device=config.device, intra_op_threads=config.threads)
        self.node_id = ""

    def ready(self, _: object = None) -> tuple[str, ...]:
        """The model's labels, once the worker has loaded it (for waiting until every worker is up)."""
        return self.classifier.labels

    def probe(self, key_and_spec: tuple[str, str]) -> ProbeResult:
        """List the frames of a video (no decoding)."""
        key, spec = key_and_spec
        try:
            return ProbeResult(key, probe_video(spec), host=self.node_id or _host())
        except (DrivercamError, OSError, ValueError) as error:
            return ProbeResult(key, None, describe(error), host=self.node_id or _host())

    def chunk(self, task: ChunkTask) -> ChunkResult:
        """Decode a chunk and run the model on its (sampled) frames."""
        chunk = task.chunk
        n = chunk.stop - chunk.first
        classes = len(self.classifier.labels)
        probs = np.zeros((n, classes), np.float32)
        millis = np.zeros(n, np.float32)
        times = task.probe.times_s()[chunk.warm : chunk.stop]
        mask = sample_mask(times, task.sample_fps)
        held = np.zeros(classes, np.float32)
        try:
            for frame in read_span(task.probe, chunk.warm, chunk.stop):
                offset = frame.index - chunk.warm
                if mask[offset]:
                    x = self.classifier.prepare_frame(frame.frame())
                    started = time.perf_counter()
                    p, _ = self.classifier.run_batch(x[None])
                    spent = 1000.0 * (time.perf_counter() - started)
                    held = p[0]
                else:
                    spent = 0.0
                if frame.index >= chunk.first:
                    probs[frame.index - chunk.first] = held
                    millis[frame.index - chunk.first] = spent
        except (DrivercamError, OSError, ValueError) as error:
            return ChunkResult(
                task.key, chunk, probs[:0], millis[:0], mask[:0], describe(error), self.node_id or _host(), os.getpid()
            )
        sampled = mask[chunk.first - chunk.warm :]
        return ChunkResult(task.key, chunk, probs, millis, sampled, None, self.node_id or _host(), os.getpid())

    def render(self, task: RenderTask) -> ChunkResult:
        """Annotate a whole video as ``drivercam annotate`` does; return its raw predictions."""
        try:
            return render_video(self.classifier, task, self.node_id or _host())
        except (DrivercamError, OSError, ValueError) as error:
            n = task.probe.frame_count
            chunk = Chunk(0, 0, n, 0)
            empty = np.zeros((0, len(self.classifier.labels)), np.float32)
            return ChunkResult(
                task.key,
                chunk,
                empty,
                np.zeros(0, np.float32),
                np.zeros(0, bool),
                describe(error),
                self.node_id or _host(),
                os.getpid(),
            )


def model_fingerprint(path: str | Path) -> str:
    """sha256 of the model file, to tell whether a batch folder was made with it."""
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
