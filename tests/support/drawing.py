"""Class scores for the drawing tests."""

from __future__ import annotations

import numpy as np


def scores(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    probs = rng.dirichlet(np.full(10, 0.5)).astype(np.float32)
    cams = rng.standard_normal((10, 12, 16)).astype(np.float32)
    return probs, cams
