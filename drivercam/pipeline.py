"""Capture thread -> frames queue -> inference thread -> results queue -> caller.

This is the only module that owns threads and queues. The source is opened and
the classifier built *before* any thread starts (a missing camera or a broken
model fails at once, on the caller's thread). Two worker threads then run:

* the capture thread reads frames from the source into the frames queue and,
  when the classifier can (:class:`~drivercam.types.PreparingClassifier`),
  resizes each one into a model input there, so that work overlaps inference;
* the inference thread batches queued frames through the classifier and puts
  :class:`~drivercam.types.Result` objects on the results queue. Under the
  file policy there may be several inference threads (``workers``), each
  running one batch at a time: on a CPU, two single-threaded model runs side by
  side use the cores better than one run split across them. Batches are
  numbered as they are taken, and the caller's side puts results back in
  frame order.

The caller (normally the main thread, which also renders and writes files)
iterates the pipeline to receive results.

Two queue policies, chosen by ``source.is_live`` unless overridden:

* **live** (``drop_stale=True``): the frames queue holds one frame; the capture
  thread replaces a frame the inference thread has not taken yet and counts it
  as dropped, so inference always works on the newest frame;
* **file** (``drop_stale=False``): a bounded frames queue with a blocking put;
  a slow consumer slows the reader down (back-pressure), no frame is dropped
  and order is kept.

End of stream (``_EOS``) and failures (``_Failure(stage, error)``) travel down
the same queues as the data (on the results queue as ``_End``, numbered like
the frames), so every frame read before a failure is delivered
before the failure is re-raised on the caller's thread as
:class:`~drivercam.errors.PipelineError` with the original as ``__cause__``.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from drivercam._closing import Closing
from drivercam.errors import PipelineError, SourceError, describe
from drivercam.throughput import Clock, Counter, FpsMeter, IntervalMeter, PipelineStats
from drivercam.types import Classifier, Frame, FrameSource, Prediction, PreparingClassifier, Result

logger = logging.getLogger(__name__)


class _Eos:
    """End-of-stream marker; one instance, compared by identity."""

    def __repr__(self) -> str:
        return "_EOS"


_EOS = _Eos()


@dataclass(frozen=True)
class _Failure:
    """An exception raised in a worker thread, on its way to the caller."""

    stage: str
    error: BaseException


@dataclass(frozen=True)
class _Queued:
    """A frame on its way to inference.

    ``tensor`` is its model input when the capture thread prepared one;
    ``queued_at`` is when it entered the frames queue, on the pipeline's clock.
    """

    frame: Frame
    tensor: np.ndarray | None
    queued_at: float


@dataclass(frozen=True)
class _Done:
    """Results of one batch; ``seq`` numbers its first frame in the order frames were taken."""

    seq: int
    results: list[Result]


@dataclass(frozen=True)
class _End:
    """The stream ends (``failure`` None) or fails once ``seq`` frames have been delivered."""

    seq: int
    failure: _Failure | None = None


_Item = _Queued | _Eos | _Failure | _Done | _End

# Under the live policy, wait for the next frame until this many camera intervals
# after the waiting frame was queued (a little over one, for the camera's jitter).
_FRESH_WAIT = 1.25


class Pipeline(Closing):
    """Run a classifier over a frame source on two worker threads.

    Use as a context manager and iterate it::

        with Pipeline(source, classifier) as pipeline:
            for result in pipeline:
                ...

    Leaving the ``with`` block (also by ``break`` or an exception) sets the
    stop event, joins both threads with a timeout and closes the source.

    Args:
        source: an opened frame source; the pipeline owns it and closes it.
        classifier: a built classifier (e.g. ``OnnxClassifier``).
        drop_stale: keep only the newest frame (live policy) when True, block
            and keep every frame (file policy) when False; None follows
            ``source.is_live``.
        queue_size: capacity of the frames and results queues under the file
            policy (the live policy always uses a frames queue of one).
        batch_size: under the file policy, run up to this many already-queued
            frames through the classifier in one call. Under the live policy
            frames are always inferred one at a time.
        workers: inference threads under the file policy, each running its own
            batches (results still come out in frame order). The classifier
            must allow concurrent calls, as ONNX Runtime sessions do. The live
            policy always uses one, so the newest frame is never held back.
        fresh_frames: under the live policy, when the waiting frame is older
            than half a camera interval, wait for the next one instead (frames
            reach the screen younger, at a few percent of throughput).
        prepare_in_capture: resize frames into model inputs on the capture
            thread when the classifier is a ``PreparingClassifier`` (default);
            False leaves all of the classifier's work to the inference thread.
        poll_s: how often blocked threads wake up to check the stop event.
        join_timeout_s: how long closing waits for each thread.
        result_timeout_s: how long iteration waits for one result before it
            gives up with a PipelineError; None waits as long as the worker
            threads are alive.
        clock: monotonic clock for the FPS meter and timings.
    """

    def __init__(
        self,
        source: FrameSource,
        classifier: Classifier,
        *,
        drop_stale: bool | None = None,
        queue_size: int = 8,
        batch_size: int = 1,
        workers: int = 1,
        fresh_frames: bool = True,
        prepare_in_capture: bool = True,
        poll_s: float = 0.05,
        join_timeout_s: float = 5.0,
        result_timeout_s: float | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        if queue_size < 1:
            raise ValueError(f"queue_size must be >= 1, got {queue_size!r}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size!r}")
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ValueError(f"workers must be an int >= 1, got {workers!r}")
        if poll_s <= 0:
            raise ValueError(f"poll_s must be > 0 seconds, got {poll_s!r}")
        if join_timeout_s <= 0:
            raise ValueError(f"join_timeout_s must be > 0 seconds, got {join_timeout_s!r}")
        if result_timeout_s is not None and result_timeout_s <= 0:
            raise ValueError(f"result_timeout_s must be > 0 seconds or None, got {result_timeout_s!r}")
        self.source = source
        self.classifier = classifier
        self.drop_stale = bool(source.is_live) if drop_stale is None else drop_stale
        self.batch_size = 1 if self.drop_stale else batch_size
        self.workers = 1 if self.drop_stale else workers
        self.fresh_frames = fresh_frames
        self._poll_s = poll_s
        self._join_timeout_s = join_timeout_s
        self._result_timeout_s = result_timeout_s
        self._clock = clock
        self._labels = tuple(classifier.labels)
        self._preparing: PreparingClassifier | None = (
            classifier if prepare_in_capture and isinstance(classifier, PreparingClassifier) else None
        )

        frames_size = 1 if self.drop_stale else queue_size
        results_size = 2 if self.drop_stale else queue_size
        self._frames: queue.Queue[_Item] = queue.Queue(maxsize=frames_size)
        self._results: queue.Queue[_Item] = queue.Queue(maxsize=results_size)
        self._stop = threading.Event()

        self._read = Counter()
        self._inferred = Counter()
        self._dropped = Counter()
        self._delivered = 0
        self._interval = IntervalMeter()  # the live source's frame interval
        self._take_lock = threading.Lock()  # taking a batch and numbering it is one step
        self._taken = 0  # frames taken by the inference threads so far
        self._pending: dict[int, list[Result]] = {}  # batches done out of order, by seq
        self._ready: deque[Result] = deque()
        self._end: _End | None = None
        self._inference_s = 0.0
        self._inference_lock = threading.Lock()
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
        names = ["drivercam-inference"] if self.workers == 1 else [
            f"drivercam-inference-{i}" for i in range(1, self.workers + 1)
        ]
        self._threads = [
            threading.Thread(target=self._capture_loop, name="drivercam-capture", daemon=True),
            *(threading.Thread(target=self._inference_loop, name=name, daemon=True) for name in names),
        ]
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
        """Stop both threads, join them with a timeout and close the source (idempotent)."""
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        stuck = []
        for thread in self._threads:
            thread.join(timeout=self._join_timeout_s)
            if thread.is_alive():
                stuck.append(thread.name)
        if stuck:
            # Closing a source another thread is still reading from can crash
            # the decoder; leaking it (daemon thread) is the lesser evil.
            logger.warning(
                "thread(s) %s did not stop within %.1f s; source left open",
                ", ".join(stuck),
                self._join_timeout_s,
            )
            return
        self.source.close()

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
        while not self._ready:
            end = self._end
            if end is not None and self._delivered >= end.seq:
                self._finished = True
                if end.failure is not None:
                    failure = end.failure
                    raise PipelineError(f"{failure.stage} failed: {describe(failure.error)}") from failure.error
                raise StopIteration
            self._receive(self._get_result())
        self._delivered += 1
        self._fps.tick()
        return self._ready.popleft()

    def _receive(self, item: _Done | _End) -> None:
        """File a batch's results, releasing those now in frame order, or note where the stream ends."""
        if isinstance(item, _End):
            if self._end is None or item.seq < self._end.seq:
                self._end = item
            return
        self._pending[item.seq] = item.results
        expected = self._delivered + len(self._ready)
        while expected in self._pending:
            batch = self._pending.pop(expected)
            self._ready.extend(batch)
            expected += len(batch)

    def _get_result(self) -> _Done | _End:
        waited = 0.0
        while True:
            try:
                item = self._results.get(timeout=self._poll_s)
                assert isinstance(item, (_Done, _End))
                return item
            except queue.Empty:
                pass
            # seq 0: ends at once, whatever is still pending.
            if self._closed:
                return _End(0)
            waited += self._poll_s
            if self._result_timeout_s is not None and waited >= self._result_timeout_s:
                return _End(0, _Failure(
                    "pipeline",
                    TimeoutError(f"no result within {self._result_timeout_s:.1f} s; is the source stalled?"),
                ))
            if not any(thread.is_alive() for thread in self._threads) and self._results.empty():
                # Workers always send an _End; this only guards a bug.
                return _End(0, _Failure("pipeline", RuntimeError("worker threads ended without a result")))

    @property
    def stats(self) -> PipelineStats:
        """Current counters (safe to read from any thread, meant for the caller's)."""
        inferred = self._inferred.value
        with self._inference_lock:
            inference_s = self._inference_s
        return PipelineStats(
            frames_read=self._read.value,
            frames_inferred=inferred,
            frames_delivered=self._delivered,
            dropped=self._dropped.value,
            fps=self._fps.fps,
            mean_inference_ms=1000.0 * inference_s / inferred if inferred else 0.0,
        )

    @property
    def labels(self) -> tuple[str, ...]:
        """The classifier's class labels."""
        return self._labels

    # -- worker threads -------------------------------------------------------

    def _put(self, q: queue.Queue[_Item], item: _Item) -> bool:
        """Blocking put that gives up when the stop event is set."""
        while not self._stop.is_set():
            try:
                q.put(item, timeout=self._poll_s)
                return True
            except queue.Full:
                continue
        return False

    def _put_newest(self, item: _Queued) -> bool:
        """Put a frame, replacing (and counting) a stale one the consumer has not taken."""
        # Only the capture thread puts frames, so between taking the stale
        # frame out and putting the new one in nobody else can fill the slot.
        try:
            self._frames.put_nowait(item)
            return True
        except queue.Full:
            pass
        try:
            stale = self._frames.get_nowait()
        except queue.Empty:
            stale = None
        if isinstance(stale, _Queued):
            self._dropped.add()
        return self._put(self._frames, item)

    def _capture_loop(self) -> None:
        try:
            while not self._stop.is_set():
                frame = self.source.read()
                if frame is None:
                    problem = _recorded_problem(self.source)
                    self._put(self._frames, _EOS if problem is None else _Failure("capture", problem))
                    return
                self._read.add()
                tensor = None if self._preparing is None else self._preparing.prepare(frame.image)
                item = _Queued(frame, tensor, self._clock())
                if self.drop_stale:
                    self._interval.add(item.queued_at)
                delivered = self._put_newest(item) if self.drop_stale else self._put(self._frames, item)
                if not delivered:
                    return
        except BaseException as error:  # noqa: BLE001 - every failure must reach the caller
            logger.debug("capture thread failed", exc_info=True)
            self._put(self._frames, _Failure("capture", error))

    def _next_batch(self) -> tuple[list[_Queued], _Eos | _Failure | None]:
        """Wait for one frame, then take up to ``batch_size - 1`` more already queued."""
        items: list[_Queued] = []
        while len(items) < self.batch_size and not self._stop.is_set():
            try:
                # Block (waking to check the stop event) for the first frame only.
                item = self._frames.get(timeout=self._poll_s) if not items else self._frames.get_nowait()
            except queue.Empty:
                if items:
                    break
                continue
            if isinstance(item, (_Eos, _Failure)):
                return items, item
            assert isinstance(item, _Queued)
            if self.drop_stale and self.fresh_frames:
                item, end = self._fresher(item)
                if end is not None:
                    return [item], end
            items.append(item)
        return items, None

    def _fresher(self, item: _Queued) -> tuple[_Queued, _Eos | _Failure | None]:
        """Under the live policy, swap a frame for the next one when that is due soon.

        A model slower than the camera finds a frame that has waited up to one
        camera interval. When the waiting frame is older than half an interval,
        the next is due within the other half: waiting that long for it
        instead keeps a frame's age at inference start under half an interval,
        at the cost of an eighth of an interval of idle time per frame on average.
        """
        interval = self._interval.value
        if interval is None:
            return item, None
        wait = item.queued_at + interval * _FRESH_WAIT - self._clock()
        if wait <= 0 or wait > interval * (_FRESH_WAIT - 0.5):
            return item, None  # too old (the camera stalled) or fresh enough
        try:
            newer = self._frames.get(timeout=wait)
        except queue.Empty:
            return item, None
        if isinstance(newer, _Queued):
            self._dropped.add()
            return newer, None
        assert isinstance(newer, (_Eos, _Failure))
        return item, newer

    def _inference_loop(self) -> None:
        seq = 0
        try:
            while not self._stop.is_set():
                with self._take_lock:
                    seq = self._taken
                    items, end = self._next_batch()
                    self._taken += len(items)
                    if end is not None and self.workers > 1:
                        # Leave the marker for the other inference threads. The
                        # capture thread has stopped, so there is room for it.
                        self._frames.put_nowait(end)
                if items and not self._put(self._results, _Done(seq, self._infer(items))):
                    return
                if end is not None:
                    failure = end if isinstance(end, _Failure) else None
                    self._put(self._results, _End(seq + len(items), failure))
                    return
        except BaseException as error:  # noqa: BLE001 - every failure must reach the caller
            logger.debug("inference thread failed", exc_info=True)
            self._put(self._results, _End(seq, _Failure("inference", error)))

    def _infer(self, items: list[_Queued]) -> list[Result]:
        frames = [item.frame for item in items]
        start = self._clock()
        if self._preparing is not None:
            tensors = [item.tensor for item in items if item.tensor is not None]
            batch = tensors[0][None] if len(tensors) == 1 else np.stack(tensors)
            probs, cams = self._preparing.run_batch(batch)
        else:
            probs, cams = self.classifier([frame.image for frame in frames])
        elapsed_s = self._clock() - start
        probs = np.asarray(probs)
        cams = np.asarray(cams)
        n, c = len(frames), len(self._labels)
        if probs.shape != (n, c) or cams.ndim != 4 or cams.shape[:2] != (n, c):
            raise ValueError(
                f"classifier returned probs {probs.shape} and cams {cams.shape} for {n} frame(s) "
                f"and {c} labels; expected probs ({n}, {c}) and cams ({n}, {c}, h, w)"
            )
        self._inferred.add(n)
        with self._inference_lock:
            self._inference_s += elapsed_s
        per_frame_ms = 1000.0 * elapsed_s / n
        return [
            Result(frame=frame, prediction=Prediction(probs=probs[i], cams=cams[i], labels=self._labels),
                   inference_ms=per_frame_ms)
            for i, frame in enumerate(frames)
        ]


def _recorded_problem(source: FrameSource) -> BaseException | None:
    """A decode problem the source recorded instead of raising (e.g. a truncated file).

    Sources that yield every decodable frame of a damaged file and then end
    normally keep the problem in an ``error`` attribute; it is turned into a
    failure after the last frame so the caller hears about it.
    """
    problem = getattr(source, "error", None)
    if problem is None or problem == "":
        return None
    if isinstance(problem, BaseException):
        return problem
    return SourceError(str(problem))


__all__ = ["FpsMeter", "Pipeline", "PipelineStats"]
