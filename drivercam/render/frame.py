"""The one render step of every command and benchmark: a result in, the annotated frame out."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from drivercam.render.heatmap import blend_levels, cam_levels
from drivercam.render.overlay import OverlayOptions, cam_class_of, render_overlay
from drivercam.types import Result, Roi

ROI_COLOR = (255, 255, 255)


def outline_region(image: np.ndarray, box: tuple[int, int, int, int], *, copy: bool = True) -> np.ndarray:
    """``image`` (a copy unless ``copy`` is False) with the region ``(x0, y0, x1, y1)`` outlined, white on black."""
    out = image.copy() if copy else image
    x0, y0, x1, y1 = box
    thickness = max(1, round(min(image.shape[:2]) / 240))
    cv2.rectangle(out, (x0, y0), (x1 - 1, y1 - 1), (0, 0, 0), thickness + 2)
    cv2.rectangle(out, (x0, y0), (x1 - 1, y1 - 1), ROI_COLOR, thickness)
    return out


class FrameRenderer:
    """Draws a result's heatmap, label, top-k bars and HUD on a copy of its own frame.

    The two halves can be called apart, so a benchmark can time them apart:
    :meth:`heatmap` (the CAM as uint8 levels at the frame's size) and
    :meth:`draw` (colour, blend and text); calling the renderer does both.

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
        image = result.frame.image
        if self.roi is None:
            return cam_levels(prediction.cams, cam_class, image.shape)
        # The model saw only the region: its map covers the region, not the frame.
        x0, y0, x1, y1 = self.roi.box(image.shape[1], image.shape[0])
        return cam_levels(prediction.cams, cam_class, (y1 - y0, x1 - x0, 3))

    def draw(
        self,
        result: Result,
        levels: np.ndarray | None,
        *,
        fps: float | None = None,
        dropped: int | None = None,
    ) -> np.ndarray:
        """Colour and blend ``levels`` (from :meth:`heatmap`) and draw the label, bars and HUD."""
        prediction = result.prediction
        image = result.frame.image
        options = self.options
        if self.roi is not None:
            # Blend the region's map at its place; the rest of the frame stays as it is.
            box = self.roi.box(image.shape[1], image.shape[0])
            x0, y0, x1, y1 = box
            if levels is not None:
                image = image.copy()
                image[y0:y1, x0:x1] = blend_levels(
                    image[y0:y1, x0:x1], levels, options.alpha, options.colormap, options.heatmap_style
                )
            image = outline_region(image, box, copy=levels is None)
            levels = None
        return render_overlay(
            image,
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

    def __call__(self, result: Result, *, fps: float | None = None, dropped: int | None = None) -> np.ndarray:
        return self.draw(result, self.heatmap(result), fps=fps, dropped=dropped)
