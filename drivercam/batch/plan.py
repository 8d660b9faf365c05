"""Cutting a video into time chunks, and which frames ``--sample-fps`` runs the model on.

A chunk's raw predictions do not depend on any other chunk: smoothing and
episodes run afterwards over the stitched video (:mod:`drivercam.batch.finish`).
The only history a chunk needs is for ``--sample-fps``: a frame that is not
sampled holds the last sampled prediction, which may lie before the chunk, so a
chunk decodes from the first frame of the sampling period its first frame is
in (``warm``), at most ``1 / sample_fps`` seconds earlier.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["DEFAULT_CHUNK_S", "Chunk", "plan_chunks", "sample_mask"]

DEFAULT_CHUNK_S = 300.0
"""Videos longer than this many seconds are cut into chunks of it."""

# Frame times such as i / 15 are not exact in binary: a frame exactly on a
# sampling-period boundary must land in the same period whoever computes it.
_EPS = 1e-9


@dataclass(frozen=True)
class Chunk:
    """Frames ``first .. stop - 1`` of a video; decoding starts at ``warm <= first``.

    Attributes:
        index: 0-based position of the chunk in its video.
    """

    index: int
    first: int
    stop: int
    warm: int

    def __post_init__(self) -> None:
        if not 0 <= self.warm <= self.first < self.stop:
            raise ValueError(f"chunk needs 0 <= warm <= first < stop, got {self!r}")


def _periods(times_s: np.ndarray, sample_fps: float) -> np.ndarray:
    return np.floor(np.asarray(times_s, dtype=np.float64) * sample_fps + _EPS).astype(np.int64)


def sample_mask(times_s: np.ndarray, sample_fps: float | None) -> np.ndarray:
    """Which frames the model runs on: all of them, or the first frame of each ``1 / sample_fps`` period.

    The first frame given is always sampled; give a chunk's frames from its
    ``warm`` frame on and the mask equals the whole video's mask there.
    """
    n = len(times_s)
    if sample_fps is None:
        return np.ones(n, dtype=bool)
    periods = _periods(times_s, sample_fps)
    mask = np.ones(n, dtype=bool)
    mask[1:] = periods[1:] != periods[:-1]
    return mask


def plan_chunks(times_s: np.ndarray, chunk_s: float, sample_fps: float | None = None) -> list[Chunk]:
    """Cut frames with ascending ``times_s`` into chunks of ``chunk_s`` seconds of video.

    Args:
        times_s: (N,) frame times, ascending.
        chunk_s: chunk length in seconds (> 0); a video no longer than it is one chunk.
        sample_fps: ``--sample-fps``, which sets each chunk's warm-up frame; None: every frame.
    """
    if not (isinstance(chunk_s, (int, float)) and math.isfinite(chunk_s) and chunk_s > 0):
        raise ValueError(f"chunk_s must be a positive number of seconds, got {chunk_s!r}")
    if sample_fps is not None and not (math.isfinite(sample_fps) and sample_fps > 0):
        raise ValueError(f"sample_fps must be a positive frame rate, got {sample_fps!r}")
    times = np.asarray(times_s, dtype=np.float64)
    n = len(times)
    if n == 0:
        return []
    start = float(times[0])
    count = max(1, math.ceil((float(times[-1]) - start) / chunk_s + _EPS))
    bounds = [int(np.searchsorted(times, start + k * chunk_s - _EPS, side="left")) for k in range(count)] + [n]
    bounds[0] = 0
    periods = None if sample_fps is None else _periods(times, sample_fps)
    chunks: list[Chunk] = []
    for first, stop in zip(bounds, bounds[1:]):
        if stop <= first:
            continue
        warm = first
        if periods is not None:
            warm = int(np.searchsorted(periods, periods[first], side="left"))
        chunks.append(Chunk(len(chunks), first, stop, warm))
    return chunks
