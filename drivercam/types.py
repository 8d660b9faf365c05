"""Value objects passed between stages, and the protocols that sources and classifiers satisfy."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from drivercam.picture import I420, Picture


class Frame:
    """One decoded frame.

    Attributes:
        index: 0-based position in the source (counts dropped frames too).
        image: BGR uint8 array of shape (H, W, 3), as OpenCV delivers it. For a
            frame decoded from video (``yuv`` set) it is converted on first use.
        time_s: presentation time in seconds from the start of the source.
        source: where the frame came from (image path for folders), if known.
        captured_at: ``time.monotonic()`` when the frame was read, for latency.
        yuv: the decoder's own picture (:class:`I420`), when the source kept it:
            the renderer then draws on it and the encoder takes it as it is,
            with no full-frame conversion to BGR and back. None for cameras and images.

    Frames are immutable (as far as Python lets them be): sources build them,
    every later stage only reads them.
    """

    __slots__ = ("_image", "captured_at", "index", "source", "time_s", "yuv")

    _image: np.ndarray | None
    index: int
    time_s: float
    source: str | None
    captured_at: float
    yuv: I420 | None

    def __init__(
        self,
        index: int,
        image: np.ndarray | None,
        time_s: float,
        source: str | None = None,
        captured_at: float = 0.0,
        *,
        yuv: I420 | None = None,
    ) -> None:
        if image is None:
            if yuv is None:
                raise ValueError("a frame needs its BGR image or its I420 picture (yuv)")
        elif image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(f"frame image must be uint8 (H, W, 3) BGR, got {image.dtype} {image.shape}")
        if yuv is not None and not isinstance(yuv, I420):
            raise TypeError(f"yuv must be an I420 picture or None, got {type(yuv).__name__}")
        setter = object.__setattr__
        setter(self, "index", index)
        setter(self, "_image", image)
        setter(self, "time_s", time_s)
        setter(self, "source", source)
        setter(self, "captured_at", captured_at)
        setter(self, "yuv", yuv)

    @property
    def image(self) -> np.ndarray:
        """The frame as BGR uint8 (H, W, 3); converted from ``yuv`` (once) when the source kept only that."""
        image: np.ndarray | None = self._image
        if image is None:
            assert self.yuv is not None
            image = self.yuv.to_bgr()
            object.__setattr__(self, "_image", image)  # a race only converts twice, to the same picture
        return image

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(height, width, 3)``, known without converting anything."""
        if self._image is not None:
            h, w = self._image.shape[:2]
            return h, w, 3
        assert self.yuv is not None
        return self.yuv.shape

    @property
    def picture(self) -> Picture:
        """What the renderer draws on: ``yuv`` when the source kept it, else ``image``."""
        return self.yuv if self.yuv is not None else self.image

    def replace(self, **changes: Any) -> Frame:
        """A copy with some attributes changed (``captured_at=...``); the pictures are shared, not copied."""
        values: dict[str, Any] = {
            "index": self.index,
            "image": self._image,
            "time_s": self.time_s,
            "source": self.source,
            "captured_at": self.captured_at,
            "yuv": self.yuv,
        }
        unknown = set(changes) - set(values)
        if unknown:
            raise TypeError(f"Frame has no attribute(s) {', '.join(sorted(unknown))}")
        values.update(changes)
        yuv = values.pop("yuv")
        return Frame(**values, yuv=yuv)

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickling and copying rebuild through __init__ (assignment is refused).
        return (_frame, (self.index, self._image, self.time_s, self.source, self.captured_at, self.yuv))

    def __setattr__(self, name: str, value: object) -> None:
        raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")

    def __repr__(self) -> str:
        h, w, _ = self.shape
        kind = "I420" if self.yuv is not None else "BGR"
        return (
            f"Frame(index={self.index}, {w}x{h} {kind}, time_s={self.time_s!r}, source={self.source!r}, "
            f"captured_at={self.captured_at!r})"
        )


def _frame(
    index: int, image: np.ndarray | None, time_s: float, source: str | None, captured_at: float, yuv: I420 | None
) -> Frame:
    return Frame(index, image, time_s, source, captured_at, yuv=yuv)


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
class FramePreparingClassifier(PreparingClassifier, Protocol):
    """A preparing classifier that makes a model input from a whole :class:`Frame`.

    ``prepare_frame`` may use the frame's I420 picture instead of its BGR
    image (no full-size BGR conversion); the pipeline prefers it to ``prepare``.
    """

    def prepare_frame(self, frame: Frame) -> np.ndarray: ...


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


@dataclass(frozen=True)
class Roi:
    """A region of interest: the part of each frame the model sees (the driver's).

    Either pixels (``fractions`` False: ints, from the frame's top-left corner)
    or fractions of the frame's width and height (``fractions`` True: numbers
    in [0, 1]), so one region fits every frame size.

    Attributes:
        x, y: the region's top-left corner.
        width, height: its size (> 0).
        fractions: whether the four numbers are fractions of the frame.
    """

    x: float
    y: float
    width: float
    height: float
    fractions: bool = False

    def __post_init__(self) -> None:
        values = (self.x, self.y, self.width, self.height)
        if any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in values):
            raise TypeError(f"ROI values must be numbers, got {values!r}")
        if not all(np.isfinite(v) for v in values) or min(self.x, self.y) < 0:
            raise ValueError(f"ROI x and y must be finite numbers >= 0, got {values!r}")
        if not (self.width > 0 and self.height > 0):
            raise ValueError(f"ROI width and height must be > 0, got {self.width!r} and {self.height!r}")
        if self.fractions and (self.x + self.width > 1 + 1e-9 or self.y + self.height > 1 + 1e-9):
            raise ValueError(
                f"a ROI in fractions must lie inside the frame (x + w <= 1 and y + h <= 1), got {values!r}"
            )
        if not self.fractions and not all(float(v).is_integer() for v in values):
            raise ValueError(f"a ROI in pixels takes whole numbers, got {values!r}; or give fractions in [0, 1]")

    @classmethod
    def parse(cls, text: str) -> Roi:
        """``"x,y,w,h"`` in pixels (``"160,0,480,480"``) or, when all four are <= 1, fractions (``"0.25,0,0.5,1"``).

        Raises:
            ValueError: not four numbers, or they make no region.
        """
        parts = [p.strip() for p in str(text).split(",")]
        try:
            values = [float(p) for p in parts]
        except ValueError:
            values = []
        if len(values) != 4:
            raise ValueError(f"a ROI is four numbers x,y,w,h (pixels, or fractions of the frame), got {text!r}")
        x, y, w, h = values
        if all(v <= 1.0 for v in values):
            return cls(x, y, w, h, fractions=True)
        if not all(v.is_integer() for v in values):
            raise ValueError(f"a ROI in pixels takes whole numbers, got {text!r}; or give fractions in [0, 1]")
        return cls(int(x), int(y), int(w), int(h), fractions=False)

    def box(self, width: int, height: int) -> tuple[int, int, int, int]:
        """The region in a ``width`` x ``height`` frame as pixel bounds ``(x0, y0, x1, y1)``, clipped to it.

        Raises:
            ValueError: the region lies outside the frame (or keeps less than 2x2 pixels of it).
        """
        if self.fractions:
            x0, y0 = round(self.x * width), round(self.y * height)
            x1, y1 = round((self.x + self.width) * width), round((self.y + self.height) * height)
        else:
            x0, y0 = int(self.x), int(self.y)
            x1, y1 = int(self.x + self.width), int(self.y + self.height)
        x0, x1 = min(max(x0, 0), width), min(max(x1, 0), width)
        y0, y1 = min(max(y0, 0), height), min(max(y1, 0), height)
        if x1 - x0 < 2 or y1 - y0 < 2:
            raise ValueError(f"the ROI {self} lies outside the {width}x{height} frame; give a region inside it")
        return x0, y0, x1, y1

    def __str__(self) -> str:
        return ",".join(f"{v:g}" for v in (self.x, self.y, self.width, self.height))

    def crop(self, image: np.ndarray) -> np.ndarray:
        """The region of ``image`` (a view, no copy)."""
        x0, y0, x1, y1 = self.box(image.shape[1], image.shape[0])
        return image[y0:y1, x0:x1]
