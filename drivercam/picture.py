"""Pictures as the video codecs hold them: I420 planes, and the BGR arrays OpenCV draws on."""

from __future__ import annotations

import numpy as np


class I420:
    """A picture as planar YUV 4:2:0 (I420), the layout H.264 decoders and encoders use.

    ``data`` is one C-contiguous uint8 array of shape ``(height * 3 // 2, width)``:
    the Y plane (``height`` rows), then the U and V planes of ``height // 2``
    rows of ``width // 2`` each, packed back to back (OpenCV's
    ``COLOR_YUV2BGR_I420`` layout). Width and height are even. Colours are
    BT.601 limited range, as FFmpeg converts untagged SD video.

    Pictures stay in this form from the decoder to the encoder; only what is
    drawn on is converted to BGR and back (:mod:`drivercam.render.canvas`).
    """

    __slots__ = ("data", "height", "width")

    def __init__(self, data: np.ndarray) -> None:
        if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2:
            raise ValueError(f"I420 data must be a 2-D uint8 array, got {getattr(data, 'dtype', type(data))}")
        rows, width = data.shape
        if rows % 3 or width % 2 or (2 * rows // 3) % 2 or not rows:
            raise ValueError(f"I420 data must have (height * 3 / 2, width) rows with even sizes, got {data.shape}")
        self.data = np.ascontiguousarray(data)
        self.height = 2 * rows // 3
        self.width = width

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(height, width, 3)``: the shape of the same picture in BGR."""
        return self.height, self.width, 3

    def planes(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Views of the Y (H, W), U and V (H/2, W/2) planes; writing to them writes the picture."""
        h, w = self.height, self.width
        flat = self.data.reshape(-1)
        y = flat[: h * w].reshape(h, w)
        u = flat[h * w : h * w * 5 // 4].reshape(h // 2, w // 2)
        v = flat[h * w * 5 // 4 :].reshape(h // 2, w // 2)
        return y, u, v

    def copy(self) -> I420:
        return I420(self.data.copy())

    def to_bgr(self) -> np.ndarray:
        """The whole picture as BGR uint8 (H, W, 3), converted as FFmpeg converts it (swscale)."""
        import av

        frame = av.VideoFrame.from_ndarray(self.data, format="yuv420p")
        image: np.ndarray = frame.to_ndarray(format="bgr24")
        return image

    def __repr__(self) -> str:
        return f"I420({self.width}x{self.height})"


Picture = np.ndarray | I420
"""A rendered frame: BGR uint8 (H, W, 3), or :class:`I420` when the frame came from a video decoder."""


def as_bgr(picture: Picture) -> np.ndarray:
    """``picture`` as BGR uint8 (H, W, 3) (converted when it is :class:`I420`)."""
    return picture.to_bgr() if isinstance(picture, I420) else picture
