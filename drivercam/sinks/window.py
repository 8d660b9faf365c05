"""An OpenCV preview window, and a probe for whether one can open here."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from drivercam.errors import SinkError, describe
from drivercam.sinks._common import _SinkBase

logger = logging.getLogger(__name__)

_QUIT_KEYS = frozenset({ord("q"), ord("Q"), 27})  # 27: Esc
_NO_WINDOW_FIX = "use --no-window (and -o out.mp4 to keep the video)"
_SYSTEM_FONT_DIRS = (
    "/usr/share/fonts/truetype/dejavu",
    "/usr/share/fonts/truetype/liberation",
    "/usr/share/fonts/TTF",
    "/usr/share/fonts/truetype",
    "/usr/share/fonts",
)


def system_font_dir() -> str | None:
    """A folder of TrueType fonts Qt can use here, or None."""
    for folder in _SYSTEM_FONT_DIRS:
        if any(Path(folder).glob("*.ttf")):
            return folder
    return None


def use_system_fonts() -> None:
    """Point OpenCV's Qt windows at the system's fonts when its own folder is missing.

    OpenCV's Linux wheels set ``QT_QPA_FONTDIR`` to a folder they do not ship,
    and Qt then prints a two-line warning each time it draws text. Qt reads the
    variable when the first window opens, so call this before that. This is the
    one place the library touches the environment: it writes the variable Qt
    reads, for this process only, and only when the folder it names is missing.
    """
    if not sys.platform.startswith("linux"):
        return
    current = os.environ.get("QT_QPA_FONTDIR")
    if current is None or Path(current).is_dir():
        return
    folder = system_font_dir()
    if folder is not None:
        os.environ["QT_QPA_FONTDIR"] = folder


@lru_cache(maxsize=1)
def probe_gui(timeout_s: float = 10.0) -> str | None:
    """Say why OpenCV cannot open a window here, or None if it can.

    A headless OpenCV build cannot show windows at all. On Linux, OpenCV's Qt
    backend aborts the whole process when there is no display, so the first
    window is opened in a throw-away child process. The answer is cached.
    """
    match = re.search(r"^\s*GUI:\s*(\S+)", cv2.getBuildInformation(), re.MULTILINE)
    if match is not None and match.group(1).upper() == "NONE":
        return "this OpenCV build has no GUI support (opencv-python-headless is installed)"
    if sys.platform in ("win32", "darwin"):
        return None
    code = "import cv2; cv2.namedWindow('drivercam'); cv2.waitKey(1); cv2.destroyAllWindows()"
    try:
        proc = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout_s, check=False
        )
    except subprocess.TimeoutExpired:
        return f"opening a test window did not finish within {timeout_s:g} s"
    except OSError as exc:
        return f"could not test for a display: {exc}"
    if proc.returncode == 0:
        return None
    lines = [line.strip() for line in proc.stderr.splitlines() if line.strip()]
    detail = next((line for line in lines if "display" in line.lower()), lines[0] if lines else "")
    return f"no display available ({detail})" if detail else "no display available"


class WindowSink(_SinkBase):
    """Show frames in an OpenCV window. Call every method on the main thread.

    Args:
        title: the window title.
        gui_check: returns why no window can be opened, or None (default
            :func:`probe_gui`); injectable for tests.
        highgui: the module providing ``namedWindow``, ``imshow``, ``waitKey``,
            ``getWindowProperty`` and ``destroyWindow`` (``cv2``; a fake in tests).

    Raises:
        SinkError: at construction when no window can be opened, saying to use ``--no-window``.
    """

    def __init__(
        self,
        title: str,
        *,
        gui_check: Callable[[], str | None] = probe_gui,
        highgui: Any = cv2,
    ) -> None:
        self.title = title
        self._gui = highgui
        self._closed = False
        self._shown = False
        reason = gui_check()
        if reason is not None:
            raise SinkError(f"cannot open a window: {reason}; {_NO_WINDOW_FIX}")
        use_system_fonts()
        try:
            self._gui.namedWindow(title, cv2.WINDOW_NORMAL)
        except cv2.error as exc:
            raise SinkError(f"cannot open a window: {describe(exc, line='last')}; {_NO_WINDOW_FIX}") from exc

    def show(self, image: np.ndarray) -> bool:
        """Display ``image``; False when the user pressed q or Esc or closed the window."""
        if self._closed:
            return False
        try:
            if self._shown and self._gui.getWindowProperty(self.title, cv2.WND_PROP_VISIBLE) < 1:
                return False  # closed with the mouse since the last frame
            self._gui.imshow(self.title, image)
            self._shown = True
            key = int(self._gui.waitKey(1))
            if key >= 0 and (key & 0xFF) in _QUIT_KEYS:
                return False
            return bool(self._gui.getWindowProperty(self.title, cv2.WND_PROP_VISIBLE) >= 1)
        except cv2.error as exc:
            raise SinkError(
                f"cannot show window {self.title!r}: {describe(exc, line='last')}; {_NO_WINDOW_FIX}"
            ) from exc

    def close(self) -> None:
        """Destroy the window. Idempotent."""
        if self._closed:
            return
        self._closed = True
        try:
            self._gui.destroyWindow(self.title)
            self._gui.waitKey(1)  # let the GUI process the close
        except cv2.error as exc:
            logger.debug("destroying window %r: %s", self.title, exc)
