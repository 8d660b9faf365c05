"""The CAM as a heatmap: colourise a map, blend it over the frame.

Every function returns a new image and never modifies its arguments. Full-frame
work stays in uint8 OpenCV calls (resize, colormap LUT, ``addWeighted``).
"""

from __future__ import annotations

import cv2
import numpy as np

from drivercam.render.cam import normalize_cam, select_cam

COLORMAPS: dict[str, int] = {
    name[len("COLORMAP_") :].lower(): int(getattr(cv2, name)) for name in dir(cv2) if name.startswith("COLORMAP_")
}


def check_image(image: np.ndarray, name: str = "frame") -> None:
    if not isinstance(image, np.ndarray):
        raise TypeError(f"{name} must be a numpy array, got {type(image).__name__}")
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"{name} must be a BGR uint8 (H, W, 3) array, got {image.dtype} {image.shape}")


def colormap_id(colormap: str | int) -> int:
    if isinstance(colormap, str):
        if colormap.lower() not in COLORMAPS:
            raise ValueError(f"unknown colormap {colormap!r}; choose one of {', '.join(sorted(COLORMAPS))}")
        return COLORMAPS[colormap.lower()]
    return int(colormap)


def colorize_cam(cam01: np.ndarray, colormap: str | int = "jet") -> np.ndarray:
    """Map a [0, 1] float (or 0-255 uint8) (H, W) map to a BGR uint8 heatmap."""
    if cam01.ndim != 2:
        raise ValueError(f"cam must have shape (H, W), got {cam01.shape}")
    levels = cam01 if cam01.dtype == np.uint8 else cv2.convertScaleAbs(cam01, alpha=255.0)
    return cv2.applyColorMap(levels, colormap_id(colormap))


def blend_heatmap(frame: np.ndarray, heat_bgr: np.ndarray, alpha: float) -> np.ndarray:
    """``alpha * heat + (1 - alpha) * frame`` as a new uint8 image.

    alpha 0 returns a copy of ``frame``, alpha 1 a copy of ``heat_bgr``.
    """
    check_image(frame)
    check_image(heat_bgr, "heat_bgr")
    if frame.shape != heat_bgr.shape:
        raise ValueError(f"heatmap shape {heat_bgr.shape} differs from frame shape {frame.shape}")
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha!r}")
    if alpha == 0.0:
        return frame.copy()
    if alpha == 1.0:
        return heat_bgr.copy()
    return cv2.addWeighted(heat_bgr, float(alpha), frame, 1.0 - float(alpha), 0.0)


def heatmap_for_frame(
    cams: np.ndarray, class_index: int, frame_shape: tuple[int, ...], colormap: str | int
) -> np.ndarray:
    """BGR uint8 heatmap of one class at the frame's size.

    Same map as ``colorize_cam(cam_for_frame(...))`` up to one grey level, but
    quantises to uint8 at model resolution so the full-frame resize and the
    colormap run on uint8 (several times faster on large frames).
    """
    levels = cv2.convertScaleAbs(normalize_cam(select_cam(cams, class_index)), alpha=255.0)
    height, width = frame_shape[:2]
    if levels.shape != (height, width):
        levels = cv2.resize(levels, (width, height), interpolation=cv2.INTER_LINEAR)
    return cv2.applyColorMap(levels, colormap_id(colormap))


__all__ = ["COLORMAPS", "blend_heatmap", "check_image", "colorize_cam", "colormap_id", "heatmap_for_frame"]
