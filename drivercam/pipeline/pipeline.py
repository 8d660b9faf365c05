"""The :class:`Pipeline`: starts the capture and inference threads, hands results back in frame order."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator

import numpy as np

from drivercam._closing import Closing
from drivercam.errors import PipelineError, describe
from drivercam.pipeline.capture import capture_loop
from drivercam.pipeline.config import PipelineConfig
from drivercam.pipeline.inference import BatchRunner, BatchTaker, inference_loop
from drivercam.pipeline.messages import End, Failure, FrameItem, ResultItem
from drivercam.pipeline.reorder import Reorderer
from drivercam.pipeline.stats import (
    Clock,
    FpsMeter,
    IntervalMeter,
    PipelineStats,
    SharedCounter,
)
from drivercam.types import (
    Classifier,
    Frame,
    FramePreparingClassifier,
    FrameSource,
    InterruptibleSource,
    PreparingClassifier,
    Result,
)

logger = logging.getLogger(__name__)


class Pipeline(Closing):
    """Run a classifier over a frame source on a capture thread and one or more inference threads.

    Use as a context manager and iterate it::

        with Pipeline(source, classifier) as pipeline:
            for result in pipeline:
                ...

    Leaving the ``with`` block (also by ``break`` or an exception) sets the
    stop event, joins every thread with a timeout and closes the source.

    Args:
        source: an opened frame source; the pipeline owns it and closes it.
        classifier: a built classifier (e.g. ``OnnxClassifier``).
        config: queueing, batching and waiting settings; keyword arguments
            (``drop_stale=True``, ``workers=2``, ...) override its fields.
        clock: monotonic clock for the FPS meter and timings.
    """

    def __init__(
        self,
        source: FrameSource,
        classifier: Classifier,
        config: PipelineConfig | None = None,
        *,
        clock: Clock = time.monotonic,
        **settings: object,
    ) -> None:
        if settings:
            import dataclasses

            config = dataclasses.replace(config or PipelineConfig(), **settings)  # type: ignore[arg-type]
        config = config or PipelineConfig()
        self.config = config
        self.source = source
        self.classifier = classifier
        self.drop_stale = bool(source.is_live) if config.drop_stale is None else config.drop_stale
        self.batch_size = 1 if self.drop_stale else config.batch_size
        self.workers = 1 if self.drop_stale else config.workers
        self._clock = clock
        self._labels = tuple(classifier.labels)
        preparing = classifier if config.prepare_in_capture and isinstance(classifier, PreparingClassifier) else None
        self._prepare: Callable[[Frame], np.ndarray] | None = None
        if isinstance(preparing, FramePreparingClassifier):
            self._prepare = preparing.prepare_frame
        elif preparing is not None:
            prepare_image = preparing.prepare
            self._prepare = lambda frame: prepare_image(frame.image)

        self._frames: queue.Queue[FrameItem] = queue.Queue(maxsize=1 if self.drop_stale else config.queue_size)
        self._results: queue.Queue[ResultItem] = queue.Queue(maxsize=2 if self.drop_stale else config.queue_size)
        self._stop = threading.Event()
        self._read = SharedCounter()
        self._dropped = SharedCounter()
        self._inferred = SharedCounter()
        self._interval = IntervalMeter()  # the live source's frame interval
        self._taker = BatchTaker(
            self._frames,
            self._stop,
            batch_size=self.batch_size,
            fresh_frames=self.drop_stale and config.fresh_frames,
            interval=self._interval,
            dropped=self._dropped,
            clock=clock,
            poll_s=config.poll_s,
        )
        self._runner = BatchRunner(classifier, preparing, inferred=self._inferred, clock=clock)
        self._reorder = Reorderer()
        self._delivered = 0
        self._fps = FpsMeter(clock=clock)
        self._threads: list[threading.Thread] = []
        self._started = False
        self._finished = False
        self._closed = False

    # -- lifecycle -----------------------------------------------------------

    def start(self) -> Pipeline:
        """Start the capture and inference threads (idempotent)."""
        if self._closed:
            raise PipelineError("pipeline is closed; create a new one to run again")
        if self._started:
            return self
        self._started = True
        poll_s = self.config.poll_s
        capture = threading.Thread(
            target=capture_loop,
            name="drivercam-capture",
            daemon=True,
            args=(self.source, self._frames, self._stop),
            kwargs=dict(
                prepare=self._prepare,
                live=self.drop_stale,
                read=self._read,
                dropped=self._dropped,
                interval=self._interval,
                clock=self._clock,
                poll_s=poll_s,
            ),
        )
        names = (
            ["drivercam-inference"]
            if self.workers == 1
            else [f"drivercam-inference-{i}" for i in range(1, self.workers + 1)]
        )
        inference = [
            threading.Thread(
                target=inference_loop,
                name=name,
                daemon=True,
                args=(self._taker, self._runner, self._results, self._stop),
                kwargs=dict(shared=self.workers > 1, poll_s=poll_s),
            )
            for name in names
        ]
        self._threads = [capture, *inference]
        for thread in self._threads:
            thread.start()
        logger.debug(
            "pipeline started: policy=%s batch_size=%d workers=%d",
            "newest-frame" if self.drop_stale else "every-frame",
            self.batch_size,
            self.workers,
        )
        return self

    def close(self) -> None:
        """Stop the threads, join them and close the source, all within ``join_timeout_s`` (idempotent).

        The source is interrupted first (a camera's reconnect back-off, a
        paced file's wait for the next frame time end at once), the capture
        thread joined and the source closed as soon as that thread is out of
        it; the inference threads get what is left of the time.
        """
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        if isinstance(self.source, InterruptibleSource):
            self.source.interrupt()
        deadline = time.monotonic() + self.config.join_timeout_s
        capture = self._threads[0] if self._threads else None
        inference = self._threads[1:]
        if capture is not None:
            capture.join(timeout=max(0.0, deadline - time.monotonic()))
        if capture is not None and capture.is_alive():
            # Closing a source another thread is still reading from can crash
            # the decoder; leaking it (daemon thread) is the lesser evil.
            logger.warning(
                "the capture thread did not stop within %.1f s; source left open", self.config.join_timeout_s
            )
        else:
            self.source.close()
        stuck = []
        for thread in inference:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
            if thread.is_alive():
                stuck.append(thread.name)
        if stuck:
            logger.warning(
                "thread(s) %s did not stop within %.1f s; they end with their current batch",
                ", ".join(stuck),
                self.config.join_timeout_s,
            )

    def __enter__(self) -> Pipeline:
        return self.start()

    # -- results ------------------------------------------------------------

    def __iter__(self) -> Iterator[Result]:
        if not self._started:
            self.start()
        return self

    def __next__(self) -> Result:
        if self._finished or self._closed:
            raise StopIteration
        reorder = self._reorder
        while not reorder.has_ready:
            if reorder.ended:
                self._finished = True
                assert reorder.end is not None
                failure = reorder.end.failure
                if failure is not None:
                    raise PipelineError(f"{failure.stage} failed: {describe(failure.error)}") from failure.error
                raise StopIteration
            reorder.receive(self._get_result())
        self._delivered += 1
        self._fps.tick()
        return reorder.pop()

    def _get_result(self) -> ResultItem:
        poll_s = self.config.poll_s
        limit_s = self.config.result_timeout_s
        waited = 0.0
        while True:
            try:
                return self._results.get(timeout=poll_s)
            except queue.Empty:
                pass
            # seq 0: ends at once, whatever is still pending.
            if self._closed:
                return End(0)
            waited += poll_s
            if limit_s is not None and waited >= limit_s:
                return End(
                    0,
                    Failure(
                        "pipeline",
                        TimeoutError(f"no result within {limit_s:.1f} s; is the source stalled?"),
                    ),
                )
            if not any(thread.is_alive() for thread in self._threads) and self._results.empty():
                # Workers always send an End; this only guards a bug.
                return End(0, Failure("pipeline", RuntimeError("worker threads ended without a result")))

    @property
    def stats(self) -> PipelineStats:
        """Current counters (safe to read from any thread, meant for the caller's)."""
        inferred = self._inferred.value
        return PipelineStats(
            frames_read=self._read.value,
            frames_inferred=inferred,
            frames_delivered=self._delivered,
            dropped=self._dropped.value,
            fps=self._fps.fps,
            mean_inference_ms=1000.0 * self._runner.seconds / inferred if inferred else 0.0,
            inference_cpu_ms=1000.0 * self._runner.cpu_seconds / inferred if inferred else 0.0,
        )

    @property
    def labels(self) -> tuple[str, ...]:
        """The classifier's class labels."""
        return self._labels
