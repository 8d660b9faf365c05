"""The annotated frame: CAM heatmap, label banner, top-k bars and a status HUD.

Every public function returns a new image and never modifies its arguments.
:func:`render_overlay` copies the frame once and draws the rest into that copy.
It runs once per frame, so full-frame work stays in uint8 OpenCV calls
(resize, colormap LUT, ``addWeighted``; the evidence-style heatmap colours and
blends only the box around the warm part of the map); banners and panels darken only their
own rectangle. Text size follows the frame's shorter side, so the same layout
is readable on 320x240 and on 1920x1080.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from drivercam.render.canvas import BgrCanvas, Canvas
from drivercam.render.heatmap import (
    COLORMAPS,
    HEATMAP_STYLES,
    blend_levels_into,
    cam_levels,
    check_image,
)

_FONT = cv2.FONT_HERSHEY_SIMPLEX
_WHITE = (255, 255, 255)
_GREY = (200, 200, 200)
_BAR_TOP = (0, 165, 255)  # orange, the predicted class
_BAR_OTHER = (170, 140, 100)  # muted blue
_BAR_TRACK = (70, 70, 70)
_PANEL_DIM = 0.35  # panel background keeps 35 % of the picture's brightness


@dataclass(frozen=True)
class OverlayOptions:
    """How :func:`render_overlay` draws.

    Attributes:
        alpha: heatmap opacity in [0, 1]; 0 shows only the frame. With the
            evidence style, the opacity where the evidence is strongest.
        colormap: an OpenCV colormap name without the ``COLORMAP_`` prefix
            (``"jet"``, ``"turbo"``, ``"inferno"``, ...), any case.
        show_heatmap: draw the CAM heatmap at all.
        cam_class: class whose CAM is shown; None shows the predicted class.
        top_k: how many classes the probability bars list.
        show_bars: draw the top-k probability bars.
        heatmap_style: ``"evidence"`` tints only where the map is warm, with an
            opacity growing with its value; ``"full"`` blends the colormap over
            the whole frame at ``alpha`` (:mod:`drivercam.render.heatmap`).
    """

    alpha: float = 0.45
    colormap: str = "jet"
    show_heatmap: bool = True
    cam_class: int | None = None
    top_k: int = 3
    show_bars: bool = True
    heatmap_style: str = "evidence"

    def __post_init__(self) -> None:
        if isinstance(self.alpha, bool) or not isinstance(self.alpha, (int, float)):
            raise TypeError(f"alpha must be a number, got {type(self.alpha).__name__}")
        if not 0.0 <= self.alpha <= 1.0:
            raise ValueError(f"alpha must be in [0, 1], got {self.alpha!r}")
        if not isinstance(self.colormap, str):
            raise TypeError(f"colormap must be a str, got {type(self.colormap).__name__}")
        if self.colormap.lower() not in COLORMAPS:
            raise ValueError(f"unknown colormap {self.colormap!r}; choose one of {', '.join(sorted(COLORMAPS))}")
        object.__setattr__(self, "colormap", self.colormap.lower())
        if self.cam_class is not None:
            if isinstance(self.cam_class, bool) or not isinstance(self.cam_class, int):
                raise TypeError(f"cam_class must be an int or None, got {type(self.cam_class).__name__}")
            if self.cam_class < 0:
                raise ValueError(f"cam_class must be >= 0, got {self.cam_class!r}")
        if isinstance(self.top_k, bool) or not isinstance(self.top_k, int):
            raise TypeError(f"top_k must be an int, got {type(self.top_k).__name__}")
        if self.top_k < 1:
            raise ValueError(f"top_k must be >= 1, got {self.top_k!r}")
        if self.heatmap_style not in HEATMAP_STYLES:
            raise ValueError(f"unknown heatmap_style {self.heatmap_style!r}; choose one of {', '.join(HEATMAP_STYLES)}")


@dataclass(frozen=True)
class _Style:
    scale: float
    thickness: int
    margin: int

    @classmethod
    def for_shape(cls, shape: tuple[int, ...]) -> _Style:
        ui = min(shape[0], shape[1]) / 480.0
        return cls(
            scale=max(0.4, 0.6 * ui),
            thickness=max(1, round(1.2 * ui)),
            margin=max(3, round(8 * ui)),
        )

    def text_size(self, text: str, scale: float | None = None) -> tuple[int, int, int]:
        (w, h), baseline = cv2.getTextSize(text, _FONT, self.scale if scale is None else scale, self.thickness)
        return w, h, baseline


def _dim(canvas: Canvas, x0: int, y0: int, x1: int, y1: int) -> None:
    """Darken a panel's rectangle (touching it: everything drawn on the panel stays inside it)."""
    image = canvas.image
    h, w = image.shape[:2]
    x0, x1 = max(0, x0), min(w, x1)
    y0, y1 = max(0, y0), min(h, y1)
    if x1 > x0 and y1 > y0:
        canvas.touch(x0, y0, x1, y1)
        image[y0:y1, x0:x1] = cv2.convertScaleAbs(image[y0:y1, x0:x1], alpha=_PANEL_DIM)


def _fit(style: _Style, text: str, max_width: int) -> str:
    """Shorten ``text`` with '..' until it fits in ``max_width`` pixels."""
    if style.text_size(text)[0] <= max_width:
        return text
    for cut in range(len(text) - 1, 0, -1):
        candidate = text[:cut].rstrip() + ".."
        if style.text_size(candidate)[0] <= max_width:
            return candidate
    return ""


def _put(image: np.ndarray, style: _Style, text: str, x: int, baseline_y: int, color: tuple[int, int, int]) -> None:
    cv2.putText(image, text, (x, baseline_y), _FONT, style.scale, color, style.thickness, cv2.LINE_AA)


def _draw_label_into(canvas: Canvas, style: _Style, label: str, confidence: float, subtitle: str | None) -> int:
    """Banner across the top; returns its height in pixels."""
    image = canvas.image
    w = image.shape[1]
    m = style.margin
    lines = [f"{label}  {100.0 * confidence:.0f}%"]
    if subtitle:
        lines.append(subtitle)
    _, text_h, baseline = style.text_size("Ag")
    line_h = text_h + baseline + m // 2
    height = m + line_h * len(lines) + m // 2
    _dim(canvas, 0, 0, w, height)
    for i, line in enumerate(lines):
        color = _WHITE if i == 0 else _GREY
        _put(image, style, _fit(style, line, w - 2 * m), m, m + text_h + i * line_h, color)
    return height


def _draw_bars_into(
    canvas: Canvas,
    style: _Style,
    probs: np.ndarray,
    labels: Sequence[str],
    top_k: int,
    highlight: int | None,
) -> None:
    """Top-k panel in the bottom-left corner: label + percentage, bar beneath."""
    image = canvas.image
    h, w = image.shape[:2]
    m = style.margin
    k = min(top_k, len(probs))
    order = np.argsort(-probs, kind="stable")[:k]
    _, text_h, baseline = style.text_size("Ag")
    bar_h = max(3, text_h // 2)
    row_h = text_h + baseline + bar_h + m // 2
    panel_w = min(w - 2 * m, max(w // 2, round(220 * style.scale)))
    panel_h = m + k * row_h
    x0, y0 = m, h - m - panel_h
    _dim(canvas, x0, y0, x0 + panel_w, y0 + panel_h)
    inner_w = panel_w - 2 * m
    for row, c in enumerate(order):
        p = float(probs[c])
        top = y0 + m // 2 + row * row_h
        pct = f"{100.0 * p:.0f}%"
        pct_w = style.text_size(pct)[0]
        text = _fit(style, str(labels[c]), inner_w - pct_w - m)
        _put(image, style, text, x0 + m, top + text_h, _WHITE)
        _put(image, style, pct, x0 + panel_w - m - pct_w, top + text_h, _WHITE)
        bar_y = top + text_h + baseline
        cv2.rectangle(image, (x0 + m, bar_y), (x0 + m + inner_w, bar_y + bar_h), _BAR_TRACK, cv2.FILLED)
        fill = round(inner_w * min(max(p, 0.0), 1.0))
        if fill > 0:
            color = _BAR_TOP if (highlight is not None and c == highlight) else _BAR_OTHER
            cv2.rectangle(image, (x0 + m, bar_y), (x0 + m + fill, bar_y + bar_h), color, cv2.FILLED)


def _hud_text(fps: float | None, inference_ms: float | None, dropped: int | None) -> str:
    parts = []
    if fps is not None and math.isfinite(fps):
        parts.append(f"{fps:.1f} fps")
    if inference_ms is not None and math.isfinite(inference_ms):
        parts.append(f"{inference_ms:.1f} ms")
    if dropped is not None:
        parts.append(f"{dropped} dropped")
    return "  ".join(parts)


def _draw_hud_into(canvas: Canvas, style: _Style, text: str, top: int) -> None:
    """Right-aligned status box just below ``top``."""
    if not text:
        return
    image = canvas.image
    w = image.shape[1]
    m = style.margin
    text = _fit(style, text, w - 4 * m)
    text_w, text_h, baseline = style.text_size(text)
    box_w, box_h = text_w + 2 * m, text_h + baseline + m
    x0 = w - m - box_w
    _dim(canvas, x0, top, x0 + box_w, top + box_h)
    _put(image, style, text, x0 + m, top + m // 2 + text_h, _WHITE)


def _check_scores(probs: np.ndarray, labels: Sequence[str]) -> np.ndarray:
    probs = np.asarray(probs)
    if probs.ndim != 1:
        raise ValueError(f"probs must have shape (C,), got {probs.shape}")
    if len(labels) != probs.shape[0]:
        raise ValueError(f"got {len(labels)} labels for {probs.shape[0]} class scores")
    return probs


def draw_label(image: np.ndarray, label: str, confidence: float, *, subtitle: str | None = None) -> np.ndarray:
    """Return a copy of ``image`` with a banner: ``label  NN%`` (and an optional second line)."""
    check_image(image, "image")
    canvas = BgrCanvas(image)
    _draw_label_into(canvas, _Style.for_shape(image.shape), label, confidence, subtitle)
    return canvas.image


def draw_probability_bars(
    image: np.ndarray,
    probs: np.ndarray,
    labels: Sequence[str],
    top_k: int = 3,
    *,
    highlight: int | None = None,
) -> np.ndarray:
    """Return a copy of ``image`` with the ``top_k`` classes as a small bar chart.

    Args:
        highlight: class index drawn in the accent colour (usually the prediction).
    """
    check_image(image, "image")
    probs = _check_scores(probs, labels)
    if top_k < 1:
        raise ValueError(f"top_k must be >= 1, got {top_k!r}")
    canvas = BgrCanvas(image)
    _draw_bars_into(canvas, _Style.for_shape(image.shape), probs, labels, top_k, highlight)
    return canvas.image


def draw_hud(
    image: np.ndarray,
    fps: float | None = None,
    inference_ms: float | None = None,
    dropped: int | None = None,
) -> np.ndarray:
    """Return a copy of ``image`` with ``fps / inference ms / dropped`` in the top-right corner."""
    check_image(image, "image")
    canvas = BgrCanvas(image)
    _draw_hud_into(canvas, _Style.for_shape(image.shape), _hud_text(fps, inference_ms, dropped), 0)
    return canvas.image


def cam_class_of(probs: np.ndarray, options: OverlayOptions) -> int:
    """The class whose map is shown: ``options.cam_class``, else the predicted class.

    Raises:
        ValueError: ``options.cam_class`` is not a class index of ``probs``.
    """
    cam_class = int(np.argmax(probs)) if options.cam_class is None else options.cam_class
    if cam_class >= probs.shape[0]:
        raise ValueError(f"cam_class {cam_class} is not a class index; the model has {probs.shape[0]} classes")
    return cam_class


def render_overlay(
    frame: np.ndarray,
    probs: np.ndarray,
    cams: np.ndarray,
    labels: Sequence[str],
    options: OverlayOptions | None = None,
    *,
    fps: float | None = None,
    inference_ms: float | None = None,
    dropped: int | None = None,
    levels: np.ndarray | None = None,
    heatmap_blended: bool = False,
) -> np.ndarray:
    """Draw heatmap, label banner, top-k bars and HUD on a copy of ``frame``.

    Args:
        frame: BGR uint8 (H, W, 3) frame the prediction was computed on.
        probs: (C,) class probabilities.
        cams: (C, h, w) raw class activation maps.
        labels: C class labels.
        options: drawing options; defaults to ``OverlayOptions()``.
        fps, inference_ms, dropped: HUD values; the HUD shows those not None.
        levels: the shown class's map as uint8 levels at the frame's size, when
            already made (:func:`cam_class_of` and
            :func:`~drivercam.render.heatmap.cam_levels`); made here when None.
        heatmap_blended: the heatmap is already in ``frame`` (e.g. blended
            over a region of interest only); draw the rest as if it were drawn here.

    Raises:
        ValueError: shapes disagree, or ``options.cam_class`` is not a class index.
    """
    check_image(frame)
    canvas = BgrCanvas(frame)
    draw_overlay(
        canvas,
        probs,
        cams,
        labels,
        options,
        fps=fps,
        inference_ms=inference_ms,
        dropped=dropped,
        levels=levels,
        heatmap_blended=heatmap_blended,
    )
    return canvas.image


def draw_overlay(
    canvas: Canvas,
    probs: np.ndarray,
    cams: np.ndarray,
    labels: Sequence[str],
    options: OverlayOptions | None = None,
    *,
    fps: float | None = None,
    inference_ms: float | None = None,
    dropped: int | None = None,
    levels: np.ndarray | None = None,
    heatmap_blended: bool = False,
) -> None:
    """:func:`render_overlay` drawn on ``canvas`` (a BGR copy, or an I420 picture touched only where drawn)."""
    options = options or OverlayOptions()
    probs = _check_scores(probs, labels)
    if cams.ndim != 3 or cams.shape[0] != probs.shape[0]:
        raise ValueError(f"cams must have shape ({probs.shape[0]}, h, w), got {cams.shape}")
    predicted = int(np.argmax(probs))
    cam_class = cam_class_of(probs, options)
    shape = canvas.shape
    if options.show_heatmap and options.alpha > 0.0 and not heatmap_blended:
        if levels is None:
            levels = cam_levels(cams, cam_class, shape)
        elif levels.dtype != np.uint8 or levels.shape != shape[:2]:
            raise ValueError(f"levels must be a uint8 {shape[:2]} map (cam_levels), got {levels.dtype} {levels.shape}")
        blend_levels_into(canvas, levels, options.alpha, options.colormap, options.heatmap_style)

    style = _Style.for_shape(shape)
    subtitle = f"heatmap: {labels[cam_class]}" if cam_class != predicted and options.show_heatmap else None
    banner_h = _draw_label_into(canvas, style, str(labels[predicted]), float(probs[predicted]), subtitle)
    if options.show_bars:
        _draw_bars_into(canvas, style, probs, labels, options.top_k, predicted)
    _draw_hud_into(canvas, style, _hud_text(fps, inference_ms, dropped), banner_h)


__all__ = [
    "OverlayOptions",
    "cam_class_of",
    "draw_hud",
    "draw_label",
    "draw_overlay",
    "draw_probability_bars",
    "render_overlay",
]
