"""Tests for drivercam.render.cam: selecting, normalising and upsampling class activation maps."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from support.tiny_models import TinyModel, make_tiny_model

from drivercam.render.cam import cam_for_frame, normalize_cam, select_cam, upsample_cam


def bilinear_half_pixel(src: np.ndarray, height: int, width: int) -> np.ndarray:
    """Independent reference: pixel-centre aligned bilinear, edges clamped, float64."""
    h, w = src.shape
    ys = np.clip((np.arange(height) + 0.5) * h / height - 0.5, 0, h - 1)
    xs = np.clip((np.arange(width) + 0.5) * w / width - 0.5, 0, w - 1)
    y0 = np.floor(ys).astype(int)
    x0 = np.floor(xs).astype(int)
    y1, x1 = np.minimum(y0 + 1, h - 1), np.minimum(x0 + 1, w - 1)
    fy, fx = (ys - y0)[:, None], (xs - x0)[None, :]
    s = src.astype(np.float64)
    top = s[y0][:, x0] * (1 - fx) + s[y0][:, x1] * fx
    bottom = s[y1][:, x0] * (1 - fx) + s[y1][:, x1] * fx
    return top * (1 - fy) + bottom * fy


def test_select_cam_picks_the_class_plane() -> None:
    cams = np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4)
    np.testing.assert_array_equal(select_cam(cams, 1), cams[1])
    with pytest.raises(IndexError, match=r"\[0, 2\)"):
        select_cam(cams, 2)
    with pytest.raises(IndexError):
        select_cam(cams, -1)
    with pytest.raises(ValueError, match="shape"):
        select_cam(cams[0], 0)


def test_normalize_hand_computed() -> None:
    cam = np.array([[-1.0, 0.0], [1.0, 3.0]], np.float32)
    np.testing.assert_allclose(normalize_cam(cam), [[0, 0], [1 / 3, 1]], atol=1e-7)
    np.testing.assert_allclose(normalize_cam(cam, relu=False), [[0, 0.25], [0.5, 1]], atol=1e-7)


def test_normalize_returns_float32_in_unit_range_and_leaves_input_alone() -> None:
    cam = np.random.default_rng(0).standard_normal((12, 16)) * 50
    before = cam.copy()
    out = normalize_cam(cam)
    assert out.dtype == np.float32 and out.shape == cam.shape
    assert out.min() == 0.0 and out.max() == 1.0
    np.testing.assert_array_equal(cam, before)


@pytest.mark.parametrize("relu", [True, False])
def test_constant_map_normalises_to_zeros_not_nan(relu: bool) -> None:
    out = normalize_cam(np.full((3, 4), 7.5, np.float32), relu=relu)
    assert np.isfinite(out).all()
    np.testing.assert_array_equal(out, np.zeros((3, 4), np.float32))


def test_negative_map_is_zero_with_relu_and_min_max_without() -> None:
    cam = np.array([[-4.0, -2.0], [-3.0, -1.0]], np.float32)
    np.testing.assert_array_equal(normalize_cam(cam), np.zeros((2, 2), np.float32))
    np.testing.assert_allclose(normalize_cam(cam, relu=False), [[0, 2 / 3], [1 / 3, 1]], atol=1e-7)


def test_normalize_rejects_nan_and_wrong_rank() -> None:
    with pytest.raises(ValueError, match="NaN"):
        normalize_cam(np.array([[0.0, np.nan]], np.float32))
    with pytest.raises(ValueError, match="shape"):
        normalize_cam(np.zeros((1, 2, 3), np.float32))


def test_upsample_hand_computed_2x() -> None:
    src = np.array([[0.0, 1.0], [2.0, 3.0]], np.float32)
    # Output centres sit at -0.25, 0.25, 0.75, 1.25 source pixels (edges clamp).
    row = np.array([0.0, 0.25, 0.75, 1.0])
    expected = row[None, :] + 2 * row[:, None]
    np.testing.assert_allclose(upsample_cam(src, (4, 4)), expected, atol=1e-6)


@pytest.mark.parametrize("size", [(480, 640), (240, 320), (1080, 1920), (7, 5)])
def test_upsample_matches_independent_bilinear(size: tuple[int, int]) -> None:
    cam = np.random.default_rng(1).random((3, 4)).astype(np.float32)  # 4:3 like a 256x192 model
    out = upsample_cam(cam, size)
    assert out.shape == size and out.dtype == np.float32
    np.testing.assert_allclose(out, bilinear_half_pixel(cam, *size), atol=1e-5)


def test_upsample_4_3_keeps_each_cell_over_its_own_pixels() -> None:
    cam = np.zeros((3, 4), np.float32)
    cam[2, 3] = 1.0  # bottom-right cell
    out = upsample_cam(cam, (480, 640))
    # The cell spans rows 320..479 and columns 480..639; its centre is the peak.
    assert out[400, 560] == pytest.approx(1.0)
    assert out[:240].max() == 0.0 and out[:, :400].max() == 0.0
    assert out.shape[1] / out.shape[0] == pytest.approx(4 / 3)


def test_upsample_same_size_is_a_copy() -> None:
    cam = np.ones((3, 4), np.float32)
    out = upsample_cam(cam, (3, 4))
    np.testing.assert_array_equal(out, cam)
    assert not np.shares_memory(out, cam)


def test_cam_for_frame_matches_numpy_from_tiny_model_weights(tmp_path: Path) -> None:
    tiny: TinyModel = make_tiny_model(tmp_path / "m.onnx", height=48, width=64, stride=16)
    batch = np.random.default_rng(2).integers(0, 256, (1, 48, 64, 3), dtype=np.uint8)
    cams = tiny.cams(batch)[0]
    c = 4
    raw = np.maximum(np.einsum("k,khw->hw", tiny.linear_weight[c].astype(np.float64), tiny.features(batch)[0]), 0)
    expected = bilinear_half_pixel((raw - raw.min()) / (raw.max() - raw.min()), 240, 320)
    out = cam_for_frame(cams.astype(np.float32), c, (240, 320, 3))
    assert out.shape == (240, 320) and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0
    np.testing.assert_allclose(out, expected, atol=1e-5)
