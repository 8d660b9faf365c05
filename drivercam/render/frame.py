"""The one render step of every command and benchmark: a result in, the annotated frame out."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from drivercam.render.heatmap import cam_levels
from drivercam.render.overlay import OverlayOptions, cam_class_of, render_overlay
from drivercam.types import Result


class FrameRenderer:
    """Draws a result's heatmap, label, top-k bars and HUD on a copy of its own frame.

    The two halves can be called apart, so a benchmark can time them apart:
    :meth:`heatmap` (the CAM as uint8 levels at the frame's size) and
    :meth:`draw` (colour, blend and text); calling the renderer does both.

    Args:
        labels: the model's class labels.
        options: drawing options; default ``OverlayOptions()``.
    """

    def __init__(self, labels: Sequence[str], options: OverlayOptions | None = None) -> None:
        self.labels = tuple(labels)
        self.options = options or OverlayOptions()

    def heatmap(self, result: Result) -> np.ndarray | None:
        """The shown class's map as uint8 levels at the frame's size, or None when no heatmap is drawn."""
        options = self.options
        if not (options.show_heatmap and options.alpha > 0.0):
            return None
        prediction = result.prediction
        cam_class = cam_class_of(np.asarray(prediction.probs), options)
        return cam_levels(prediction.cams, cam_class, result.frame.image.shape)

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
        return render_overlay(
            result.frame.image,
            prediction.probs,
            prediction.cams,
            self.labels,
            self.options,
            fps=fps,
            inference_ms=result.inference_ms,
            dropped=dropped,
            levels=levels,
        )

    def __call__(self, result: Result, *, fps: float | None = None, dropped: int | None = None) -> np.ndarray:
        return self.draw(result, self.heatmap(result), fps=fps, dropped=dropped)
