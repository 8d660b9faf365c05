"""Tests for drivercam.sources.factory: which source a --source value opens."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import media
from support.fake_capture import FakeCapture, FakeFactory

from drivercam.errors import SourceError
from drivercam.sources import (
    CameraSource,
    ImageFolderSource,
    PacedSource,
    StreamSource,
    VideoFileSource,
    open_source,
)

# --------------------------------------------------------------------------- video files


def test_open_source_dispatch(tmp_path: Path, clip: Path) -> None:
    media.write_image_folder(tmp_path / "imgs", count=2)
    factory = FakeFactory(FakeCapture(), FakeCapture(), FakeCapture())
    with open_source(clip) as s:
        assert isinstance(s, VideoFileSource)
    with open_source(str(clip), live=True) as s:
        assert isinstance(s, PacedSource) and s.is_live
    with open_source(tmp_path / "imgs", fps=5) as s:
        assert isinstance(s, ImageFolderSource) and s.fps == 5
    with open_source(str(tmp_path / "imgs" / "img_1.png")) as s:
        assert isinstance(s, ImageFolderSource) and s.frame_count == 1
    with open_source(str(tmp_path / "imgs" / "*.png")) as s:
        assert isinstance(s, ImageFolderSource) and s.frame_count == 2
    with open_source("0", width=320, capture_factory=factory) as s:
        assert isinstance(s, CameraSource)
    with open_source(1, capture_factory=factory) as s:
        assert isinstance(s, CameraSource)
    with open_source("rtsp://host/stream", capture_factory=factory) as s:
        assert isinstance(s, StreamSource)
    assert [c[0] for c in factory.calls] == [0, 1, "rtsp://host/stream"]


def test_open_source_bad_specs(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"no such file or folder: '.*nothere\.mp4'; give a video file"):
        open_source(str(tmp_path / "nothere.mp4"))
    with pytest.raises(SourceError, match=r"unsupported URL scheme 'ftp'"):
        open_source("ftp://host/video.mp4")
    with pytest.raises(SourceError, match="empty source"):
        open_source("  ")
    with pytest.raises(SourceError, match="camera index must be >= 0"):
        open_source(-1)
