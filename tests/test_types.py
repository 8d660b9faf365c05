"""Tests for drivercam.types: the region of interest."""

from __future__ import annotations

import numpy as np
import pytest

from drivercam.types import Roi


def test_roi_in_pixels_and_in_fractions() -> None:
    pixels = Roi.parse("640, 0, 640, 720")
    assert pixels == Roi(640, 0, 640, 720) and not pixels.fractions
    assert pixels.box(1280, 720) == (640, 0, 1280, 720)
    half = Roi.parse("0.5,0,0.5,1")
    assert half.fractions
    assert half.box(1280, 720) == (640, 0, 1280, 720)
    assert half.box(640, 480) == (320, 0, 640, 480)  # one region for every frame size
    assert str(half) == "0.5,0,0.5,1"


def test_roi_crop_is_a_view_of_the_region() -> None:
    image = np.arange(48 * 64 * 3, dtype=np.uint8).reshape(48, 64, 3)
    crop = Roi(16, 8, 32, 24).crop(image)
    assert crop.shape == (24, 32, 3)
    assert np.shares_memory(crop, image)
    np.testing.assert_array_equal(crop, image[8:32, 16:48])


def test_roi_is_clipped_to_the_frame_and_refused_outside_it() -> None:
    assert Roi(600, 400, 100, 100).box(640, 480) == (600, 400, 640, 480)
    with pytest.raises(ValueError, match="outside the 640x480 frame"):
        Roi(700, 0, 100, 100).box(640, 480)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("1,2,3", "four numbers"),
        ("a,b,c,d", "four numbers"),
        ("0,0,0,10", "width and height must be > 0"),
        ("0.6,0,0.5,1", "inside the frame"),
        ("-5,0,100,100", ">= 0"),
        ("10.5,0,100,100", "whole numbers"),
    ],
)
def test_bad_rois_are_refused_with_the_reason(text: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        Roi.parse(text)
