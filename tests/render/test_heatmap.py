"""Tests for drivercam.render.heatmap: colourising and blending the CAM."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from support.drawing import random_frame, scores
from support.tiny_models import STATEFARM_LABELS

from drivercam.render.cam import cam_for_frame
from drivercam.render.heatmap import (
    blend_heatmap,
    colorize_cam,
    heatmap_for_frame,
)

LABELS = STATEFARM_LABELS


# -- options


def test_colorize_cam_is_the_opencv_colormap_of_the_levels() -> None:
    cam = np.array([[0.0, 0.5], [1.0, 0.25]], np.float32)
    levels = np.array([[0, 128], [255, 64]], np.uint8)
    expected = cv2.applyColorMap(levels, cv2.COLORMAP_TURBO)
    np.testing.assert_array_equal(colorize_cam(cam, "turbo"), expected)
    np.testing.assert_array_equal(colorize_cam(levels, "turbo"), expected)
    assert colorize_cam(cam).shape == (2, 2, 3)
    with pytest.raises(ValueError, match="colormap"):
        colorize_cam(cam, "nope")


def test_fast_heatmap_is_within_one_level_of_the_float_path() -> None:
    _, cams = scores()
    shape = (480, 640, 3)
    fast = heatmap_for_frame(cams, 3, shape, "jet")
    levels = np.clip(np.rint(cam_for_frame(cams, 3, shape) * 255), 0, 255).astype(int)
    lut = cv2.applyColorMap(np.arange(256, dtype=np.uint8)[:, None], cv2.COLORMAP_JET)[:, 0]
    ok = np.zeros(shape[:2], bool)
    for d in (-1, 0, 1):
        ok |= (fast == lut[np.clip(levels + d, 0, 255)]).all(axis=2)
    assert ok.all()


def test_blend_alpha_limits_and_midpoint() -> None:
    frame = np.full((4, 6, 3), 100, np.uint8)
    heat = np.full((4, 6, 3), 200, np.uint8)
    zero = blend_heatmap(frame, heat, 0.0)
    np.testing.assert_array_equal(zero, frame)
    assert zero is not frame
    np.testing.assert_array_equal(blend_heatmap(frame, heat, 1.0), heat)
    np.testing.assert_array_equal(blend_heatmap(frame, heat, 0.5), np.full((4, 6, 3), 150, np.uint8))
    np.testing.assert_array_equal(blend_heatmap(frame, heat, 0.25), np.full((4, 6, 3), 125, np.uint8))
    assert (frame == 100).all() and (heat == 200).all()


def test_blend_rejects_mismatches() -> None:
    with pytest.raises(ValueError, match="differs"):
        blend_heatmap(random_frame(4, 6), random_frame(4, 7), 0.5)
    with pytest.raises(ValueError, match="alpha"):
        blend_heatmap(random_frame(4, 6), random_frame(4, 6), 2.0)
    with pytest.raises(ValueError, match="uint8"):
        blend_heatmap(random_frame(4, 6).astype(np.float32), random_frame(4, 6), 0.5)


# -- text
