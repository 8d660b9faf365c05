"""Annotating one whole video inside a batch worker: the MP4 and the peak snapshots of ``annotate``."""

from __future__ import annotations

import os
import time
from contextlib import ExitStack
from pathlib import Path

import numpy as np

from drivercam.batch.plan import Chunk, sample_mask
from drivercam.batch.tasks import ChunkResult, RenderTask
from drivercam.errors import SourceError
from drivercam.model.classifier import OnnxClassifier
from drivercam.render.frame import FrameRenderer
from drivercam.sinks.outputs import RunOutputs
from drivercam.sources.video import VideoFileSource
from drivercam.types import Prediction, Result

__all__ = ["render_video"]


def render_video(classifier: OnnxClassifier, task: RenderTask, host: str) -> ChunkResult:
    """Render ``task`` ; return its raw predictions as one chunk.

    The MP4 and the event log are written under temporary names in the task's
    folder; the parent renames them once the video is complete.
    """
    folder = Path(task.folder)
    folder.mkdir(parents=True, exist_ok=True)
    labels = classifier.labels
    n = task.probe.frame_count
    mask = sample_mask(task.probe.times_s(), task.sample_fps)
    probs = np.zeros((n, len(labels)), np.float32)
    millis = np.zeros(n, np.float32)
    render = FrameRenderer(labels, task.overlay)
    source = VideoFileSource(task.probe.path)
    with ExitStack() as stack:
        stack.callback(source.close)
        session = task.episodes.session(
            labels,
            events_path=folder / task.events_name,
            snapshot_dir=(folder / "snapshots") if task.snapshots else None,
            subtitle=task.probe.path,
        )
        stack.callback(session.close)
        outputs = stack.enter_context(
            RunOutputs(
                None if task.video_name is None else folder / task.video_name,
                None,
                fps=float(source.fps) or 15.0,
                audio_from=source.audio_path,
                width=source.width,
                height=source.height,
            )
        )
        held: tuple[np.ndarray, np.ndarray] | None = None
        while (frame := source.read()) is not None:
            i = frame.index
            if i >= n:
                raise SourceError(f"{task.probe.path!r} decoded more frames than its {n} packets; remux it")
            spent = 0.0
            if mask[i] or held is None:
                started = time.perf_counter()
                p, c = classifier.run_batch(classifier.prepare_frame(frame)[None])
                spent = 1000.0 * (time.perf_counter() - started)
                held = (p[0], c[0])
            probs[i], millis[i] = held[0], spent
            result = Result(frame, Prediction(*held, labels), spent)
            smoothed = session.observe(result)
            outputs.write(session.annotate(render(smoothed), i), frame.time_s)
        if source.error is not None:
            raise SourceError(source.error)
        if outputs.written != n:
            raise SourceError(f"decoded {outputs.written} of {n} frames of {task.probe.path!r}; the file is damaged")
        session.finish()
    chunk = Chunk(0, 0, n, 0)
    return ChunkResult(task.key, chunk, probs, millis, mask, None, host, os.getpid())
