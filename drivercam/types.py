"""Value objects passed between stages, and the protocols that sources and classifiers satisfy."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np


@dataclass(frozen=True)
class Frame:
    """One decoded frame.

    Attributes:
        index: 0-based position in the source (counts dropped frames too).
        image: BGR uint8 array of shape (H, W, 3), as OpenCV delivers it.
        time_s: presentation time in seconds from the start of the source.
        source: where the frame came from (image path for folders), if known.
        captured_at: ``time.monotonic()`` when the frame was read, for latency.
    """

    index: int
    image: np.ndarray
    time_s: float
    source: str | None = None
    captured_at: float = 0.0

    def __post_init__(self) -> None:
        if self.image.ndim != 3 or self.image.shape[2] != 3 or self.image.dtype != np.uint8:
            raise ValueError(f"frame image must be uint8 (H, W, 3) BGR, got {self.image.dtype} {self.image.shape}")


@dataclass(frozen=True)
class Prediction:
    """Class scores for one frame, with the CAMs of every class.

    Attributes:
        probs: (C,) float32 class probabilities.
        cams: (C, h, w) float32 raw class activation maps (model resolution).
        labels: human-readable class labels, ``len(labels) == C``.
    """

    probs: np.ndarray
    cams: np.ndarray
    labels: tuple[str, ...] = field(repr=False)

    @property
    def class_index(self) -> int:
        return int(np.argmax(self.probs))

    @property
    def label(self) -> str:
        return self.labels[self.class_index]

    @property
    def confidence(self) -> float:
        return float(self.probs[self.class_index])


@dataclass(frozen=True)
class Result:
    """A prediction together with the frame it was computed on."""

    frame: Frame
    prediction: Prediction
    inference_ms: float


@runtime_checkable
class Classifier(Protocol):
    """Anything that maps BGR frames to (probs (N, C), cams (N, C, h, w)).

    ``labels`` are the C human-readable class names, ``class_ids`` the C short
    ids (``c0``, ``c1``, ...) that prediction logs and event logs use.
    """

    @property
    def labels(self) -> tuple[str, ...]: ...

    @property
    def class_ids(self) -> tuple[str, ...]: ...

    def __call__(self, images: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]: ...


@runtime_checkable
class PreparingClassifier(Classifier, Protocol):
    """A classifier whose resizing can run apart from the model, on another thread.

    ``run_batch(np.stack([prepare(image) for image in images]))`` must equal
    ``classifier(images)``. The pipeline prepares frames on its capture thread
    so the inference thread does nothing but run the model.
    """

    def prepare(self, image: np.ndarray) -> np.ndarray: ...

    def run_batch(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...


@runtime_checkable
class FrameSource(Protocol):
    """A source of frames. ``read`` returns None at the end of the stream.

    Attributes:
        is_live: a camera or stream (keep only the newest frame) rather than a
            file (keep every frame).
        fps: nominal frame rate; 0.0 when unknown.
        frame_count: frames in the source when known in advance (files), else None.
        width, height: frame size when known before the first frame, else None.
        audio_path: a file whose audio track belongs with these frames (an
            annotated copy keeps it), or None.
        error: a problem recorded instead of raised: a damaged file is read as
            far as it decodes, ``read`` then returns None and ``error`` says
            what happened. None when the stream ended normally.
    """

    @property
    def is_live(self) -> bool: ...

    @property
    def fps(self) -> float: ...

    @property
    def frame_count(self) -> int | None: ...

    @property
    def width(self) -> int | None: ...

    @property
    def height(self) -> int | None: ...

    @property
    def audio_path(self) -> str | None: ...

    @property
    def error(self) -> str | None: ...

    def read(self) -> Frame | None: ...

    def close(self) -> None: ...


@runtime_checkable
class InterruptibleSource(FrameSource, Protocol):
    """A source whose ``read`` can wait (a camera reconnecting, real-time pacing).

    ``interrupt()`` may be called from any thread; a ``read`` in progress or
    to come returns None promptly (well under a second) instead of waiting.
    The pipeline calls it before joining its capture thread.
    """

    def interrupt(self) -> None: ...
