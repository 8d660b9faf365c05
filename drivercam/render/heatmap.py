"""The CAM as a heatmap: colourise a map, blend it over the frame.

Two styles:

* ``evidence`` (the default): each pixel is blended with an opacity that grows
  with the map's value (:func:`evidence_weights`): zero where the map is cold,
  so faces, skin and windows away from the evidence keep their own colours,
  rising smoothly to ``alpha`` where the evidence is strongest. Only the box
  around the warm pixels is coloured and blended.
* ``full``: the classic blend, ``alpha`` everywhere, which tints the whole frame
  with the colormap's cold end.

Every function returns a new image and never modifies its arguments. Full-frame
work stays in uint8 OpenCV calls (resize, LUT, ``addWeighted``, ``multiply``).
"""

from __future__ import annotations

import cv2
import numpy as np

from drivercam.render.cam import normalize_cam, select_cam
from drivercam.render.canvas import BgrCanvas, Canvas

COLORMAPS: dict[str, int] = {
    name[len("COLORMAP_") :].lower(): int(getattr(cv2, name)) for name in dir(cv2) if name.startswith("COLORMAP_")
}
HEATMAP_STYLES = ("evidence", "full")
"""How the heatmap is blended: opacity growing with the map's value, or the same everywhere."""

EVIDENCE_FLOOR = 0.3
"""Map values (in [0, 1]) at or below which the evidence style leaves the frame untouched."""
EVIDENCE_FULL = 0.8
"""Map values at or above which the evidence style blends at the full ``alpha``."""


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


def cam_levels(cams: np.ndarray, class_index: int, frame_shape: tuple[int, ...]) -> np.ndarray:
    """One class's map as uint8 levels 0-255 at the frame's (H, W).

    Same map as ``cam_for_frame(...) * 255`` up to one level, but quantises to
    uint8 at model resolution so the full-frame resize runs on uint8 (several
    times faster on large frames).
    """
    levels = cv2.convertScaleAbs(normalize_cam(select_cam(cams, class_index)), alpha=255.0)
    height, width = frame_shape[:2]
    if levels.shape != (height, width):
        levels = cv2.resize(levels, (width, height), interpolation=cv2.INTER_LINEAR)
    return levels


def heatmap_for_frame(
    cams: np.ndarray, class_index: int, frame_shape: tuple[int, ...], colormap: str | int
) -> np.ndarray:
    """BGR uint8 heatmap of one class at the frame's size: the colormap of :func:`cam_levels`."""
    return cv2.applyColorMap(cam_levels(cams, class_index, frame_shape), colormap_id(colormap))


def evidence_weights(alpha: float, floor: float = EVIDENCE_FLOOR, full: float = EVIDENCE_FULL) -> np.ndarray:
    """The evidence style's opacity per map level: a (256,) uint8 table, 255 meaning opaque.

    ``alpha * smoothstep((v - floor) / (full - floor))`` for the map value
    ``v = level / 255``: 0 up to ``floor``, ``alpha`` from ``full`` on, with a
    smooth S-shaped rise between, so the tinted area has no hard edge.
    """
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha!r}")
    if not 0.0 <= floor < full <= 1.0:
        raise ValueError(f"need 0 <= floor < full <= 1, got floor={floor!r}, full={full!r}")
    x = np.clip((np.arange(256) / 255.0 - floor) / (full - floor), 0.0, 1.0)
    return np.rint(255.0 * alpha * x * x * (3.0 - 2.0 * x)).astype(np.uint8)


def blend_evidence(frame: np.ndarray, levels: np.ndarray, alpha: float, colormap: str | int = "jet") -> np.ndarray:
    """Tint only the evidence: each pixel blended with an opacity that grows with its map level.

    ``out = frame + w * (heat - frame)`` with ``w = evidence_weights(alpha)[levels] / 255``
    and ``heat`` the colormap of ``levels``. Pixels with ``w == 0`` are the
    frame's own, exactly; the colormap and the blend run only on the bounding
    box of the others, in uint8 (within one level of the exact blend).

    Args:
        frame: BGR uint8 (H, W, 3); not modified.
        levels: uint8 (H, W) map levels (:func:`cam_levels`).
        alpha: opacity where the evidence is strongest, in [0, 1].
        colormap: an OpenCV colormap name or id.
    """
    check_image(frame)
    if not isinstance(levels, np.ndarray) or levels.dtype != np.uint8 or levels.shape != frame.shape[:2]:
        raise ValueError(
            f"levels must be a uint8 {frame.shape[:2]} map (cam_levels), got "
            f"{getattr(levels, 'dtype', type(levels).__name__)} {getattr(levels, 'shape', '')}"
        )
    canvas = BgrCanvas(frame)
    blend_evidence_into(canvas, levels, alpha, colormap)
    return canvas.image


def blend_evidence_into(
    canvas: Canvas, levels: np.ndarray, alpha: float, colormap: str | int = "jet", offset: tuple[int, int] = (0, 0)
) -> None:
    """:func:`blend_evidence` drawn on ``canvas``, touching only the box around the warm levels.

    Args:
        offset: ``(x, y)`` of ``levels``' top-left corner on the canvas (a
            region of interest's map); the levels must fit inside the canvas.
    """
    weights = cv2.LUT(levels, evidence_weights(alpha))
    x, y, w, h = cv2.boundingRect(weights)  # the box around the non-zero weights
    if w == 0 or h == 0:
        return
    ox, oy = offset
    canvas.touch(ox + x, oy + y, ox + x + w, oy + y + h)
    box = (slice(y, y + h), slice(x, x + w))
    region = canvas.image[oy + y : oy + y + h, ox + x : ox + x + w]
    heat = cv2.applyColorMap(levels[box], colormap_id(colormap))
    w3 = cv2.merge((weights[box], weights[box], weights[box]))
    tinted = cv2.multiply(heat, w3, scale=1.0 / 255.0)
    kept = cv2.multiply(region, cv2.bitwise_not(w3), scale=1.0 / 255.0)
    region[...] = cv2.add(tinted, kept)


def blend_levels_into(
    canvas: Canvas,
    levels: np.ndarray,
    alpha: float,
    colormap: str | int = "jet",
    style: str = "evidence",
    offset: tuple[int, int] = (0, 0),
) -> None:
    """:func:`blend_levels` drawn on ``canvas`` (levels placed at ``offset``, ``(x, y)``)."""
    if style == "evidence":
        blend_evidence_into(canvas, levels, alpha, colormap, offset)
        return
    if style != "full":
        raise ValueError(f"unknown heatmap style {style!r}; choose one of {', '.join(HEATMAP_STYLES)}")
    ox, oy = offset
    h, w = levels.shape[:2]
    canvas.touch(ox, oy, ox + w, oy + h)
    region = canvas.image[oy : oy + h, ox : ox + w]
    region[...] = blend_heatmap(region, cv2.applyColorMap(levels, colormap_id(colormap)), alpha)


def blend_levels(
    frame: np.ndarray, levels: np.ndarray, alpha: float, colormap: str | int = "jet", style: str = "evidence"
) -> np.ndarray:
    """The heatmap of ``levels`` over ``frame`` in one of :data:`HEATMAP_STYLES`, as a new image."""
    if style == "evidence":
        return blend_evidence(frame, levels, alpha, colormap)
    if style == "full":
        return blend_heatmap(frame, cv2.applyColorMap(levels, colormap_id(colormap)), alpha)
    raise ValueError(f"unknown heatmap style {style!r}; choose one of {', '.join(HEATMAP_STYLES)}")


__all__ = [
    "COLORMAPS",
    "EVIDENCE_FLOOR",
    "EVIDENCE_FULL",
    "HEATMAP_STYLES",
    "blend_evidence",
    "blend_heatmap",
    "blend_evidence_into",
    "blend_levels",
    "blend_levels_into",
    "cam_levels",
    "check_image",
    "colorize_cam",
    "colormap_id",
    "evidence_weights",
    "heatmap_for_frame",
]
