"""Tests for drivercam.render.heatmap: colourising and blending the CAM."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from support.drawing import random_frame, scores
from support.tiny_models import STATEFARM_LABELS

from drivercam.render.cam import cam_for_frame
from drivercam.render.heatmap import (
    blend_evidence,
    blend_heatmap,
    blend_levels,
    cam_levels,
    colorize_cam,
    evidence_weights,
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


def test_evidence_weights_are_zero_when_cold_and_alpha_when_hot() -> None:
    w = evidence_weights(0.5)  # floor 0.3, full 0.8
    assert w.shape == (256,) and w.dtype == np.uint8
    assert (w[:77] == 0).all()  # 76 / 255 = 0.298 <= 0.3
    assert (w[204:] == 128).all()  # 204 / 255 = 0.8: 0.5 * 255 = 127.5, rounded to even
    # Halfway up the ramp the smoothstep is at half: level 140.25 -> 0.5 * 0.5 * 255 = 63.75.
    assert w[140] == 63
    assert (np.diff(w.astype(int)) >= 0).all()
    assert evidence_weights(1.0)[255] == 255 and not evidence_weights(0.0).any()
    with pytest.raises(ValueError, match="alpha"):
        evidence_weights(1.5)
    with pytest.raises(ValueError, match="floor"):
        evidence_weights(0.5, floor=0.8, full=0.3)


def test_evidence_blend_hand_computed_pixels() -> None:
    frame = np.full((4, 6, 3), 100, np.uint8)
    levels = np.zeros((4, 6), np.uint8)
    levels[1, 2] = 255  # hot: blended at alpha
    levels[2, 4] = 60  # below the floor: untouched
    out = blend_evidence(frame, levels, 0.5, "jet")
    heat = cv2.applyColorMap(np.full((1, 1), 255, np.uint8), cv2.COLORMAP_JET)[0, 0].astype(int)  # (0, 0, 128)
    # 100 + 128/255 * (heat - 100): the weight is rint(127.5) = 128 of 255.
    expected = 100 + 128 / 255 * (heat - 100)
    assert np.abs(out[1, 2].astype(int) - expected).max() <= 1
    mask = np.ones((4, 6), bool)
    mask[1, 2] = False
    np.testing.assert_array_equal(out[mask], frame[mask])
    cold = blend_evidence(frame, np.zeros((4, 6), np.uint8), 0.5)
    np.testing.assert_array_equal(cold, frame)
    assert cold is not frame and (frame == 100).all()


def test_evidence_blend_matches_a_float_reference() -> None:
    _, cams = scores()
    frame = random_frame(240, 320, seed=3)
    levels = cam_levels(cams, 2, frame.shape)
    out = blend_evidence(frame, levels, 0.6, "turbo")
    w = evidence_weights(0.6)[levels][..., None] / 255.0
    heat = cv2.applyColorMap(levels, cv2.COLORMAP_TURBO).astype(float)
    reference = frame + w * (heat - frame)
    assert np.abs(out - reference).max() <= 1.0
    assert (w == 0).any() and (w > 0).any()  # both regions are exercised


def test_blend_levels_styles() -> None:
    _, cams = scores()
    frame = random_frame(48, 64)
    levels = cam_levels(cams, 1, frame.shape)
    assert levels.shape == (48, 64) and levels.dtype == np.uint8 and levels.max() > 200
    full = blend_levels(frame, levels, 0.4, "jet", "full")
    np.testing.assert_array_equal(full, blend_heatmap(frame, heatmap_for_frame(cams, 1, frame.shape, "jet"), 0.4))
    np.testing.assert_array_equal(
        blend_levels(frame, levels, 0.4, "jet", "evidence"), blend_evidence(frame, levels, 0.4)
    )
    with pytest.raises(ValueError, match="heatmap style 'soft'"):
        blend_levels(frame, levels, 0.4, "jet", "soft")
    with pytest.raises(ValueError, match="levels"):
        blend_evidence(frame, levels[:10], 0.4)


def test_blend_rejects_mismatches() -> None:
    with pytest.raises(ValueError, match="differs"):
        blend_heatmap(random_frame(4, 6), random_frame(4, 7), 0.5)
    with pytest.raises(ValueError, match="alpha"):
        blend_heatmap(random_frame(4, 6), random_frame(4, 6), 2.0)
    with pytest.raises(ValueError, match="uint8"):
        blend_heatmap(random_frame(4, 6).astype(np.float32), random_frame(4, 6), 0.5)


# -- text
