"""The few-lines Python API: open a source and a model, iterate predictions.

Example::

    from drivercam import Monitor

    with Monitor("clip.mp4", model="models/drivercam.onnx") as monitor:
        for result in monitor:
            print(result.frame.index, result.prediction.label, result.prediction.cams.shape)
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

from drivercam._closing import Closing
from drivercam.pipeline import Pipeline, PipelineStats, plan_workers
from drivercam.types import Classifier, FrameSource, Result, Roi

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
            decides (see :func:`drivercam.pipeline.workers.plan_workers`).
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
        roi: the region of each frame the model sees (the driver's), in pixels
            or fractions (:class:`~drivercam.types.Roi`); None: the whole
            frame. Results then carry the region's probabilities and CAMs;
            draw them with ``FrameRenderer(..., roi=monitor.roi)``.
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
        roi: Roi | str | None = None,
    ) -> None:
        # Imported here so `import drivercam` stays light (no onnxruntime, no PyAV).
        from drivercam.model import OnnxClassifier, default_model_path, runs_on_cpu
        from drivercam.model.roi import with_roi
        from drivercam.sources import open_source

        self.roi = Roi.parse(roi) if isinstance(roi, str) else roi

        if isinstance(source, (str, int, Path)):
            opened: FrameSource = open_source(
                str(source) if isinstance(source, Path) else source,
                width=width,
                height=height,
                fps=fps,
                live=live,
            )
        else:
            opened = source
        try:
            if self.roi is not None and opened.width and opened.height:
                self.roi.box(opened.width, opened.height)  # a region outside the frame fails before the model loads
            live_policy = bool(opened.is_live) if drop_stale is None else drop_stale
            if model is None or isinstance(model, (str, Path)):
                workers, threads = plan_workers(
                    live=live_policy, on_cpu=runs_on_cpu(device), workers=workers, threads=threads
                )
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
                opened,
                with_roi(classifier, self.roi),
                drop_stale=drop_stale,
                batch_size=batch_size,
                queue_size=queue_size,
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
    def class_ids(self) -> tuple[str, ...]:
        """The model's class ids (``c0``, ``c1``, ...)."""
        return tuple(self.classifier.class_ids)

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
