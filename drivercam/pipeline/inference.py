"""The inference threads' loop: take a batch of frames, run the classifier, put the results."""

from __future__ import annotations

import logging
import queue
import threading
import time

import numpy as np

from drivercam.pipeline.messages import (
    EOS,
    Done,
    End,
    Failure,
    FrameItem,
    Queued,
    ResultItem,
    _Eos,
)
from drivercam.pipeline.queues import put_until_stopped
from drivercam.pipeline.stats import Clock, IntervalMeter, SharedCounter
from drivercam.types import Classifier, Prediction, PreparingClassifier, Result

logger = logging.getLogger(__name__)

# Under the live policy, wait for the next frame until this many camera intervals
# after the waiting frame was queued (a little over one, for the camera's jitter).
FRESH_WAIT = 1.25


class BatchTaker:
    """Takes numbered batches off the frames queue for one or more inference threads.

    Taking a batch and numbering it is one step under a lock, so the numbers
    follow frame order whichever thread finishes first.

    Args:
        batch_size: frames per batch at most; a batch never waits for more
            frames than are already queued after its first.
        fresh_frames: apply the fresher-frame rule (live policy only).
        interval: the camera's frame interval, fed by the capture thread.
        dropped: counts frames swapped for a fresher one.
    """

    def __init__(
        self,
        frames: queue.Queue[FrameItem],
        stop: threading.Event,
        *,
        batch_size: int,
        fresh_frames: bool,
        interval: IntervalMeter,
        dropped: SharedCounter,
        clock: Clock,
        poll_s: float,
    ) -> None:
        self._frames = frames
        self._stop = stop
        self._batch_size = batch_size
        self._fresh_frames = fresh_frames
        self._interval = interval
        self._dropped = dropped
        self._clock = clock
        self._poll_s = poll_s
        self._lock = threading.Lock()
        self._taken = 0

    def take(self, *, leave_end: bool) -> tuple[int, list[Queued], _Eos | Failure | None]:
        """The next batch: ``(seq of its first frame, frames, end marker met or None)``.

        Args:
            leave_end: put an end marker back for the other inference threads.
        """
        with self._lock:
            seq = self._taken
            items, end = self._next_batch()
            self._taken += len(items)
            if end is not None and leave_end:
                # The capture thread has stopped, so there is room for the marker.
                self._frames.put_nowait(end)
        return seq, items, end

    def _next_batch(self) -> tuple[list[Queued], _Eos | Failure | None]:
        """Wait for one frame, then take up to ``batch_size - 1`` more already queued."""
        items: list[Queued] = []
        while len(items) < self._batch_size and not self._stop.is_set():
            try:
                # Block (waking to check the stop event) for the first frame only.
                item = self._frames.get(timeout=self._poll_s) if not items else self._frames.get_nowait()
            except queue.Empty:
                if items:
                    break
                continue
            if not isinstance(item, Queued):
                return items, item
            if self._fresh_frames:
                item, end = self._fresher(item)
                if end is not None:
                    return [item], end
            items.append(item)
        return items, None

    def _fresher(self, item: Queued) -> tuple[Queued, _Eos | Failure | None]:
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
        wait = item.queued_at + interval * FRESH_WAIT - self._clock()
        if wait <= 0 or wait > interval * (FRESH_WAIT - 0.5):
            return item, None  # too old (the camera stalled) or fresh enough
        try:
            newer = self._frames.get(timeout=wait)
        except queue.Empty:
            return item, None
        if isinstance(newer, Queued):
            self._dropped.add()
            return newer, None
        return item, newer


class BatchRunner:
    """Runs a batch of queued frames through the classifier and builds their results.

    Args:
        preparing: the classifier, when frames arrive already prepared by the
            capture thread; None runs ``classifier`` on the raw frames.
        inferred: counts frames run.
    """

    def __init__(
        self,
        classifier: Classifier,
        preparing: PreparingClassifier | None,
        *,
        inferred: SharedCounter,
        clock: Clock,
    ) -> None:
        self._classifier = classifier
        self._preparing = preparing
        self._labels = tuple(classifier.labels)
        self._inferred = inferred
        self._clock = clock
        self._lock = threading.Lock()
        self._seconds = 0.0
        self._cpu_seconds = 0.0

    @property
    def seconds(self) -> float:
        """Classifier time so far, summed over the inference threads."""
        with self._lock:
            return self._seconds

    @property
    def cpu_seconds(self) -> float:
        """CPU time the inference threads spent in the classifier (their own threads' time)."""
        with self._lock:
            return self._cpu_seconds

    def __call__(self, items: list[Queued]) -> list[Result]:
        frames = [item.frame for item in items]
        cpu_start = time.thread_time()
        start = self._clock()
        if self._preparing is not None:
            tensors = [item.tensor for item in items if item.tensor is not None]
            batch = tensors[0][None] if len(tensors) == 1 else np.stack(tensors)
            probs, cams = self._preparing.run_batch(batch)
        else:
            probs, cams = self._classifier([frame.image for frame in frames])
        elapsed_s = self._clock() - start
        cpu_s = time.thread_time() - cpu_start
        probs = np.asarray(probs)
        cams = np.asarray(cams)
        n, c = len(frames), len(self._labels)
        if probs.shape != (n, c) or cams.ndim != 4 or cams.shape[:2] != (n, c):
            raise ValueError(
                f"classifier returned probs {probs.shape} and cams {cams.shape} for {n} frame(s) "
                f"and {c} labels; expected probs ({n}, {c}) and cams ({n}, {c}, h, w)"
            )
        self._inferred.add(n)
        with self._lock:
            self._seconds += elapsed_s
            self._cpu_seconds += cpu_s
        per_frame_ms = 1000.0 * elapsed_s / n
        return [
            Result(
                frame=frame,
                prediction=Prediction(probs=probs[i], cams=cams[i], labels=self._labels),
                inference_ms=per_frame_ms,
            )
            for i, frame in enumerate(frames)
        ]


def inference_loop(
    taker: BatchTaker,
    run: BatchRunner,
    results: queue.Queue[ResultItem],
    stop: threading.Event,
    *,
    shared: bool,
    poll_s: float,
) -> None:
    """Run batches until the stream ends, ``stop`` is set, or something fails; always end with :class:`End`.

    Args:
        shared: other inference threads take from the same queue (leave them
            the end marker).
    """
    seq = 0
    try:
        while not stop.is_set():
            seq, items, end = taker.take(leave_end=shared)
            if items and not put_until_stopped(results, Done(seq, run(items)), stop, poll_s):
                return
            if end is not None:
                failure = end if isinstance(end, Failure) else None
                put_until_stopped(results, End(seq + len(items), failure), stop, poll_s)
                return
    except BaseException as error:
        logger.debug("inference thread failed", exc_info=True)
        put_until_stopped(results, End(seq, Failure("inference", error)), stop, poll_s)


__all__ = ["EOS", "FRESH_WAIT", "BatchRunner", "BatchTaker", "inference_loop"]
