"""Frames -> the model's uint8 NHWC input batch.

The model does its own casting, normalisation and transposing (see
docs/model-contract.md), so all that is left here is resizing and, for an RGB
model, swapping channels. BGR frames are resized with OpenCV straight into one
preallocated batch buffer. Frames decoded from video that carry the decoder's
I420 picture are resized and converted in one pass by FFmpeg's swscale (area
averaging, as OpenCV's INTER_AREA), from the picture itself: no full-size BGR
copy is ever made (0.2 ms a 640x480 frame instead of 0.7-0.9; the inputs differ
from the BGR route's by about one level on average, see benchmarks/README.md).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import cv2
import numpy as np

from drivercam.picture import I420
from drivercam.types import Frame

COLOR_ORDERS = ("BGR", "RGB")


def interpolation_for(src_hw: tuple[int, int], dst_hw: tuple[int, int]) -> int:
    """Pick the OpenCV interpolation for resizing ``src_hw`` to ``dst_hw``.

    INTER_AREA when shrinking in both directions (it averages, so fine detail
    does not alias); INTER_LINEAR otherwise (INTER_AREA enlarges like nearest).
    """
    shrinking = dst_hw[0] <= src_hw[0] and dst_hw[1] <= src_hw[1]
    return cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR


class Preprocessor:
    """Resize BGR frames into a reusable (N, height, width, 3) uint8 buffer.

    Calling it is not thread-safe: the returned batch is a view of the shared
    buffer and is overwritten by the next call, so use it (run the model)
    before calling again. :meth:`one` is the thread-safe single-frame path.

    Args:
        height: model input height.
        width: model input width.
        color_order: channel order the model expects, ``"BGR"`` or ``"RGB"``.
        max_batch: batch size to preallocate for; a larger batch grows the buffer.
    """

    def __init__(self, height: int, width: int, color_order: str = "BGR", max_batch: int = 1) -> None:
        for name, value in (("height", height), ("width", width), ("max_batch", max_batch)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise TypeError(f"{name} must be an int, got {type(value).__name__}")
            if value < 1:
                raise ValueError(f"{name} must be >= 1, got {value!r}")
        if color_order not in COLOR_ORDERS:
            raise ValueError(f"color_order must be one of {COLOR_ORDERS}, got {color_order!r}")
        self.height = int(height)
        self.width = int(width)
        self.color_order = color_order
        self._buffer = np.zeros((int(max_batch), self.height, self.width, 3), np.uint8)
        self._local = threading.local()  # one swscale context per thread, kept between frames

    @property
    def capacity(self) -> int:
        """How many frames the buffer holds without growing."""
        return int(self._buffer.shape[0])

    def __call__(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """Resize ``images`` into the buffer and return the (N, H, W, 3) view.

        Args:
            images: BGR uint8 (h, w, 3) frames of any size.

        Raises:
            TypeError: an image is not a numpy array.
            ValueError: an image is not uint8 (h, w, 3), or ``images`` is empty.
        """
        n = len(images)
        if n == 0:
            raise ValueError("images is empty; pass at least one BGR frame")
        if n > self.capacity:
            self._buffer = np.zeros((n, self.height, self.width, 3), np.uint8)
        batch = self._buffer[:n]
        for i, image in enumerate(images):
            self._write(image, batch[i], i)
        return batch

    def one(self, image: np.ndarray) -> np.ndarray:
        """Resize one frame into a new (height, width, 3) array.

        Unlike calling the preprocessor, this touches no shared buffer, so any
        thread may call it while another runs the model on an earlier batch.
        """
        out = np.empty((self.height, self.width, 3), np.uint8)
        self._write(image, out, 0)
        return out

    def one_i420(self, picture: I420) -> np.ndarray:
        """Resize and convert an I420 picture into a new (height, width, 3) input, in one swscale pass.

        Area averaging when shrinking (bilinear when enlarging), BT.601
        limited range as FFmpeg converts untagged video; thread-safe (each
        thread keeps its own swscale context).
        """
        import av
        from av.video.reformatter import VideoReformatter

        reformatter = getattr(self._local, "reformatter", None)
        if reformatter is None:
            reformatter = self._local.reformatter = VideoReformatter()
        shrinking = self.height <= picture.height and self.width <= picture.width
        resized = reformatter.reformat(
            av.VideoFrame.from_ndarray(picture.data, format="yuv420p"),
            self.width,
            self.height,
            "bgr24",  # swscale's rgb24 writer rounds apart from its bgr24 one; swap below instead
            interpolation="AREA" if shrinking else "BILINEAR",
            threads=1,  # swscale's own threads cost more CPU than they save at this size
        )
        out: np.ndarray = resized.to_ndarray()
        if self.color_order == "RGB":
            cv2.cvtColor(out, cv2.COLOR_BGR2RGB, dst=out)
        return out

    def frame(self, frame: Frame) -> np.ndarray:
        """One frame into a new input: from its I420 picture when it carries one, else from its BGR image."""
        if frame.yuv is not None:
            return self.one_i420(frame.yuv)
        return self.one(frame.image)

    def _write(self, image: np.ndarray, out: np.ndarray, i: int) -> None:
        if not isinstance(image, np.ndarray):
            raise TypeError(f"image {i} must be a numpy array, got {type(image).__name__}")
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(f"image {i} must be a BGR uint8 (h, w, 3) array, got {image.dtype} {image.shape}")
        if image.shape[0] == 0 or image.shape[1] == 0:
            raise ValueError(f"image {i} is empty ({image.shape[1]}x{image.shape[0]} pixels); nothing to classify")
        if image.shape[:2] == (self.height, self.width):
            out[...] = image
        else:
            cv2.resize(
                image,
                (self.width, self.height),
                dst=out,
                interpolation=interpolation_for(image.shape[:2], (self.height, self.width)),
            )
        if self.color_order == "RGB":
            # In place: BGR2RGB is a pure channel swap, safe with src is dst.
            cv2.cvtColor(out, cv2.COLOR_BGR2RGB, dst=out)
