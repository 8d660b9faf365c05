"""Tests for drivercam.sources.live: cameras and streams on injected fake captures."""

from __future__ import annotations

import threading
import time
from typing import Any

import cv2
import numpy as np
import pytest
from support.fake_capture import FakeCapture, FakeFactory, HangingCapture, SleepClock

from drivercam.errors import SourceError
from drivercam.sources import (
    CameraSource,
    StreamSource,
)
from drivercam.types import Frame

# --------------------------------------------------------------------------- video files


def test_absent_camera_fails_fast_with_the_fix() -> None:
    factory = FakeFactory(FakeCapture(opened=False))
    with pytest.raises(SourceError) as info:
        CameraSource(0, capture_factory=factory, sleep=pytest.fail)
    assert str(info.value) == ("could not open camera 0; is it connected or used by another program? try --source 1")
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
    clock = SleepClock()
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
    clock = SleepClock()
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
    clock = SleepClock()
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
    deadline = time.monotonic() + 2.0
    while not cap.released and time.monotonic() < deadline:
        time.sleep(0.01)
    assert cap.released  # released by the device's reader thread once the driver let go


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
    clock = SleepClock()
    factory = FakeFactory(FakeCapture(frames=2, count=2))
    url = "http://example.com/a.mp4"
    with StreamSource(url, capture_factory=factory, sleep=clock.sleep, clock=clock) as stream:
        assert stream.is_live
        assert [stream.read() is not None for _ in range(3)] == [True, True, False]
    assert clock.sleeps == []


def test_live_stream_reconnects() -> None:
    clock = SleepClock()
    factory = FakeFactory(FakeCapture(frames=1), FakeCapture(frames=1))
    with StreamSource("rtsp://cam/live", capture_factory=factory, sleep=clock.sleep, clock=clock) as stream:
        assert stream.read() is not None
        assert stream.read() is not None
    assert clock.sleeps == [0.5]
    assert len(factory.calls) == 2


# --------------------------------------------------------------------------- images


# --------------------------------------------------------------------------- stopping at any moment


def test_close_during_reconnect_back_off_returns_at_once_and_opens_nothing_more() -> None:
    factory = FakeFactory(FakeCapture(frames=1))  # then only absent cameras
    cam = CameraSource(0, capture_factory=factory, backoff_s=4.0, max_backoff_s=8.0)
    results: list[Frame | None] = []
    reader = threading.Thread(target=lambda: results.extend([cam.read(), cam.read()]))
    reader.start()
    deadline = time.monotonic() + 5
    while len(factory.calls) < 1 or not reader.is_alive():
        assert time.monotonic() < deadline
        time.sleep(0.01)
    time.sleep(0.3)  # the second read is now waiting out the 4 s back-off
    started = time.monotonic()
    cam.close()
    reader.join(2)
    took = time.monotonic() - started
    assert not reader.is_alive()
    assert took < 1.0
    assert results[0] is not None and results[1] is None
    calls = len(factory.calls)
    time.sleep(0.5)
    assert len(factory.calls) == calls == 1  # no reopen after close


def test_interrupt_ends_a_back_off_wait_and_reads_stay_ended() -> None:
    cam = CameraSource(0, capture_factory=FakeFactory(FakeCapture(frames=0)), backoff_s=5.0, max_backoff_s=5.0)
    threading.Timer(0.2, cam.interrupt).start()
    started = time.monotonic()
    assert cam.read() is None
    assert time.monotonic() - started < 1.0
    assert cam.read() is None
    cam.close()


def test_a_stalled_stream_is_detected_and_reopened() -> None:
    stalled = HangingCapture(frames=2)
    fresh = FakeCapture(frames=2)
    factory = FakeFactory(stalled, fresh)
    stream = StreamSource("rtsp://cam/live", capture_factory=factory, stall_timeout_s=0.3, backoff_s=0.0)
    try:
        frames = [stream.read() for _ in range(4)]
    finally:
        stream.close()
        stalled.unblock.set()
    assert all(f is not None for f in frames)
    assert [f.index for f in frames if f] == [0, 1, 2, 3]
    assert stream.stalls == 1 and stream.reconnects == 1
    assert len(factory.calls) == 2
    deadline = time.monotonic() + 2
    while not (stalled.released and fresh.released) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert stalled.released and fresh.released  # the stalled one once its read gave up


def test_close_while_the_stream_hangs_returns_within_a_second() -> None:
    hanging = HangingCapture(frames=0)
    stream = StreamSource("rtsp://cam/live", capture_factory=FakeFactory(hanging), stall_timeout_s=30)
    results: list[Frame | None] = []
    reader = threading.Thread(target=lambda: results.append(stream.read()))
    reader.start()
    try:
        assert hanging.hanging.wait(5)
        started = time.monotonic()
        stream.close()
        reader.join(2)
        assert time.monotonic() - started < 1.0
        assert results == [None]
    finally:
        hanging.unblock.set()
