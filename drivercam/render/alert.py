"""The distraction alert drawn on a frame: a red border and a red banner.

``draw_alert`` is meant to go on top of :func:`drivercam.render.overlay.render_overlay`:
the border frames the whole picture and the banner sits along the bottom
edge (or the top), where it hides neither the driver nor the label banner.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from drivercam.picture import I420, Picture
from drivercam.render.canvas import canvas_for

__all__ = ["ALERT_RED", "draw_alert", "format_alert"]

ALERT_RED = (0, 0, 255)  # BGR
_BANNER_RED = (0, 0, 210)
_WHITE = (255, 255, 255)
_FONT = cv2.FONT_HERSHEY_DUPLEX


def format_alert(label: str, elapsed_s: float) -> str:
    """The banner text: ``"DISTRACTED 4.2 s: <label>"``.

    The time is how long the driver has been distracted (the episode), the
    label what they are doing now, which may have started later; the time
    comes first so it reads as the episode's and survives when a long label
    is cut to fit.
    """
    return f"DISTRACTED {elapsed_s:.1f} s: {label}"


def _fit_text(text: str, max_width: int, scale: float, thickness: int) -> tuple[str, float]:
    """Shrink the font down to a floor, then cut the text with '...' until it fits."""
    floor = 0.3
    while scale > floor and cv2.getTextSize(text, _FONT, scale, thickness)[0][0] > max_width:
        scale = max(floor, scale * 0.9)
    while len(text) > 4 and cv2.getTextSize(text, _FONT, scale, thickness)[0][0] > max_width:
        text = text[: len(text) - 4] + "..."
    return text, scale


def draw_alert(
    image: Picture,
    *,
    label: str,
    elapsed_s: float,
    position: str = "bottom",
) -> Picture:
    """Return a copy of ``image`` with a red border and a ``DISTRACTED`` banner.

    The border is about 1.5 % of the shorter side (at least 3 px) on every
    edge; the banner spans the width inside it, white text on solid red, the
    font sized to the frame and shrunk (then the label shortened) to fit.

    Args:
        image: BGR uint8 (H, W, 3) frame, or an :class:`~drivercam.picture.I420`
            picture (drawn on in I420: only the border and banner are converted);
            not modified.
        label: the distraction now, e.g. ``"texting - right"``.
        elapsed_s: seconds since the episode started, shown to 0.1 s.
        position: ``"bottom"`` or ``"top"`` edge for the banner.

    Returns:
        A new picture of the same kind and shape.
    """
    if not isinstance(image, (np.ndarray, I420)):
        raise TypeError(f"image must be a numpy array, got {type(image).__name__}")
    if isinstance(image, np.ndarray) and (image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3):
        raise ValueError(f"image must be a BGR uint8 (H, W, 3) array, got {image.dtype} {image.shape}")
    if not isinstance(label, str):
        raise TypeError(f"label must be a str, got {type(label).__name__}")
    if isinstance(elapsed_s, bool) or not isinstance(elapsed_s, (int, float)) or not math.isfinite(elapsed_s):
        raise ValueError(f"elapsed_s must be a finite number of seconds, got {elapsed_s!r}")
    if position not in ("bottom", "top"):
        raise ValueError(f"position must be 'bottom' or 'top', got {position!r}")

    canvas = canvas_for(image)
    out = canvas.image
    h, w = out.shape[:2]
    short = min(h, w)
    # Thin enough not to hide the label banner's first letters, thick enough to see at a glance.
    border = max(3, round(0.015 * short))
    thickness = max(1, round(short / 240))
    pad = max(2, round(0.02 * short))
    text, scale = _fit_text(
        format_alert(label, max(0.0, float(elapsed_s))), w - 2 * border - 2 * pad, short / 400, thickness
    )
    (text_w, text_h), baseline = cv2.getTextSize(text, _FONT, scale, thickness)
    banner_h = min(h - 2 * border, text_h + baseline + 2 * pad)
    y0 = h - border - banner_h if position == "bottom" else border
    # The border's four strips and the banner are all that is drawn on.
    for x0, ya, x1, yb in ((0, 0, w, border), (0, h - border, w, h), (0, 0, border, h), (w - border, 0, w, h)):
        canvas.touch(x0, ya, x1, yb)
    canvas.touch(border, y0, w - border, y0 + banner_h)
    out[:border] = ALERT_RED
    out[h - border :] = ALERT_RED
    out[:, :border] = ALERT_RED
    out[:, w - border :] = ALERT_RED

    out[y0 : y0 + banner_h, border : w - border] = _BANNER_RED
    x = max(border + pad, (w - text_w) // 2)
    cv2.putText(out, text, (x, y0 + pad + text_h), _FONT, scale, _WHITE, thickness, cv2.LINE_AA)
    return canvas.finish()
