"""Frames and model inputs for the classifier's tests."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from drivercam.model import (
    OnnxClassifier,
)


def sample_frames(n: int, h: int = 240, w: int = 320, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (h, w, 3), dtype=np.uint8) for _ in range(n)]


def resized(frames: list[np.ndarray], h: int, w: int) -> np.ndarray:
    """Independent of drivercam.preprocess: what the model should be fed (BGR)."""
    out = []
    for f in frames:
        interp = cv2.INTER_AREA if f.shape[0] >= h and f.shape[1] >= w else cv2.INTER_LINEAR
        out.append(cv2.resize(f, (w, h), interpolation=interp))
    return np.stack(out)


def cpu(path: Path, **kwargs: object) -> OnnxClassifier:
    return OnnxClassifier(path, device="cpu", intra_op_threads=1, **kwargs)  # type: ignore[arg-type]
