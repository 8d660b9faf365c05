"""The pipeline's settings, checked once when they are made."""

from __future__ import annotations

from dataclasses import dataclass


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class PipelineConfig:
    """How a :class:`~drivercam.pipeline.Pipeline` queues, batches and waits.

    Attributes:
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
            thread when the classifier is a ``PreparingClassifier``; False
            leaves all of the classifier's work to the inference thread.
        poll_s: how often blocked threads wake up to check the stop event.
        join_timeout_s: how long closing waits for all the threads together (a
            camera whose driver blocks a read adds a quarter of a second).
        result_timeout_s: how long iteration waits for one result before it
            gives up with a PipelineError; None waits as long as the worker
            threads are alive.
    """

    drop_stale: bool | None = None
    queue_size: int = 8
    batch_size: int = 1
    workers: int = 1
    fresh_frames: bool = True
    prepare_in_capture: bool = True
    poll_s: float = 0.05
    join_timeout_s: float = 0.5
    result_timeout_s: float | None = None

    def __post_init__(self) -> None:
        for name in ("queue_size", "batch_size", "workers"):
            value = getattr(self, name)
            if not _is_int(value) or value < 1:
                raise ValueError(f"{name} must be an int >= 1, got {value!r}")
        if not self.poll_s > 0:
            raise ValueError(f"poll_s must be > 0 seconds, got {self.poll_s!r}")
        if not self.join_timeout_s > 0:
            raise ValueError(f"join_timeout_s must be > 0 seconds, got {self.join_timeout_s!r}")
        if self.result_timeout_s is not None and not self.result_timeout_s > 0:
            raise ValueError(f"result_timeout_s must be > 0 seconds or None, got {self.result_timeout_s!r}")
