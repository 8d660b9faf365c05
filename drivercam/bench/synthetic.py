"""Generated camera-like frames, so a benchmark measures the pipeline and not a camera."""

from __future__ import annotations

import time

import numpy as np

from drivercam.types import Frame

__all__ = ["SyntheticSource", "parse_size"]


def parse_size(text: str) -> tuple[int, int]:
    """``"640x480"`` -> (640, 480) (width, height)."""
    w, sep, h = text.lower().partition("x")
    try:
        size = (int(w), int(h)) if sep else (0, 0)
    except ValueError:
        size = (0, 0)
    if size[0] < 16 or size[1] < 16:
        raise ValueError(f"size must be WIDTHxHEIGHT with both >= 16, e.g. 640x480, got {text!r}")
    return size


class SyntheticSource:
    """Endless (or ``frames``-long) generated BGR frames at a nominal frame rate.

    A few distinct frames (smooth shading with mild sensor-like noise and a
    moving square, so the encoder sees camera-like content rather than pure
    noise) are made once and cycled: producing a frame costs nothing and the
    benchmark measures the pipeline.
    Live sources are paced by wrapping them in :class:`drivercam.sources.PacedSource`.
    """

    def __init__(
        self,
        width: int,
        height: int,
        *,
        fps: float = 30.0,
        frames: int | None = None,
        live: bool = False,
        distinct: int = 16,
        seed: int = 0,
    ) -> None:
        import cv2

        rng = np.random.default_rng(seed)
        coarse = rng.uniform(40, 200, (6, 8, 3)).astype(np.float32)
        shading = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)
        base = np.clip(shading + rng.normal(0, 3, shading.shape), 0, 255).astype(np.uint8)
        side = max(4, min(width, height) // 4)
        self._images = []
        for i in range(distinct):
            image = base.copy()
            x = (i * max(1, (width - side) // distinct)) % max(1, width - side)
            image[height // 3 : height // 3 + side, x : x + side] = 255
            self._images.append(image)
        self._fps = float(fps)
        self._frames = frames
        self._live = live
        self._index = 0
        self.width: int | None = width
        self.height: int | None = height
        self.audio_path: str | None = None
        self.error: str | None = None

    @property
    def is_live(self) -> bool:
        return self._live

    @property
    def fps(self) -> float:
        return self._fps

    @property
    def frame_count(self) -> int | None:
        return self._frames

    def read(self) -> Frame | None:
        if self._frames is not None and self._index >= self._frames:
            return None
        i = self._index
        self._index += 1
        return Frame(i, self._images[i % len(self._images)], i / self._fps, "synthetic", time.monotonic())

    def close(self) -> None:
        pass
