"""Tests for drivercam.model.roi: the model sees only the region."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from support.tiny_models import TinyModel

from drivercam.model import OnnxClassifier
from drivercam.model.roi import PreparingRoiClassifier, RoiClassifier, with_roi
from drivercam.types import PreparingClassifier, Roi


class ShapeClassifier:
    labels = ("a", "b")
    class_ids = ("c0", "c1")

    def __init__(self) -> None:
        self.seen: list[tuple[int, ...]] = []

    def __call__(self, images: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        self.seen.extend(image.shape for image in images)
        n = len(images)
        return np.full((n, 2), 0.5, np.float32), np.zeros((n, 2, 3, 4), np.float32)


def test_the_inner_classifier_sees_only_the_region() -> None:
    inner = ShapeClassifier()
    classifier = with_roi(inner, Roi(0.5, 0.0, 0.5, 1.0, fractions=True))
    assert isinstance(classifier, RoiClassifier) and not isinstance(classifier, PreparingClassifier)
    classifier([np.zeros((720, 1280, 3), np.uint8), np.zeros((480, 640, 3), np.uint8)])
    assert inner.seen == [(720, 640, 3), (480, 320, 3)]
    assert with_roi(inner, None) is inner


def test_a_preparing_classifier_crops_before_its_resize(tiny_model: TinyModel, tmp_path: Path) -> None:
    onnx = OnnxClassifier(tiny_model.path)
    roi = Roi(32, 0, 64, 48)
    classifier = with_roi(onnx, roi)
    assert isinstance(classifier, PreparingRoiClassifier) and isinstance(classifier, PreparingClassifier)
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 256, (48, 128, 3), dtype=np.uint8)
    region = np.ascontiguousarray(frame[:, 32:96])
    np.testing.assert_array_equal(classifier.prepare(frame), onnx.prepare(region))
    probs, cams = classifier([frame])
    want_probs, want_cams = onnx([region])
    np.testing.assert_allclose(probs, want_probs, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(cams, want_cams, rtol=1e-5, atol=1e-5)
    batch_probs, _ = classifier.run_batch(classifier.prepare(frame)[None])
    np.testing.assert_allclose(batch_probs, want_probs, rtol=1e-5, atol=1e-6)
