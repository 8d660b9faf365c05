"""Tests for drivercam.sinks.window: the window, with a fake HighGUI and the real one probed."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from drivercam.errors import SinkError
from drivercam.sinks import WindowSink, probe_gui


class FakeHighGui:
    """Records window calls; ``keys`` are returned by waitKey in turn."""

    def __init__(self, keys: list[int], visible: float = 1.0) -> None:
        self.keys = keys
        self.visible = visible
        self.calls: list[str] = []

    def namedWindow(self, title: str, flags: int) -> None:
        self.calls.append(f"namedWindow {title}")

    def imshow(self, title: str, image: np.ndarray) -> None:
        self.calls.append(f"imshow {image.shape}")

    def waitKey(self, delay: int) -> int:
        return self.keys.pop(0) if self.keys else -1

    def getWindowProperty(self, title: str, prop: int) -> float:
        assert prop == cv2.WND_PROP_VISIBLE
        return self.visible

    def destroyWindow(self, title: str) -> None:
        self.calls.append(f"destroyWindow {title}")


@pytest.mark.parametrize("key", [ord("q"), 27, 0x100000 | ord("q")])
def test_window_quits_on_q_or_esc(key: int) -> None:
    gui = FakeHighGui(keys=[-1, ord("x"), key])
    image = np.zeros((4, 4, 3), np.uint8)
    with WindowSink("t", gui_check=lambda: None, highgui=gui) as window:
        assert [window.show(image) for _ in range(3)] == [True, True, False]
    assert gui.calls[0] == "namedWindow t" and gui.calls[-1] == "destroyWindow t"


def test_window_closed_by_user_returns_false() -> None:
    gui = FakeHighGui(keys=[])
    window = WindowSink("t", gui_check=lambda: None, highgui=gui)
    assert window.show(np.zeros((4, 4, 3), np.uint8))
    gui.visible = 0.0
    assert not window.show(np.zeros((4, 4, 3), np.uint8))
    window.close()
    window.close()
    assert gui.calls.count("destroyWindow t") == 1


def test_window_without_gui_says_use_no_window() -> None:
    with pytest.raises(SinkError) as info:
        WindowSink("t", gui_check=lambda: "no display available", highgui=FakeHighGui([]))
    assert str(info.value) == (
        "cannot open a window: no display available; use --no-window (and -o out.mp4 to keep the video)"
    )


def test_real_gui_probe_never_crashes_this_process() -> None:
    reason = probe_gui()
    if reason is None:
        pytest.skip("a display is available here; nothing to refuse")
    assert "\n" not in reason
    with pytest.raises(SinkError, match="use --no-window"):
        WindowSink("drivercam test")


def test_qt_is_pointed_at_system_fonts_only_when_opencvs_folder_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from drivercam.sinks import window

    fonts = tmp_path / "fonts"
    fonts.mkdir()
    (fonts / "Sans.ttf").write_bytes(b"")
    monkeypatch.setattr(window, "_SYSTEM_FONT_DIRS", (str(tmp_path / "none"), str(fonts)))
    monkeypatch.setattr(window.sys, "platform", "linux")
    assert window.system_font_dir() == str(fonts)
    monkeypatch.setenv("QT_QPA_FONTDIR", str(tmp_path / "cv2" / "qt" / "fonts"))  # as OpenCV's wheel sets it
    window.use_system_fonts()
    assert os.environ["QT_QPA_FONTDIR"] == str(fonts)
    monkeypatch.setenv("QT_QPA_FONTDIR", str(tmp_path))  # a folder that exists is the user's choice
    window.use_system_fonts()
    assert os.environ["QT_QPA_FONTDIR"] == str(tmp_path)
    monkeypatch.delenv("QT_QPA_FONTDIR")
    window.use_system_fonts()
    assert "QT_QPA_FONTDIR" not in os.environ
