"""Tests for drivercam.model.preprocess: resizing and colour order into the model's input."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from drivercam.model.preprocess import Preprocessor, interpolation_for


def _frame(h: int, w: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def test_shrinking_uses_inter_area_and_enlarging_inter_linear() -> None:
    big, small = _frame(480, 640, 1), _frame(24, 32, 2)
    batch = Preprocessor(48, 64, "BGR", max_batch=2)([big, small])
    np.testing.assert_array_equal(batch[0], cv2.resize(big, (64, 48), interpolation=cv2.INTER_AREA))
    np.testing.assert_array_equal(batch[1], cv2.resize(small, (64, 48), interpolation=cv2.INTER_LINEAR))


def test_interpolation_choice() -> None:
    assert interpolation_for((480, 640), (48, 64)) == cv2.INTER_AREA
    assert interpolation_for((48, 64), (48, 64)) == cv2.INTER_AREA
    assert interpolation_for((24, 32), (48, 64)) == cv2.INTER_LINEAR
    # Taller but narrower: enlarging in one direction, so no INTER_AREA.
    assert interpolation_for((30, 640), (48, 64)) == cv2.INTER_LINEAR


def test_frame_at_input_size_is_copied_exactly() -> None:
    frame = _frame(48, 64)
    np.testing.assert_array_equal(Preprocessor(48, 64, "BGR")([frame])[0], frame)


def test_rgb_model_gets_channels_swapped_bgr_model_does_not() -> None:
    frame = np.zeros((48, 64, 3), np.uint8)
    frame[..., 0] = 10  # B
    frame[..., 1] = 20  # G
    frame[..., 2] = 30  # R
    assert tuple(Preprocessor(48, 64, "RGB")([frame])[0, 5, 7]) == (30, 20, 10)
    assert tuple(Preprocessor(48, 64, "BGR")([frame])[0, 5, 7]) == (10, 20, 30)
    resized_rgb = Preprocessor(24, 32, "RGB")([_frame(480, 640)])[0]
    expected = cv2.resize(_frame(480, 640), (32, 24), interpolation=cv2.INTER_AREA)[..., ::-1]
    np.testing.assert_array_equal(resized_rgb, expected)


def test_buffer_is_reused_between_calls() -> None:
    pre = Preprocessor(48, 64, "RGB", max_batch=2)
    first = pre([_frame(240, 320, 1), _frame(240, 320, 2)])
    second = pre([_frame(100, 100, 3)])
    assert np.shares_memory(first, second)
    assert second.shape == (1, 48, 64, 3) and second.dtype == np.uint8
    assert pre.capacity == 2


def test_larger_batch_grows_the_buffer() -> None:
    pre = Preprocessor(16, 16, "BGR", max_batch=1)
    frames = [_frame(32, 32, i) for i in range(3)]
    batch = pre(frames)
    assert batch.shape == (3, 16, 16, 3) and pre.capacity == 3
    for i, frame in enumerate(frames):
        np.testing.assert_array_equal(batch[i], cv2.resize(frame, (16, 16), interpolation=cv2.INTER_AREA))


def test_inputs_are_not_modified_and_views_are_accepted() -> None:
    frame = _frame(60, 80)
    before = frame.copy()
    view = frame[:, ::2]  # not contiguous
    Preprocessor(48, 64, "RGB")([frame])
    from_view = Preprocessor(30, 40, "RGB")([view])[0]
    np.testing.assert_array_equal(frame, before)
    expected = cv2.resize(np.ascontiguousarray(view), (40, 30), interpolation=cv2.INTER_AREA)[..., ::-1]
    np.testing.assert_array_equal(from_view, expected)


def test_one_frame_path_matches_the_batch_and_shares_no_buffer() -> None:
    pre = Preprocessor(24, 32, "RGB", max_batch=2)
    frames = [_frame(480, 640, 1), _frame(24, 32, 2)]
    batch = pre(frames).copy()
    singles = [pre.one(frame) for frame in frames]
    for i, single in enumerate(singles):
        assert single.shape == (24, 32, 3) and single.dtype == np.uint8
        np.testing.assert_array_equal(single, batch[i])
    assert not np.shares_memory(singles[0], singles[1])
    assert not np.shares_memory(singles[0], pre(frames))
    with pytest.raises(ValueError, match="BGR uint8"):
        pre.one(np.zeros((10, 10), np.uint8))


@pytest.mark.parametrize(
    "images, error",
    [
        ([], ValueError),
        ([np.zeros((10, 10), np.uint8)], ValueError),
        ([np.zeros((10, 10, 4), np.uint8)], ValueError),
        ([np.zeros((10, 10, 3), np.float32)], ValueError),
        ([np.zeros((0, 10, 3), np.uint8)], ValueError),
        ([[[0, 0, 0]]], TypeError),
    ],
)
def test_bad_images_are_rejected(images: list, error: type[Exception]) -> None:
    with pytest.raises(error):
        Preprocessor(8, 8, "BGR")(images)


def test_bad_settings_are_rejected() -> None:
    with pytest.raises(ValueError, match="color_order"):
        Preprocessor(8, 8, "YUV")
    with pytest.raises(ValueError, match="height"):
        Preprocessor(0, 8)
    with pytest.raises(TypeError, match="max_batch"):
        Preprocessor(8, 8, "BGR", max_batch=1.5)  # type: ignore[arg-type]
