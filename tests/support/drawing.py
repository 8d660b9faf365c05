"""Frames and class scores for the drawing tests."""

from __future__ import annotations

import numpy as np


def scores(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    probs = rng.dirichlet(np.full(10, 0.5)).astype(np.float32)
    cams = rng.standard_normal((10, 12, 16)).astype(np.float32)
    return probs, cams


def random_frame(h: int = 240, w: int = 320, seed: int = 0) -> np.ndarray:
    """A BGR uint8 frame of noise."""
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)
