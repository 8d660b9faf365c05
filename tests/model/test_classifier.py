"""Tests for drivercam.model.classifier: probabilities and CAMs against a numpy recomputation, files and threads."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

import numpy as np
import pytest
from support import REPO_ROOT
from support.model_inputs import cpu, resized, sample_frames
from support.tiny_models import (
    STATEFARM_LABELS,
    TinyModel,
    make_tiny_model,
)

import drivercam.model.classifier as classifier_mod
from drivercam.errors import ModelError
from drivercam.model import (
    CPU,
    OnnxClassifier,
    default_model_path,
)
from drivercam.types import Classifier

# -- parity with the numpy recomputation


@pytest.mark.parametrize("color_order", ["BGR", "RGB"])
def test_probs_and_cams_match_numpy(tmp_path: Path, color_order: str) -> None:
    tiny = make_tiny_model(tmp_path / "m.onnx", color_order=color_order)
    frames = sample_frames(3)
    probs, cams = cpu(tiny.path, max_batch=3)(frames)
    fed = resized(frames, tiny.height, tiny.width)
    if color_order == "RGB":
        fed = fed[..., ::-1]
    assert probs.dtype == np.float32 and cams.dtype == np.float32
    assert probs.shape == (3, 10) and cams.shape == (3, 10, 3, 4)
    np.testing.assert_allclose(probs, tiny.probs(fed), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(cams, tiny.cams(fed), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)


def test_bgr_and_rgb_models_agree_on_the_same_frames(tmp_path: Path) -> None:
    bgr = cpu(make_tiny_model(tmp_path / "bgr.onnx", color_order="BGR", seed=3).path)
    rgb = cpu(make_tiny_model(tmp_path / "rgb.onnx", color_order="RGB", seed=3).path)
    frames = sample_frames(2, seed=5)
    for a, b in zip(bgr(frames), rgb(frames)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


def test_size_not_a_multiple_of_the_stride_rounds_the_cam_up(tmp_path: Path) -> None:
    tiny = make_tiny_model(tmp_path / "m.onnx", height=50, width=70, stride=16)
    clf = cpu(tiny.path)
    assert clf.cam_size == (4, 5) == tiny.cam_size
    frames = sample_frames(1, 100, 140)
    probs, cams = clf(frames)
    fed = resized(frames, 50, 70)
    np.testing.assert_allclose(probs, tiny.probs(fed), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(cams, tiny.cams(fed), rtol=1e-4, atol=1e-4)


def test_logits_model_is_softmaxed_and_cams_average_to_the_logits(tmp_path: Path) -> None:
    tiny = make_tiny_model(tmp_path / "m.onnx", scores="logits", num_classes=4)
    clf = cpu(tiny.path)
    assert clf.labels == ("class 0", "class 1", "class 2", "class 3")
    fed = np.random.default_rng(4).integers(0, 256, (2, 48, 64, 3), dtype=np.uint8)
    probs, cams = clf.run_batch(fed)
    np.testing.assert_allclose(probs, tiny.probs(fed), rtol=1e-4, atol=1e-6)
    # Global average pooling is linear: mean_xy CAM_c + b_c is the class logit.
    logits = cams.mean(axis=(2, 3)) + tiny.linear_bias
    np.testing.assert_allclose(logits, tiny.logits(fed), rtol=1e-4, atol=1e-4)


def test_run_batch_and_call_agree_at_input_size(tiny_model: TinyModel) -> None:
    clf = cpu(tiny_model.path)
    frames = sample_frames(2, 48, 64)
    for a, b in zip(clf(frames), clf.run_batch(np.stack(frames))):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match=r"uint8 \(N, 48, 64, 3\)"):
        clf.run_batch(np.zeros((1, 64, 48, 3), np.uint8))


def test_batch_larger_than_max_batch_and_empty_batch(tiny_model: TinyModel) -> None:
    clf = cpu(tiny_model.path, max_batch=1)
    frames = sample_frames(4)
    probs, cams = clf(frames)
    assert probs.shape == (4, 10) and cams.shape == (4, 10, 3, 4)
    np.testing.assert_allclose(probs, tiny_model.probs(resized(frames, 48, 64)), rtol=1e-4, atol=1e-6)
    probs, cams = clf([])
    assert probs.shape == (0, 10) and cams.shape == (0, 10, 3, 4)


def test_concurrent_calls_do_not_mix_frames(tiny_model: TinyModel) -> None:
    clf = cpu(tiny_model.path)
    frames = sample_frames(8, seed=9)
    expected = [clf([f])[0] for f in frames]
    results: dict[int, np.ndarray] = {}

    def work(i: int) -> None:
        for _ in range(20):
            results[i] = clf([frames[i]])[0]
            np.testing.assert_array_equal(results[i], expected[i])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(frames))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(results) == len(frames)
    for i, r in results.items():
        np.testing.assert_array_equal(r, expected[i])


def test_properties_and_protocol(tiny_model: TinyModel, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="drivercam.model"):
        clf = cpu(tiny_model.path)
    assert isinstance(clf, Classifier)
    assert clf.path == tiny_model.path
    assert clf.labels == STATEFARM_LABELS
    assert clf.class_ids == tuple(f"c{i}" for i in range(10))
    assert clf.input_size == (48, 64) and clf.cam_size == (3, 4)
    assert clf.color_order == "BGR" and clf.feature_stride == 16
    assert clf.metadata["architecture"].startswith("tiny test model")
    assert clf.providers == (CPU,)
    assert any("CPUExecutionProvider" in r.getMessage() for r in caplog.records if r.levelno == logging.INFO)


def test_thread_settings_are_validated(tiny_model: TinyModel) -> None:
    assert cpu(tiny_model.path).providers == (CPU,)
    OnnxClassifier(tiny_model.path, device="cpu", intra_op_threads=2, inter_op_threads=1)
    with pytest.raises(ValueError, match="intra_op_threads"):
        OnnxClassifier(tiny_model.path, device="cpu", intra_op_threads=-1)


# -- ModelError: files


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"model file not found: .*nope\.onnx; pass --model"):
        OnnxClassifier(tmp_path / "nope.onnx", device="cpu")


def test_directory_instead_of_file(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="is not a file"):
        OnnxClassifier(tmp_path, device="cpu")


def test_unreadable_file_as_reported_by_the_os(tiny_model: TinyModel, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(classifier_mod.os, "access", lambda path, mode: False)
    with pytest.raises(ModelError, match="is not readable; fix its permissions"):
        OnnxClassifier(tiny_model.path, device="cpu")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file(tiny_model: TinyModel) -> None:
    tiny_model.path.chmod(0)
    try:
        with pytest.raises(ModelError, match="not readable"):
            OnnxClassifier(tiny_model.path, device="cpu")
    finally:
        tiny_model.path.chmod(0o644)


@pytest.mark.parametrize("content", [b"this is not an onnx model\n", b""])
def test_not_onnx(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "fake.onnx"
    path.write_bytes(content)
    with pytest.raises(ModelError, match="ONNX Runtime cannot load") as info:
        OnnxClassifier(path, device="cpu")
    assert "\n" not in str(info.value) and info.value.__cause__ is not None


def test_truncated_onnx(tiny_model: TinyModel) -> None:
    data = tiny_model.path.read_bytes()
    tiny_model.path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelError, match="cannot load"):
        OnnxClassifier(tiny_model.path, device="cpu")


# -- ModelError: metadata


def test_default_model_path() -> None:
    expected = REPO_ROOT / "models" / "drivercam.onnx"
    if expected.is_file():
        assert default_model_path() == expected
    else:
        with pytest.raises(ModelError, match="pass --model"):
            default_model_path()
