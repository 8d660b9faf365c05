"""Tests for drivercam.render.overlay: options, label banner, bars, HUD and the whole overlay."""

from __future__ import annotations

import time

import numpy as np
import pytest
from support.drawing import random_frame, scores
from support.tiny_models import STATEFARM_LABELS

from drivercam.render.heatmap import (
    COLORMAPS,
    heatmap_for_frame,
)
from drivercam.render.overlay import (
    OverlayOptions,
    draw_hud,
    draw_label,
    draw_probability_bars,
    render_overlay,
)

LABELS = STATEFARM_LABELS


def _changed_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.flatnonzero((a != b).any(axis=(1, 2)))


# -- options


def test_options_defaults_and_colormap_names() -> None:
    opts = OverlayOptions()
    assert 0.0 <= opts.alpha <= 1.0 and opts.cam_class is None and opts.top_k >= 1
    for name in ("jet", "turbo", "inferno", "JET"):
        assert OverlayOptions(colormap=name).colormap == name.lower()
    assert "viridis" in COLORMAPS


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"alpha": -0.1}, ValueError, r"alpha must be in \[0, 1\], got -0.1"),
        ({"alpha": 1.5}, ValueError, "alpha"),
        ({"alpha": "0.5"}, TypeError, "alpha"),
        ({"alpha": True}, TypeError, "alpha"),
        ({"colormap": "rainbowish"}, ValueError, "unknown colormap 'rainbowish'.*jet"),
        ({"colormap": 2}, TypeError, "colormap"),
        ({"cam_class": -1}, ValueError, "cam_class"),
        ({"cam_class": 1.0}, TypeError, "cam_class"),
        ({"top_k": 0}, ValueError, "top_k"),
    ],
)
def test_bad_options_are_rejected(kwargs: dict, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        OverlayOptions(**kwargs)


# -- heatmap


@pytest.mark.parametrize("size", [(240, 320), (1080, 1920)])
def test_draw_functions_return_new_images_and_leave_input_alone(size: tuple[int, int]) -> None:
    frame = random_frame(*size)
    before = frame.copy()
    probs, _ = scores()
    for out in (
        draw_label(frame, "texting - right hand", 0.93),
        draw_probability_bars(frame, probs, LABELS, 3, highlight=int(np.argmax(probs))),
        draw_hud(frame, fps=29.97, inference_ms=8.4, dropped=2),
    ):
        assert out.shape == frame.shape and out.dtype == np.uint8
        assert not np.shares_memory(out, frame)
        assert (out != frame).any()
    np.testing.assert_array_equal(frame, before)


def test_label_banner_sits_on_top_and_scales_with_the_frame() -> None:
    heights = []
    for h, w in ((240, 320), (1080, 1920)):
        frame = random_frame(h, w)
        rows = _changed_rows(draw_label(frame, "drinking", 0.5), frame)
        assert rows[0] == 0
        heights.append(rows[-1] + 1)
    small, large = heights
    assert 12 <= small <= 60  # text a 240-line screen can read, not a third of it
    assert large > 3 * small


def test_bars_sit_bottom_left_and_hud_right() -> None:
    frame = random_frame(480, 640)
    probs, _ = scores()
    bars = draw_probability_bars(frame, probs, LABELS, 3)
    changed = (bars != frame).any(axis=2)
    ys, xs = np.nonzero(changed)
    assert ys.min() > 480 // 2 and xs.max() < 640 * 0.75
    hud = draw_hud(frame, fps=30.0)
    ys, xs = np.nonzero((hud != frame).any(axis=2))
    assert xs.min() > 640 // 2 and ys.max() < 480 // 4


def test_more_bars_take_more_room() -> None:
    frame = random_frame(480, 640)
    probs, _ = scores()
    one = len(_changed_rows(draw_probability_bars(frame, probs, LABELS, 1), frame))
    three = len(_changed_rows(draw_probability_bars(frame, probs, LABELS, 3), frame))
    assert three > 2 * one


def test_hud_with_nothing_to_show_draws_nothing() -> None:
    frame = random_frame()
    np.testing.assert_array_equal(draw_hud(frame), frame)


def test_bars_reject_label_count_mismatch() -> None:
    probs, _ = scores()
    with pytest.raises(ValueError, match="labels"):
        draw_probability_bars(random_frame(), probs, LABELS[:9])


# -- render_overlay


def test_render_does_not_mutate_inputs() -> None:
    frame = random_frame()
    probs, cams = scores()
    copies = (frame.copy(), probs.copy(), cams.copy())
    out = render_overlay(frame, probs, cams, LABELS, OverlayOptions(cam_class=2), fps=30.0, inference_ms=5.0, dropped=1)
    assert out.shape == frame.shape and out.dtype == np.uint8 and not np.shares_memory(out, frame)
    for a, b in zip((frame, probs, cams), copies):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("opts", [OverlayOptions(alpha=0.0), OverlayOptions(show_heatmap=False)])
def test_without_heatmap_the_middle_of_the_frame_is_untouched(opts: OverlayOptions) -> None:
    frame = random_frame(480, 640)
    probs, cams = scores()
    out = render_overlay(frame, probs, cams, LABELS, opts)
    np.testing.assert_array_equal(out[150:300, 400:600], frame[150:300, 400:600])


def test_full_alpha_shows_the_heatmap_of_the_predicted_class() -> None:
    frame = random_frame(480, 640)
    probs, cams = scores()
    opts = OverlayOptions(alpha=1.0, show_bars=False, colormap="inferno", heatmap_style="full")
    out = render_overlay(frame, probs, cams, LABELS, opts)
    heat = heatmap_for_frame(cams, int(np.argmax(probs)), frame.shape, "inferno")
    np.testing.assert_array_equal(out[150:300, 100:600], heat[150:300, 100:600])


def test_half_alpha_blends_frame_and_heatmap() -> None:
    frame = random_frame(480, 640)
    probs, cams = scores()
    out = render_overlay(frame, probs, cams, LABELS, OverlayOptions(alpha=0.5, show_bars=False, heatmap_style="full"))
    heat = heatmap_for_frame(cams, int(np.argmax(probs)), frame.shape, "jet")
    expected = (frame[200:300, 100:600].astype(int) + heat[200:300, 100:600]) / 2
    assert np.abs(out[200:300, 100:600] - expected).max() <= 1


def test_evidence_style_tints_only_where_the_map_is_warm() -> None:
    # One warm cell in the predicted class's 12x16 map; everything else cold.
    frame = random_frame(480, 640)
    probs, _ = scores()
    predicted = int(np.argmax(probs))
    cams = np.zeros((10, 12, 16), np.float32)
    cams[predicted, 3, 12] = 1.0
    out = render_overlay(frame, probs, cams, LABELS, OverlayOptions(show_bars=False))
    changed = (out != frame).any(axis=2)
    changed[:60] = False  # the label banner and the HUD
    ys, xs = np.nonzero(changed)
    # Cell (3, 12) covers rows 120-160, columns 480-520; bilinear spread reaches at most one cell further.
    assert len(ys) > 0 and ys.min() >= 80 and ys.max() < 200 and xs.min() >= 440 and xs.max() < 560
    assert not changed[:, :400].any()
    full = render_overlay(frame, probs, cams, LABELS, OverlayOptions(show_bars=False, heatmap_style="full"))
    assert (full[100:, :400] != frame[100:, :400]).any(axis=2).mean() > 0.99  # the classic blend tints everything


def test_cam_class_chooses_the_heatmap_and_is_bounds_checked() -> None:
    frame = random_frame(480, 640)
    probs, cams = scores()
    predicted = int(np.argmax(probs))
    other = (predicted + 1) % 10
    opts = OverlayOptions(alpha=1.0, show_bars=False, cam_class=other, heatmap_style="full")
    shown = render_overlay(frame, probs, cams, LABELS, opts)
    heat = heatmap_for_frame(cams, other, frame.shape, "jet")
    np.testing.assert_array_equal(shown[150:300, 100:600], heat[150:300, 100:600])
    with pytest.raises(ValueError, match="cam_class 10"):
        render_overlay(frame, probs, cams, LABELS, OverlayOptions(cam_class=10))


def test_hud_appears_only_when_given() -> None:
    frame = random_frame(480, 640)
    probs, cams = scores()
    opts = OverlayOptions(alpha=0.0, show_bars=False)
    plain = render_overlay(frame, probs, cams, LABELS, opts)
    with_hud = render_overlay(frame, probs, cams, LABELS, opts, fps=25.0, inference_ms=3.2, dropped=0)
    ys, xs = np.nonzero((plain != with_hud).any(axis=2))
    assert len(ys) > 0 and xs.min() > 640 // 2


@pytest.mark.parametrize(
    "probs_shape, cams_shape, n_labels, match",
    [
        ((10,), (9, 12, 16), 10, "cams"),
        ((10,), (10, 12), 10, "cams"),
        ((1, 10), (10, 12, 16), 10, "probs"),
        ((10,), (10, 12, 16), 9, "labels"),
    ],
)
def test_render_rejects_inconsistent_shapes(
    probs_shape: tuple[int, ...], cams_shape: tuple[int, ...], n_labels: int, match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        render_overlay(
            random_frame(),
            np.full(probs_shape, 0.1, np.float32),
            np.zeros(cams_shape, np.float32),
            LABELS[:n_labels],
        )


def test_render_full_hd_is_fast_enough_for_video() -> None:
    frame = random_frame(1080, 1920)
    probs, cams = scores()
    render_overlay(frame, probs, cams, LABELS)
    start = time.perf_counter()
    for _ in range(5):
        render_overlay(frame, probs, cams, LABELS, fps=30.0, inference_ms=10.0, dropped=0)
    per_frame = (time.perf_counter() - start) / 5
    # About 5 ms on a laptop core; the bound only catches a pathological slowdown.
    assert per_frame < 0.25
