"""Tests for drivercam.sources: real files decoded with PyAV, fake cameras injected."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import cv2
import media
import numpy as np
import pytest
from fake_capture import FakeCapture

from drivercam.errors import SourceError
from drivercam.sources import (
    CameraSource,
    ImageFolderSource,
    PacedSource,
    StreamSource,
    VideoFileSource,
    natural_key,
    open_source,
)
from drivercam.types import Frame, FrameSource


def read_all(source: FrameSource) -> list[Frame]:
    frames = []
    while (frame := source.read()) is not None:
        frames.append(frame)
        assert len(frames) < 10_000, "source never ended"
    return frames


# --------------------------------------------------------------------------- video files


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("clip")
    return media.write_video(folder / "clip.mp4", frames=30, fps=15, audio=True, faststart=True)


def test_video_file_frames_in_order_with_pts_times(clip: Path) -> None:
    with VideoFileSource(clip) as source:
        assert isinstance(source, FrameSource)
        assert not source.is_live
        assert source.fps == pytest.approx(15.0)
        assert source.frame_count == 30
        assert (source.width, source.height) == (64, 48)
        assert source.has_audio
        frames = read_all(source)
        assert source.read() is None  # stays ended
        assert source.error is None
    assert [f.index for f in frames] == list(range(30))
    assert [media.frame_index_of(f.image) for f in frames] == list(range(30))
    np.testing.assert_allclose([f.time_s for f in frames], np.arange(30) / 15, atol=1e-6)
    assert all(f.image.shape == (48, 64, 3) and f.image.dtype == np.uint8 for f in frames)
    assert frames[0].source == str(clip)
    # Decoded pixels match what was encoded (H.264 at crf 18, so only small error).
    diff = np.abs(frames[5].image.astype(int) - media.synthetic_frame(5).astype(int))
    assert diff.mean() < 6


def test_video_file_without_audio_mpeg4_odd_rate(tmp_path: Path) -> None:
    from fractions import Fraction

    path = media.write_video(tmp_path / "v.mkv", frames=12, fps=Fraction(30000, 1001), codec="mpeg4")
    with VideoFileSource(path) as source:
        assert not source.has_audio
        assert source.fps == pytest.approx(29.97, abs=0.01)
        frames = read_all(source)
    assert len(frames) == 12
    assert frames[-1].time_s == pytest.approx(11 * 1001 / 30000, abs=1e-3)


def test_truncated_file_yields_decodable_frames_then_records_error(tmp_path: Path) -> None:
    full = media.write_video(tmp_path / "full.mp4", frames=60, fps=15, faststart=True)
    cut = media.truncated_copy(full, tmp_path / "cut.mp4", keep=0.5)
    with VideoFileSource(cut) as source:
        frames = read_all(source)
        assert source.read() is None
        error = source.error
    assert 0 < len(frames) < 60
    assert [media.frame_index_of(f.image) for f in frames] == list(range(len(frames)))
    assert error is not None and "\n" not in error
    assert f"decoded {len(frames)} of ~60 frames" in error
    assert "truncated" in error


def test_damage_mid_file_skips_bad_packets_and_keeps_going(tmp_path: Path) -> None:
    full = media.write_video(tmp_path / "full.mp4", frames=60, fps=15, faststart=True)
    damaged = media.corrupted_copy(full, tmp_path / "damaged.mp4", at=1 / 3, nbytes=2000)
    with VideoFileSource(damaged) as source:
        frames = read_all(source)
        error = source.error
    assert 0 < len(frames) < 60
    assert frames[-1].time_s == pytest.approx(59 / 15, abs=1e-3)  # decoding resumed after the damage
    assert all(b.time_s > a.time_s for a, b in zip(frames, frames[1:]))
    assert error is not None and "damaged packet(s) skipped" in error
    assert error.startswith(f"decoded {len(frames)} of ~60 frames")


def test_truncated_mp4_without_index_fails_at_open(tmp_path: Path) -> None:
    full = media.write_video(tmp_path / "full.mp4", frames=30, fps=15)  # index at the end
    cut = media.truncated_copy(full, tmp_path / "cut.mp4", keep=0.7)
    with pytest.raises(SourceError, match=r"could not open .*cut\.mp4.* as a video") as info:
        VideoFileSource(cut)
    assert "\n" not in str(info.value)


def test_not_a_video(tmp_path: Path) -> None:
    path = tmp_path / "notes.mp4"
    path.write_text("this is not a video\n" * 20)
    with pytest.raises(SourceError, match=r"could not open .*notes\.mp4.* as a video"):
        VideoFileSource(path)


def test_missing_file() -> None:
    with pytest.raises(SourceError, match=r"video file not found: '/nonexistent/x\.mp4'"):
        VideoFileSource("/nonexistent/x.mp4")


def test_file_without_video_stream(tmp_path: Path) -> None:
    import av

    path = tmp_path / "tone.m4a"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=16000)
        stream.layout = "mono"
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
        frame.sample_rate = 16000
        frame.pts = 0
        for packet in [*stream.encode(frame), *stream.encode()]:
            container.mux(packet)
    with pytest.raises(SourceError, match="has no video stream"):
        VideoFileSource(path)


def test_real_clip_decodes_1260_frames_at_15_fps_with_audio(data_dir: Path) -> None:
    clip = data_dir / "clips" / "cabin_p024.mp4"
    if not clip.is_file():
        pytest.skip(f"{clip} is absent; set DRIVERCAM_DATA to the real data folder")
    with VideoFileSource(clip) as source:
        assert source.frame_count == 1260
        assert source.fps == pytest.approx(15.0)
        assert source.has_audio
        assert (source.width, source.height) == (640, 480)
        frames = 0
        last: Frame | None = None
        while (frame := source.read()) is not None:
            frames += 1
            last = frame
        assert source.error is None
    assert frames == 1260
    assert last is not None and last.image.shape == (480, 640, 3)
    assert last.time_s == pytest.approx(1259 / 15, abs=1e-3)


# --------------------------------------------------------------------------- fake captures


class FakeFactory:
    """Hands out the given captures in turn (then closed ones) and records the calls."""

    def __init__(self, *captures: FakeCapture) -> None:
        self.captures = list(captures)
        self.calls: list[tuple[Any, ...]] = []

    def __call__(self, *args: Any) -> FakeCapture:
        self.calls.append(args)
        return self.captures.pop(0) if self.captures else FakeCapture(opened=False)


class FakeClock:
    def __init__(self, start: float = 100.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_absent_camera_fails_fast_with_the_fix() -> None:
    factory = FakeFactory(FakeCapture(opened=False))
    with pytest.raises(SourceError) as info:
        CameraSource(0, capture_factory=factory, sleep=pytest.fail)
    assert str(info.value) == (
        "could not open camera 0; is it connected or used by another program? try --source 1"
    )
    assert factory.calls == [(0,)]


def test_camera_open_that_blocks_times_out() -> None:
    release = threading.Event()

    def hanging_factory(*args: Any) -> FakeCapture:
        release.wait(5)
        return FakeCapture()

    try:
        with pytest.raises(SourceError, match=r"opening camera 2 took longer than 0\.2 s"):
            CameraSource(2, capture_factory=hanging_factory, open_timeout_s=0.2)
    finally:
        release.set()


def test_camera_requests_size_and_fps_and_delivers_frames() -> None:
    cap = FakeCapture(frames=5)
    clock = FakeClock()
    with CameraSource(1, width=640, height=480, fps=30, capture_factory=FakeFactory(cap), clock=clock) as cam:
        assert cam.is_live and cam.frame_count is None
        assert cam.fps == 30.0
        assert (cam.width, cam.height) == (640, 480)
        first = cam.read()
        clock.now += 0.5
        second = cam.read()
    assert (cv2.CAP_PROP_FRAME_WIDTH, 640.0) in cap.sets
    assert (cv2.CAP_PROP_FRAME_HEIGHT, 480.0) in cap.sets
    assert (cv2.CAP_PROP_FPS, 30.0) in cap.sets
    assert first is not None and second is not None
    assert (first.index, second.index) == (0, 1)
    assert (first.time_s, second.time_s) == (0.0, 0.5)
    assert second.captured_at == 100.5
    assert first.image.shape == (480, 640, 3)
    assert cap.released


def test_camera_reconnects_with_doubling_backoff() -> None:
    first, dead, back = FakeCapture(frames=2), FakeCapture(opened=False), FakeCapture(frames=1)
    factory = FakeFactory(first, dead, FakeCapture(frames=0), back)
    clock = FakeClock()
    cam = CameraSource(0, capture_factory=factory, sleep=clock.sleep, clock=clock, backoff_s=0.5)
    frames = [cam.read(), cam.read(), cam.read()]
    assert all(f is not None for f in frames)
    assert [f.index for f in frames if f] == [0, 1, 2]
    # Third attempt succeeds: slept 0.5, 1.0, 2.0 before the three reopen attempts.
    assert clock.sleeps == [0.5, 1.0, 2.0]
    assert cam.reconnects == 1
    assert first.released and dead.released
    cam.close()
    assert back.released


def test_camera_gives_up_after_bounded_attempts() -> None:
    clock = FakeClock()
    cam = CameraSource(
        0,
        capture_factory=FakeFactory(FakeCapture(frames=0)),
        sleep=clock.sleep,
        clock=clock,
        reconnect_attempts=4,
        backoff_s=1.0,
        max_backoff_s=3.0,
    )
    gave_up = "camera 0 stopped delivering frames and 4 reconnect attempts failed"
    with pytest.raises(SourceError, match=gave_up):
        cam.read()
    assert clock.sleeps == [1.0, 2.0, 3.0, 3.0]  # doubling, capped
    cam.close()
    assert cam.read() is None  # closed sources just end


def test_close_while_a_read_is_blocked_never_hangs() -> None:
    unblock = threading.Event()
    entered = threading.Event()

    class StuckCapture(FakeCapture):
        def read(self) -> tuple[bool, np.ndarray | None]:
            entered.set()
            unblock.wait(5)
            return super().read()

    cap = StuckCapture(frames=1, fps=25)
    cam = CameraSource(0, capture_factory=FakeFactory(cap))
    results: list[Frame | None] = []
    reader = threading.Thread(target=lambda: results.append(cam.read()))
    reader.start()
    try:
        assert entered.wait(5)
        # Properties answer at once although the reader holds the device.
        assert (cam.fps, cam.width, cam.height) == (25.0, 32, 24)
        cam.close(timeout_s=0.05)  # gives up waiting, does not hang
        assert not cap.released
    finally:
        unblock.set()
        reader.join(5)
    assert not reader.is_alive()
    assert results == [None]  # the frame that arrived after close is discarded
    assert cap.released  # released by the reader on its way out


def test_camera_converts_grey_frames_to_bgr() -> None:
    class GreyCapture(FakeCapture):
        def read(self) -> tuple[bool, np.ndarray | None]:
            return True, np.zeros((24, 32), np.uint8)

    with CameraSource("/dev/video9", capture_factory=FakeFactory(GreyCapture())) as cam:
        frame = cam.read()
    assert frame is not None and frame.image.shape == (24, 32, 3)
    assert frame.source == "camera /dev/video9"


def test_stream_passes_timeouts_and_hides_password() -> None:
    factory = FakeFactory(FakeCapture(opened=False))
    with pytest.raises(SourceError) as info:
        StreamSource("rtsp://admin:hunter2@10.0.0.5/live", capture_factory=factory, open_timeout_s=3)
    assert "hunter2" not in str(info.value)
    assert "rtsp://admin:***@10.0.0.5/live" in str(info.value)
    url, api, params = factory.calls[0]
    assert url == "rtsp://admin:hunter2@10.0.0.5/live" and api == cv2.CAP_FFMPEG
    assert params == [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, 3000, cv2.CAP_PROP_READ_TIMEOUT_MSEC, 3000]


def test_finite_stream_ends_instead_of_reconnecting() -> None:
    clock = FakeClock()
    factory = FakeFactory(FakeCapture(frames=2, count=2))
    url = "http://example.com/a.mp4"
    with StreamSource(url, capture_factory=factory, sleep=clock.sleep, clock=clock) as stream:
        assert stream.is_live
        assert [stream.read() is not None for _ in range(3)] == [True, True, False]
    assert clock.sleeps == []


def test_live_stream_reconnects() -> None:
    clock = FakeClock()
    factory = FakeFactory(FakeCapture(frames=1), FakeCapture(frames=1))
    with StreamSource("rtsp://cam/live", capture_factory=factory, sleep=clock.sleep, clock=clock) as stream:
        assert stream.read() is not None
        assert stream.read() is not None
    assert clock.sleeps == [0.5]
    assert len(factory.calls) == 2


# --------------------------------------------------------------------------- images


def test_image_folder_natural_order_and_sources(tmp_path: Path) -> None:
    paths = media.write_image_folder(tmp_path / "imgs", count=12)  # img_1 .. img_12
    (tmp_path / "imgs" / "readme.txt").write_text("not an image")
    with ImageFolderSource(tmp_path / "imgs", fps=10) as source:
        assert source.frame_count == 12 and not source.is_live and source.fps == 10
        frames = read_all(source)
    assert [f.source for f in frames] == [str(p) for p in paths]
    assert [Path(f.source or "").name for f in frames][:3] == ["img_1.png", "img_2.png", "img_3.png"]
    assert [media.frame_index_of(f.image) for f in frames] == list(range(12))
    np.testing.assert_allclose([f.time_s for f in frames], np.arange(12) / 10)


def test_natural_key_orders_numbers_numerically() -> None:
    names = ["img_10.jpg", "img_2.jpg", "IMG_1.jpg", "img_2b.jpg"]
    assert sorted(names, key=natural_key) == ["IMG_1.jpg", "img_2.jpg", "img_2b.jpg", "img_10.jpg"]


def test_image_glob_mixed_sizes_and_unreadable_skipped(tmp_path: Path) -> None:
    media.write_image_folder(tmp_path, count=2, width=64, height=48, ext="jpg", prefix="a_")
    media.write_image_folder(tmp_path, count=1, width=32, height=32, ext="png", prefix="b_")
    (tmp_path / "a_3.jpg").write_bytes(b"broken jpeg")
    with ImageFolderSource(str(tmp_path / "*_*.*")) as source:
        frames = read_all(source)
        assert [p.name for p in source.skipped] == ["a_3.jpg"]
    assert [Path(f.source or "").name for f in frames] == ["a_1.jpg", "a_2.jpg", "b_1.png"]
    assert [f.index for f in frames] == [0, 1, 2]
    assert frames[2].image.shape == (32, 32, 3)


def test_empty_folder_and_glob_matching_nothing(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"folder '.*' has no images \(.bmp .jpeg .jpg .png .webp\)"):
        ImageFolderSource(tmp_path)
    with pytest.raises(SourceError, match=r"glob '.*\*\.jpg' has no images"):
        ImageFolderSource(str(tmp_path / "*.jpg"))


# --------------------------------------------------------------------------- pacing


def test_paced_source_releases_frames_at_their_times(clip: Path) -> None:
    clock = FakeClock(start=50.0)
    with PacedSource(VideoFileSource(clip), clock=clock, sleep=clock.sleep) as paced:
        assert paced.is_live and paced.fps == pytest.approx(15) and paced.frame_count == 30
        first = paced.read()
        clock.now += 0.02  # the reader spent 20 ms on this frame
        second = paced.read()
        clock.now += 0.5  # the reader fell behind: no waiting now
        third = paced.read()
        assert paced.error is None
    assert first is not None and second is not None and third is not None
    assert clock.sleeps == pytest.approx([1 / 15 - 0.02])
    assert second.captured_at == pytest.approx(50.0 + 1 / 15)
    assert third.time_s == pytest.approx(2 / 15)


# --------------------------------------------------------------------------- open_source


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
