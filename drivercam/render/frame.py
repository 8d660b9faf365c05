"""The one render step of every command and benchmark: a result in, the annotated frame out."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from drivercam.picture import Picture
from drivercam.render.canvas import BgrCanvas, Canvas, canvas_for
from drivercam.render.heatmap import blend_levels_into, cam_levels
from drivercam.render.overlay import OverlayOptions, cam_class_of, draw_overlay
from drivercam.types import Result, Roi

ROI_COLOR = (255, 255, 255)


def outline_region(image: np.ndarray, box: tuple[int, int, int, int], *, copy: bool = True) -> np.ndarray:
    """``image`` (a copy unless ``copy`` is False) with the region ``(x0, y0, x1, y1)`` outlined, white on black."""
    canvas = BgrCanvas(image, copy=copy)
    outline_region_into(canvas, box)
    return canvas.image


def outline_region_into(canvas: Canvas, box: tuple[int, int, int, int]) -> None:
    """Outline the region ``(x0, y0, x1, y1)`` on ``canvas``, touching only the outline's four strips."""
    image = canvas.image
    x0, y0, x1, y1 = box
    thickness = max(1, round(min(image.shape[:2]) / 240))
    # The black line is thickness + 2 wide, centred on the region's edge pixels.
    reach = (thickness + 2) // 2 + 1
    for sx0, sy0, sx1, sy1 in (
        (x0 - reach, y0 - reach, x1 + reach, y0 + reach),
        (x0 - reach, y1 - 1 - reach, x1 + reach, y1 + reach),
        (x0 - reach, y0 - reach, x0 + reach, y1 + reach),
        (x1 - 1 - reach, y0 - reach, x1 + reach, y1 + reach),
    ):
        canvas.touch(sx0, sy0, sx1, sy1)
    cv2.rectangle(image, (x0, y0), (x1 - 1, y1 - 1), (0, 0, 0), thickness + 2)
    cv2.rectangle(image, (x0, y0), (x1 - 1, y1 - 1), ROI_COLOR, thickness)


class FrameRenderer:
    """Draws a result's heatmap, label, top-k bars and HUD on a copy of its own frame.

    The two halves can be called apart, so a benchmark can time them apart:
    :meth:`heatmap` (the CAM as uint8 levels at the frame's size) and
    :meth:`draw` (colour, blend and text); calling the renderer does both.

    A frame that carries the decoder's I420 picture (``Frame.yuv``, from a
    video file) is drawn on in I420: only the rectangles drawn on (the warm
    part of the heatmap, the banner, bars and HUD panels, the region outline)
    are converted to BGR and back, and the result is an
    :class:`~drivercam.picture.I420` picture the MP4 writer encodes as it is.
    Other frames give a BGR image, as before.

    With a region of interest (the model saw only that part of the frame),
    the heatmap covers the region, at its place on the full frame, and the
    region is outlined.

    Args:
        labels: the model's class labels.
        options: drawing options; default ``OverlayOptions()``.
        roi: the region the model saw, or None for the whole frame.
    """

    def __init__(self, labels: Sequence[str], options: OverlayOptions | None = None, roi: Roi | None = None) -> None:
        self.labels = tuple(labels)
        self.options = options or OverlayOptions()
        self.roi = roi

    def heatmap(self, result: Result) -> np.ndarray | None:
        """The shown class's map as uint8 levels at the frame's size, or None when no heatmap is drawn."""
        options = self.options
        if not (options.show_heatmap and options.alpha > 0.0):
            return None
        prediction = result.prediction
        cam_class = cam_class_of(np.asarray(prediction.probs), options)
        shape = result.frame.shape
        if self.roi is None:
            return cam_levels(prediction.cams, cam_class, shape)
        # The model saw only the region: its map covers the region, not the frame.
        x0, y0, x1, y1 = self.roi.box(shape[1], shape[0])
        return cam_levels(prediction.cams, cam_class, (y1 - y0, x1 - x0, 3))

    def draw(
        self,
        result: Result,
        levels: np.ndarray | None,
        *,
        fps: float | None = None,
        dropped: int | None = None,
    ) -> Picture:
        """Colour and blend ``levels`` (from :meth:`heatmap`) and draw the label, bars and HUD.

        Returns:
            A new picture: BGR uint8 (H, W, 3), or :class:`~drivercam.picture.I420`
            when the frame carries one (:func:`~drivercam.picture.as_bgr` turns either into BGR).
        """
        prediction = result.prediction
        frame = result.frame
        options = self.options
        canvas = canvas_for(frame.picture)
        if self.roi is not None:
            # Blend the region's map at its place; the rest of the frame stays as it is.
            h, w, _ = canvas.shape
            box = self.roi.box(w, h)
            x0, y0, x1, y1 = box
            if levels is not None:
                blend_levels_into(
                    canvas, levels, options.alpha, options.colormap, options.heatmap_style, offset=(x0, y0)
                )
            outline_region_into(canvas, box)
            levels = None
        draw_overlay(
            canvas,
            prediction.probs,
            prediction.cams,
            self.labels,
            options,
            fps=fps,
            inference_ms=result.inference_ms,
            dropped=dropped,
            levels=levels,
            heatmap_blended=self.roi is not None,
        )
        return canvas.finish()

    def __call__(self, result: Result, *, fps: float | None = None, dropped: int | None = None) -> Picture:
        return self.draw(result, self.heatmap(result), fps=fps, dropped=dropped)
