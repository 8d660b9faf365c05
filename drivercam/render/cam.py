"""Class activation maps: pick a class's map, ReLU, normalise, upsample.

The model already computes every class's map (docs/model-contract.md),
following Zhou et al., "Learning Deep Features for Discriminative
Localization" (CVPR 2016)::

    CAM_c(x, y) = sum_k w_ck * f_k(x, y)

where ``f_k`` is the k-th channel of the last feature maps (before global
average pooling) and ``w_ck`` the final linear layer's weight from channel k to
class c, bias excluded. Because pooling is linear, the class score is
``mean_xy CAM_c(x, y) + b_c``: the map shows where the evidence for class c is.

For display the map is ReLU'd (only positive evidence), min-max normalised to
[0, 1], then bilinearly upsampled to the frame's own size. The model sees the
whole frame stretched to its input size, so stretching the map back to the
frame's height and width, whatever its aspect ratio, puts each cell over the
pixels it came from. Upsampling is pixel-centre aligned (OpenCV's INTER_LINEAR:
output pixel centre ``(i + 0.5) * h / H - 0.5`` in map coordinates, edges
clamped). Everything here is float32 and never modifies its input.
"""

from __future__ import annotations

import cv2
import numpy as np

# Below this spread (relative to the map's magnitude) a map counts as constant:
# normalising it would only amplify rounding noise.
_CONSTANT_RTOL = 1e-6


def select_cam(cams: np.ndarray, class_index: int) -> np.ndarray:
    """Return the (h, w) map of ``class_index`` from (C, h, w) ``cams``.

    Raises:
        ValueError: ``cams`` is not 3-D.
        IndexError: ``class_index`` is not in ``[0, C)``.
    """
    if cams.ndim != 3:
        raise ValueError(f"cams must have shape (C, h, w), got {cams.shape}")
    if isinstance(class_index, bool) or not isinstance(class_index, (int, np.integer)):
        raise TypeError(f"class_index must be an int, got {type(class_index).__name__}")
    if not 0 <= class_index < cams.shape[0]:
        raise IndexError(f"class_index must be in [0, {cams.shape[0]}), got {class_index}")
    plane: np.ndarray = cams[int(class_index)]
    return plane


def normalize_cam(cam: np.ndarray, *, relu: bool = True) -> np.ndarray:
    """Scale a 2-D map to float32 [0, 1] (a new array).

    Args:
        cam: (h, w) raw map.
        relu: zero the negative values first (keep only evidence *for* the class).

    Returns:
        ``(cam - min) / (max - min)``; a constant map (all negative, with
        ``relu``) gives zeros, never NaN.

    Raises:
        ValueError: ``cam`` is not 2-D or holds NaN/inf.
    """
    if cam.ndim != 2:
        raise ValueError(f"cam must have shape (h, w), got {cam.shape}")
    out = np.array(cam, dtype=np.float32, copy=True)
    if relu:
        np.maximum(out, 0.0, out=out)
    lo, hi = float(out.min()), float(out.max())
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise ValueError("cam holds NaN or inf; check the model's cams output")
    span = hi - lo
    if span <= _CONSTANT_RTOL * max(abs(lo), abs(hi)):
        out[...] = 0.0
        return out
    out -= lo
    out *= np.float32(1.0 / span)
    # Rounding can leave 1.0000001; keep the documented range exact.
    np.clip(out, 0.0, 1.0, out=out)
    return out


def upsample_cam(cam: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bilinearly resize a (h, w) map to ``size`` = (H, W), pixel-centre aligned.

    Returns:
        float32 (H, W) array.
    """
    if cam.ndim != 2:
        raise ValueError(f"cam must have shape (h, w), got {cam.shape}")
    height, width = (int(v) for v in size)
    if height < 1 or width < 1:
        raise ValueError(f"size must be (H, W) with H, W >= 1, got {size!r}")
    src = np.ascontiguousarray(cam, dtype=np.float32)
    if src.shape == (height, width):
        return src.copy()
    return cv2.resize(src, (width, height), interpolation=cv2.INTER_LINEAR)


def cam_for_frame(
    cams: np.ndarray,
    class_index: int,
    frame_shape: tuple[int, ...],
    *,
    relu: bool = True,
) -> np.ndarray:
    """The displayable map of ``class_index``: float32 [0, 1] at the frame's (H, W).

    Normalises at model resolution (cheap) before upsampling; bilinear
    interpolation of values in [0, 1] stays in [0, 1].

    Args:
        cams: (C, h, w) raw maps of one frame.
        class_index: which class to show.
        frame_shape: the frame's shape, ``(H, W)`` or ``(H, W, 3)``.
        relu: see :func:`normalize_cam`.
    """
    if len(frame_shape) < 2:
        raise ValueError(f"frame_shape must be (H, W) or (H, W, 3), got {frame_shape!r}")
    size = (int(frame_shape[0]), int(frame_shape[1]))
    return upsample_cam(normalize_cam(select_cam(cams, class_index), relu=relu), size)
