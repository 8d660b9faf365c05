"""A few-lines Python API: open a source and a model, iterate predictions.

Example::

    from drivercam import Monitor

    with Monitor("clip.mp4", model="models/drivercam.onnx") as monitor:
        for result in monitor:
            print(result.frame.index, result.prediction.label, result.prediction.cams.shape)

Also here, shared by the command line and Python users: :func:`prediction_record`
(the JSON object logged per frame), :func:`resolve_class` (a class given by
index, class id or label) and :class:`RunOutputs` (the annotated MP4 and the
prediction log of one run, opened once the frame size is known).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import numpy as np

from drivercam._closing import Closing
from drivercam.pipeline import Pipeline, PipelineStats
from drivercam.throughput import plan_workers
from drivercam.types import Classifier, FrameSource, Result

logger = logging.getLogger(__name__)


class Monitor(Closing):
    """Run a drivercam model over a camera, stream, video file or image folder.

    The source is opened and the model loaded in the constructor, on the
    caller's thread, so a missing camera or a broken model fails at once with a
    ``SourceError`` or ``ModelError``. Entering the ``with`` block starts the
    capture and inference threads; leaving it stops them and closes the source.

    Args:
        source: a source spec for :func:`drivercam.sources.open_source` (camera
            index, ``/dev/video*``, URL, video file, image folder or glob), or an
            opened :class:`~drivercam.types.FrameSource`.
        model: path to a drivercam ONNX model, or a built classifier; None uses
            :func:`drivercam.model.default_model_path`.
        device: execution device for ONNX Runtime (``auto``, ``cpu``, ``cuda``,
            ``tensorrt``, ...); ignored when ``model`` is a classifier.
        threads: ONNX Runtime intra-op threads per inference thread; None
            decides (see :func:`drivercam.throughput.plan_workers`).
        workers: inference threads for files (see :class:`Pipeline`); None
            decides: two on a CPU with two or more cores, else one. Live
            sources always use one.
        width: requested camera width (cameras only).
        height: requested camera height (cameras only).
        fps: requested camera frame rate (cameras), or the rate of an image folder.
        live: play a video file as if it were a live camera (real-time pacing,
            stale frames dropped); None keeps the source's nature.
        drop_stale: override the queue policy (True: keep only the newest
            frame; False: keep every frame); None follows the source.
        batch_size: frames per inference call for files (see :class:`Pipeline`).
        queue_size: capacity of the file-policy queues.
    """

    def __init__(
        self,
        source: str | int | Path | FrameSource,
        model: str | Path | Classifier | None = None,
        *,
        device: str = "auto",
        threads: int | None = None,
        workers: int | None = None,
        width: int | None = None,
        height: int | None = None,
        fps: float | None = None,
        live: bool | None = None,
        drop_stale: bool | None = None,
        batch_size: int = 1,
        queue_size: int = 8,
    ) -> None:
        # Imported here so `import drivercam` stays light (no onnxruntime, no PyAV).
        from drivercam.model import OnnxClassifier, default_model_path, runs_on_cpu
        from drivercam.sources import open_source

        if isinstance(source, (str, int, Path)):
            opened: FrameSource = open_source(
                str(source) if isinstance(source, Path) else source,
                width=width, height=height, fps=fps, live=live,
            )
        else:
            opened = source
        try:
            live_policy = bool(opened.is_live) if drop_stale is None else drop_stale
            if model is None or isinstance(model, (str, Path)):
                workers, threads = plan_workers(live=live_policy, on_cpu=runs_on_cpu(device), workers=workers,
                                                threads=threads)
                classifier: Classifier = OnnxClassifier(
                    default_model_path() if model is None else model,
                    device=device,
                    intra_op_threads=threads,
                    max_batch=batch_size,
                )
            else:
                # A built classifier has its threads already; split them only when asked.
                classifier = model
                workers = workers or 1
            self.pipeline = Pipeline(
                opened, classifier, drop_stale=drop_stale, batch_size=batch_size, queue_size=queue_size,
                workers=workers,
            )
        except BaseException:
            opened.close()
            raise
        self.source = opened
        self.classifier = classifier

    @property
    def labels(self) -> tuple[str, ...]:
        """The model's class labels."""
        return tuple(self.classifier.labels)

    @property
    def stats(self) -> PipelineStats:
        """Frames read, inferred, delivered and dropped, and the delivered FPS."""
        return self.pipeline.stats

    def start(self) -> Monitor:
        """Start the worker threads (done by ``with`` or the first iteration)."""
        self.pipeline.start()
        return self

    def close(self) -> None:
        """Stop the worker threads and close the source (idempotent)."""
        self.pipeline.close()

    def __enter__(self) -> Monitor:
        return self.start()

    def __iter__(self) -> Iterator[Result]:
        return iter(self.pipeline)


def class_ids_of(classifier: Classifier) -> tuple[str, ...]:
    """The classifier's class ids (``c0``, ``c1``, ...), or ``c<i>`` when it has none."""
    ids = getattr(classifier, "class_ids", None)
    return tuple(ids) if ids else tuple(f"c{i}" for i in range(len(classifier.labels)))


def resolve_class(spec: str | int, labels: Sequence[str], class_ids: Sequence[str]) -> int:
    """Turn a class given as an index, a class id or a label (any case) into its index.

    Raises:
        ValueError: ``spec`` names no class of the model; the message lists them.
    """
    text = str(spec).strip()
    if text.lstrip("-").isdigit() and 0 <= int(text) < len(labels):
        return int(text)
    for names in (class_ids, labels):
        lowered = [name.lower() for name in names]
        if text.lower() in lowered:
            return lowered.index(text.lower())
    choices = ", ".join(f"{i}={cid} ({label})" for i, (cid, label) in enumerate(zip(class_ids, labels)))
    raise ValueError(f"{spec!r} is not a class of this model; choose one of {choices}")


def prediction_record(result: Result, class_ids: Sequence[str], source: str | None = None) -> dict[str, Any]:
    """The JSON object logged for one frame.

    Keys: ``frame``, ``time_s``, ``class_index``, ``class_id``, ``label``,
    ``confidence``, ``probs`` (class id -> probability for every class, in the
    model's order), ``source`` (the frame's own source, e.g. the image path of
    a folder, else ``source``) and ``inference_ms``.
    """
    prediction = result.prediction
    index = prediction.class_index
    return {
        "frame": result.frame.index,
        "time_s": round(float(result.frame.time_s), 6),
        "class_index": index,
        "class_id": class_ids[index],
        "label": prediction.label,
        "confidence": round(prediction.confidence, 6),
        "probs": {cid: round(float(p), 6) for cid, p in zip(class_ids, prediction.probs)},
        "source": result.frame.source or source,
        "inference_ms": round(result.inference_ms, 3),
    }


class RunOutputs(Closing):
    """The annotated MP4 and the JSONL prediction log of one run.

    The log is opened at once (so an unwritable path fails before any work);
    the video too when ``width`` and ``height`` are known, else at the first
    frame (cameras and image folders tell their size only then). ``close``
    finalises both, so the MP4 is playable after an error or an interrupt.

    Args:
        video_path: MP4 to write, or None for no video.
        predictions_path: JSONL log to write, or None for no log.
        fps: nominal frame rate of the video.
        audio_from: input video whose audio track is copied into the MP4.
        width: frame width, when known in advance.
        height: frame height, when known in advance.
        fragmented: write the MP4 fragmented, playable after a crash (see :class:`Mp4Sink`).
    """

    def __init__(
        self,
        video_path: str | Path | None,
        predictions_path: str | Path | None,
        *,
        fps: float,
        audio_from: str | Path | None = None,
        width: int | None = None,
        height: int | None = None,
        fragmented: bool = False,
    ) -> None:
        from drivercam.sinks import PredictionLog

        self.video_path = video_path
        self.fps = fps
        self.audio_from = audio_from
        self.fragmented = fragmented
        self.written = 0
        self._stack = ExitStack()
        self._video: Any = None
        self._log: Any = None
        try:
            if predictions_path is not None:
                self._log = self._stack.enter_context(PredictionLog(predictions_path))
            if video_path is not None and width and height:
                self._open_video(width, height)
        except BaseException:
            self._stack.close()
            raise

    def _open_video(self, width: int, height: int) -> None:
        from drivercam.sinks import Mp4Sink

        assert self.video_path is not None
        self._video = self._stack.enter_context(
            Mp4Sink(self.video_path, width=width, height=height, fps=self.fps, audio_from=self.audio_from,
                    fragmented=self.fragmented)
        )

    def write(self, image: np.ndarray, time_s: float, record: dict[str, Any] | None = None) -> None:
        """Write one annotated frame (a frame of another size is letterboxed) and its record."""
        if self.video_path is not None:
            if self._video is None:
                self._open_video(image.shape[1], image.shape[0])
            self._video.write(image, time_s)
        if self._log is not None and record is not None:
            self._log.write(record)
        self.written += 1

    def close(self) -> None:
        """Finish the MP4 and the log (idempotent)."""
        self._stack.close()
