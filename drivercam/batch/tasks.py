"""The values that travel between the batch parent and its workers: small, picklable, no open files."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from drivercam.batch.plan import Chunk
from drivercam.batch.settings import EpisodeSettings
from drivercam.render.overlay import OverlayOptions
from drivercam.sources.span import VideoProbe

__all__ = ["ChunkResult", "ChunkTask", "ProbeResult", "RenderTask", "WorkerConfig"]


@dataclass(frozen=True)
class WorkerConfig:
    """How each worker loads its model.

    Attributes:
        model: the ONNX file (readable on every node).
        device: ONNX Runtime device (``auto``, ``cpu``, ``cuda``, ...).
        threads: ONNX Runtime intra-op threads per worker; None lets it decide.
    """

    model: str
    device: str = "auto"
    threads: int | None = 1

    def __post_init__(self) -> None:
        if self.threads is not None and (isinstance(self.threads, bool) or self.threads < 1):
            raise ValueError(f"threads must be an int >= 1 or None, got {self.threads!r}")


@dataclass(frozen=True)
class ProbeResult:
    key: str
    probe: VideoProbe | None
    error: str | None = None
    host: str = ""


@dataclass(frozen=True)
class ChunkTask:
    key: str
    probe: VideoProbe
    chunk: Chunk
    sample_fps: float | None = None


@dataclass(frozen=True)
class ChunkResult:
    """Raw predictions of frames ``chunk.first .. chunk.stop - 1``.

    Attributes:
        probs: (n, C) float32 raw class probabilities (held ones repeated).
        inference_ms: (n,) float32 milliseconds of the model run of each frame (0 for held frames).
        sampled: (n,) bool, True where the model ran on the frame itself.
        host: the node that did the work.
    """

    key: str
    chunk: Chunk
    probs: np.ndarray = field(repr=False)
    inference_ms: np.ndarray = field(repr=False)
    sampled: np.ndarray = field(repr=False)
    error: str | None = None
    host: str = ""
    pid: int = 0


@dataclass(frozen=True)
class RenderTask:
    """Annotate a whole video (MP4 and/or snapshots), writing into ``folder``."""

    key: str
    probe: VideoProbe
    folder: str
    video_name: str | None
    events_name: str
    snapshots: bool
    episodes: EpisodeSettings
    overlay: OverlayOptions
    sample_fps: float | None = None
