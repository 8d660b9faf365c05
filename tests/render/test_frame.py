"""Tests for drivercam.render.frame: the render step, with and without a region of interest."""

from __future__ import annotations

import numpy as np
from support.drawing import random_frame, scores
from support.tiny_models import STATEFARM_LABELS

from drivercam.render.frame import ROI_COLOR, FrameRenderer
from drivercam.render.overlay import OverlayOptions
from drivercam.types import Frame, Prediction, Result, Roi


def result_on(image: np.ndarray) -> Result:
    probs, cams = scores()
    return Result(Frame(0, image, 0.0), Prediction(probs, cams, STATEFARM_LABELS), 1.0)


def test_with_a_roi_the_heatmap_covers_the_region_only_and_the_region_is_outlined() -> None:
    frame = random_frame(240, 426, seed=1)
    roi = Roi(200, 20, 200, 200)
    options = OverlayOptions(alpha=1.0, show_bars=False, heatmap_style="full")
    out = FrameRenderer(STATEFARM_LABELS, options, roi=roi)(result_on(frame))
    # Left of the region, below the label banner: the frame as it was.
    np.testing.assert_array_equal(out[80:200, 20:180], frame[80:200, 20:180])
    # Inside the region (alpha 1): the heatmap, not the frame.
    inside = out[60:200, 220:380]
    assert np.abs(inside.astype(int) - frame[60:200, 220:380].astype(int)).mean() > 20
    # The outline, on the region's border.
    np.testing.assert_array_equal(out[120, 200], ROI_COLOR)
    np.testing.assert_array_equal(out[120, 399], ROI_COLOR)


def test_the_region_heatmap_is_the_cam_at_the_region_size() -> None:
    frame = random_frame(240, 426, seed=2)
    roi = Roi(0.5, 0.0, 0.5, 1.0, fractions=True)
    result = result_on(frame)
    options = OverlayOptions(alpha=1.0)
    levels = FrameRenderer(STATEFARM_LABELS, options, roi=roi).heatmap(result)
    region = frame[:, 213:].copy()
    alone = FrameRenderer(STATEFARM_LABELS, options).heatmap(result_on(region))
    # The map of the region, as if the region were the whole frame.
    assert levels is not None and alone is not None and levels.shape == region.shape[:2]
    np.testing.assert_array_equal(levels, alone)


def test_with_a_roi_the_evidence_heatmap_leaves_the_rest_of_the_frame_alone() -> None:
    frame = random_frame(240, 426, seed=4)
    roi = Roi(200, 20, 200, 200)
    options = OverlayOptions(alpha=1.0, show_bars=False)
    out = FrameRenderer(STATEFARM_LABELS, options, roi=roi)(result_on(frame))
    np.testing.assert_array_equal(out[80:200, 20:180], frame[80:200, 20:180])
    np.testing.assert_array_equal(out[120, 200], ROI_COLOR)


def test_without_a_roi_nothing_is_outlined() -> None:
    frame = random_frame(240, 320, seed=3)
    options = OverlayOptions(show_heatmap=False, show_bars=False)
    out = FrameRenderer(STATEFARM_LABELS, options)(result_on(frame))
    np.testing.assert_array_equal(out[100:200, :], frame[100:200, :])
