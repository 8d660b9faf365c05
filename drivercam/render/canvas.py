"""What the renderer draws on: a BGR image, or an I420 picture converted only where it is drawn on.

Every drawing step first *touches* the rectangle it will change
(:meth:`Canvas.touch`), then draws into ``canvas.image`` (BGR, the frame's
full size) inside that rectangle only. On a BGR frame the canvas is a copy of
the frame and touching does nothing. On an :class:`~drivercam.picture.I420`
picture (a frame from a video decoder), touching converts just that rectangle
(widened to even bounds, for the half-size chroma planes) from YUV to BGR,
and :meth:`Canvas.finish` converts the touched rectangles back into a copy of
the picture: every pixel outside them stays the decoder's own, and no
full-frame conversion to BGR and back is made for the encoder. The two
conversions are OpenCV's BT.601 limited-range ones (``COLOR_YUV2BGR_I420`` and
``COLOR_BGR2YUV_I420``), which FFmpeg also uses for untagged video.
"""

from __future__ import annotations

import threading

import cv2
import numpy as np

from drivercam.picture import I420, Picture

__all__ = ["BgrCanvas", "Canvas", "YuvCanvas", "canvas_for"]


class Canvas:
    """A frame to draw on: touch a rectangle, draw inside it in ``image``, then :meth:`finish`."""

    image: np.ndarray
    """BGR uint8 (H, W, 3); only touched rectangles hold the picture."""

    @property
    def shape(self) -> tuple[int, int, int]:
        h, w = self.image.shape[:2]
        return h, w, 3

    def touch(self, x0: int, y0: int, x1: int, y1: int) -> None:
        """Make ``image[y0:y1, x0:x1]`` hold the picture, ready to draw on (bounds are clipped)."""

    def touch_all(self) -> None:
        """Make the whole of ``image`` hold the picture."""
        h, w = self.image.shape[:2]
        self.touch(0, 0, w, h)

    def finish(self) -> Picture:
        """The drawn picture, in the form the frame came in (a new image; the frame is untouched)."""
        return self.image


class BgrCanvas(Canvas):
    """A copy of a BGR frame (or the frame itself, with ``copy=False``)."""

    def __init__(self, image: np.ndarray, *, copy: bool = True) -> None:
        self.image = image.copy() if copy else image


class YuvCanvas(Canvas):
    """An I420 picture converted to BGR one touched rectangle at a time, and back on :meth:`finish`.

    Which 2x2 blocks are converted is tracked, so a rectangle that overlaps
    one touched before converts only its new part and never overwrites what
    was drawn there.
    """

    def __init__(self, picture: I420) -> None:
        self._picture = picture
        self._planes = picture.planes()
        h, w = picture.height, picture.width
        self.image = _scratch.take((h, w, 3))
        self._done = np.zeros((h // 2, w // 2), bool)  # one flag per 2x2 block
        self._blocks: list[tuple[int, int, int, int]] = []  # converted rectangles, in 2x2 blocks, disjoint

    def touch(self, x0: int, y0: int, x1: int, y1: int) -> None:
        h2, w2 = self._done.shape
        bx0, by0 = max(0, x0 // 2), max(0, y0 // 2)
        bx1, by1 = min(w2, -(-x1 // 2)), min(h2, -(-y1 // 2))
        if bx1 <= bx0 or by1 <= by0:
            return
        done = self._done[by0:by1, bx0:bx1]
        if not done.any():
            self._convert(bx0, by0, bx1, by1)
            return
        if done.all():
            return
        # Partly converted: convert the rest, as runs of blocks on each group of
        # consecutive rows whose runs are the same (usually one to three groups).
        todo = ~done
        changes = np.flatnonzero(np.any(todo[1:] != todo[:-1], axis=1)) + 1
        starts = [0, *changes.tolist()]
        stops = [*changes.tolist(), by1 - by0]
        for start, stop in zip(starts, stops):
            for a, b in _runs(todo[start]):
                self._convert(bx0 + a, by0 + start, bx0 + b, by0 + stop)

    def _convert(self, bx0: int, by0: int, bx1: int, by1: int) -> None:
        """YUV -> BGR for the blocks ``[by0:by1, bx0:bx1]`` (none converted yet)."""
        y, u, v = self._planes
        x0, y0, x1, y1 = 2 * bx0, 2 * by0, 2 * bx1, 2 * by1
        packed = _pack(y[y0:y1, x0:x1], u[by0:by1, bx0:bx1], v[by0:by1, bx0:bx1])
        cv2.cvtColor(packed, cv2.COLOR_YUV2BGR_I420, dst=self.image[y0:y1, x0:x1])
        self._done[by0:by1, bx0:bx1] = True
        self._blocks.append((bx0, by0, bx1, by1))

    def finish(self) -> I420:
        out = self._picture.copy()
        y, u, v = out.planes()
        for bx0, by0, bx1, by1 in self._blocks:
            x0, y0, x1, y1 = 2 * bx0, 2 * by0, 2 * bx1, 2 * by1
            h, w = y1 - y0, x1 - x0
            packed = cv2.cvtColor(np.ascontiguousarray(self.image[y0:y1, x0:x1]), cv2.COLOR_BGR2YUV_I420)
            flat = packed.reshape(-1)
            y[y0:y1, x0:x1] = flat[: h * w].reshape(h, w)
            u[by0:by1, bx0:bx1] = flat[h * w : h * w * 5 // 4].reshape(h // 2, w // 2)
            v[by0:by1, bx0:bx1] = flat[h * w * 5 // 4 :].reshape(h // 2, w // 2)
        _scratch.give_back(self.image)
        self.image = np.empty((0, 0, 3), np.uint8)  # finished: nothing more to draw
        return out


class _Scratch(threading.local):
    """One reusable BGR buffer per thread for :class:`YuvCanvas`.

    A fresh 640x480 BGR array each frame costs page faults on first touch
    (glibc maps large blocks anew); reusing one does not. A canvas takes the
    buffer and gives it back on ``finish``; one made meanwhile (or never
    finished) gets an array of its own.
    """

    def __init__(self) -> None:
        self.free: np.ndarray | None = None

    def take(self, shape: tuple[int, int, int]) -> np.ndarray:
        buffer, self.free = self.free, None
        if buffer is None or buffer.shape != shape:
            buffer = np.empty(shape, np.uint8)
        return buffer

    def give_back(self, buffer: np.ndarray) -> None:
        self.free = buffer


_scratch = _Scratch()


def canvas_for(picture: Picture, *, copy: bool = True) -> Canvas:
    """A canvas over ``picture``: a :class:`YuvCanvas` for I420, else a :class:`BgrCanvas` (a copy unless told)."""
    if isinstance(picture, I420):
        return YuvCanvas(picture)
    return BgrCanvas(picture, copy=copy)


def _pack(y: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Planes of one rectangle packed into OpenCV's I420 layout, ``(h * 3 // 2, w)``."""
    h, w = y.shape
    packed = np.empty(h * w * 3 // 2, np.uint8)
    packed[: h * w].reshape(h, w)[...] = y
    packed[h * w : h * w * 5 // 4].reshape(h // 2, w // 2)[...] = u
    packed[h * w * 5 // 4 :].reshape(h // 2, w // 2)[...] = v
    return packed.reshape(h * 3 // 2, w)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """``[start, stop)`` of each run of True in a 1-D bool array."""
    edges = np.flatnonzero(np.diff(np.concatenate(([False], mask, [False])).astype(np.int8)))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2])]
