"""What travels down the pipeline's queues: frames, results, and the end or failure of the stream.

End of stream and failures travel down the same queues as the data, so order
holds: every frame read before a failure is delivered before the failure is
raised on the caller's thread.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from drivercam.types import Frame, Result


class _Eos:
    """End-of-stream marker; one instance, compared by identity."""

    def __repr__(self) -> str:
        return "EOS"


EOS = _Eos()


@dataclass(frozen=True)
class Failure:
    """An exception raised in a worker thread, on its way to the caller."""

    stage: str
    error: BaseException


@dataclass(frozen=True)
class Queued:
    """A frame on its way to inference.

    ``tensor`` is its model input when the capture thread prepared one;
    ``queued_at`` is when it entered the frames queue, on the pipeline's clock.
    """

    frame: Frame
    tensor: np.ndarray | None
    queued_at: float


@dataclass(frozen=True)
class Done:
    """Results of one batch; ``seq`` numbers its first frame in the order frames were taken."""

    seq: int
    results: list[Result]


@dataclass(frozen=True)
class End:
    """The stream ends (``failure`` None) or fails once ``seq`` frames have been delivered."""

    seq: int
    failure: Failure | None = None


FrameItem = Queued | _Eos | Failure
"""On the frames queue: a frame, or the end or failure of the stream."""

ResultItem = Done | End
"""On the results queue: a batch of results, or where the stream ends."""
