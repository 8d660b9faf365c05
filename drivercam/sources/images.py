"""Still images from a folder, a glob pattern or a single file, in natural order."""

from __future__ import annotations

import glob
import logging
import re
import time
from pathlib import Path

import cv2
import numpy as np

from drivercam.errors import SourceError
from drivercam.sources._common import _SourceBase
from drivercam.types import Frame

logger = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp"})
DEFAULT_IMAGE_FPS = 15.0


def natural_key(path: str | Path) -> tuple[tuple[int, int | str], ...]:
    """Sort key that puts ``img_2`` before ``img_10`` (case-insensitive)."""
    parts = re.split(r"(\d+)", str(path).lower())
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in parts if p)


def _is_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES and path.is_file()


class ImageFolderSource(_SourceBase):
    """Images from a folder, a glob pattern or a single file, in natural order.

    Accepted suffixes: .jpg .jpeg .png .bmp .webp (any case). A folder is not
    searched recursively; use a glob such as ``photos/**/*.jpg`` for that.
    Images may differ in size. An unreadable image is skipped with a warning
    and recorded in :attr:`skipped` (one bad photo should not stop a batch);
    ``Frame.index`` stays contiguous over the images that were read.

    Args:
        folder_or_glob: a folder, a glob pattern, or one image file.
        fps: the frame rate to pretend, for ``time_s`` and for writing a video.

    Raises:
        SourceError: when nothing matches.
    """

    def __init__(self, folder_or_glob: str | Path, *, fps: float = DEFAULT_IMAGE_FPS) -> None:
        if fps <= 0:
            raise ValueError(f"fps must be > 0, got {fps!r}")
        spec = str(folder_or_glob)
        path = Path(spec)
        if path.is_dir():
            paths = [p for p in path.iterdir() if _is_image(p)]
            where = f"folder {spec!r}"
        elif path.is_file():
            paths = [path] if path.suffix.lower() in IMAGE_SUFFIXES else []
            where = f"file {spec!r}"
        else:
            paths = [Path(p) for p in glob.glob(spec, recursive=True)]
            paths = [p for p in paths if _is_image(p)]
            where = f"glob {spec!r}"
        if not paths:
            raise SourceError(f"{where} has no images ({' '.join(sorted(IMAGE_SUFFIXES))}); check the path")
        self.paths: list[Path] = sorted(paths, key=natural_key)
        self._fps = float(fps)
        self._next = 0
        self._index = 0
        self.skipped: list[Path] = []

    @property
    def is_live(self) -> bool:
        return False

    @property
    def fps(self) -> float:
        return self._fps

    @property
    def frame_count(self) -> int | None:
        """Number of image files (frames delivered can be fewer if some are unreadable)."""
        return len(self.paths)

    def read(self) -> Frame | None:
        while self._next < len(self.paths):
            path = self.paths[self._next]
            self._next += 1
            image = _read_image(path)
            if image is None:
                logger.warning("skipping unreadable image %s", path)
                self.skipped.append(path)
                continue
            frame = Frame(
                index=self._index,
                image=image,
                time_s=self._index / self._fps,
                source=str(path),
                captured_at=time.monotonic(),
            )
            self._index += 1
            return frame
        return None

    def close(self) -> None:
        self._next = len(self.paths)

    def __repr__(self) -> str:
        return f"ImageFolderSource({len(self.paths)} images, fps={self._fps:g})"


def _read_image(path: Path) -> np.ndarray | None:
    """Read an image as BGR uint8; None when it cannot be decoded."""
    try:
        data = np.fromfile(str(path), dtype=np.uint8)  # works with non-ASCII paths too
    except OSError:
        return None
    if data.size == 0:
        return None
    image = cv2.imdecode(data, cv2.IMREAD_COLOR)
    return None if image is None else np.ascontiguousarray(image)
