"""Tests for drivercam.render.alert: the alert border and banner."""

from __future__ import annotations

import numpy as np
import pytest
from support.tiny_models import SHORT_LABELS

from drivercam.monitoring.episode_config import EpisodeConfig

LABELS = SHORT_LABELS
EU_HIGH = EpisodeConfig.from_preset("eu-high-speed")


# Hand-computed timings below use round numbers: warning at 3.5 s (the presets
# alert 0.5 s earlier, see test_config_presets_overrides_and_validation).
TIMING = EpisodeConfig(onset_s=1.0, warning_s=3.5, cooldown_s=3.0, release_s=1.0)


@pytest.mark.parametrize("shape", [(48, 64, 3), (480, 640, 3), (720, 1280, 3)])
def test_draw_alert_border_banner_and_input_untouched(shape: tuple[int, int, int]) -> None:
    from drivercam.render.alert import ALERT_RED, draw_alert, format_alert

    img = np.random.default_rng(0).integers(0, 120, size=shape, dtype=np.uint8)  # never pure red
    before = img.copy()
    out = draw_alert(img, label="texting - right", elapsed_s=4.24)
    np.testing.assert_array_equal(img, before)
    assert out.shape == img.shape and out.dtype == np.uint8 and out is not img
    h, w = shape[:2]
    border = max(3, round(0.015 * min(h, w)))
    red = np.array(ALERT_RED, np.uint8)
    for edge in (out[:border], out[-border:], out[:, :border], out[:, -border:]):
        assert (edge == red).all()
    # The banner along the bottom is mostly red, with white text in it.
    banner = out[h - border - 3 : h - border, border:-border]
    assert (banner[..., 2] >= 200).mean() > 0.6 and (banner[..., 0] <= 40).mean() > 0.6
    inner = out[:, border:-border].astype(int)
    banner_rows = ((inner == (0, 0, 210)).all(axis=2).mean(axis=1) > 0.3).nonzero()[0]
    assert banner_rows.min() > h // 2
    assert (inner[banner_rows, :, 0] > 80).any(), "no white text drawn"  # banner red has no blue
    # The picture itself is untouched above the banner.
    np.testing.assert_array_equal(out[border : h // 3, border:-border], img[border : h // 3, border:-border])
    assert format_alert("texting - right", 4.24) == "DISTRACTED 4.2 s: texting - right"


def test_draw_alert_text_changes_with_elapsed_and_top_position() -> None:
    from drivercam.render.alert import draw_alert

    img = np.zeros((240, 320, 3), np.uint8)
    a = draw_alert(img, label="drinking", elapsed_s=4.2)
    b = draw_alert(img, label="drinking", elapsed_s=9.9)
    assert not np.array_equal(a, b)
    top = draw_alert(img, label="drinking", elapsed_s=4.2, position="top")
    assert (top[10, 20:300, 2] >= 200).all() and (top[200, 20:300] == 0).all()
    long = draw_alert(img, label="talking on the phone - right hand, " * 5, elapsed_s=1.0)
    assert long.shape == img.shape
    with pytest.raises(ValueError, match="uint8"):
        draw_alert(img.astype(np.float32), label="x", elapsed_s=1.0)
    with pytest.raises(ValueError, match="elapsed_s"):
        draw_alert(img, label="x", elapsed_s=float("nan"))
    with pytest.raises(ValueError, match="position"):
        draw_alert(img, label="x", elapsed_s=1.0, position="left")


# -- tools/eval_smoothing.py metrics ---------------------------------------------------
