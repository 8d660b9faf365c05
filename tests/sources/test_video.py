"""Tests for drivercam.sources.video: real files decoded with PyAV, damaged ones included."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from support import media
from support.decoding import read_all

from drivercam.errors import SourceError
from drivercam.sources import (
    VideoFileSource,
)
from drivercam.types import Frame, FrameSource

# --------------------------------------------------------------------------- video files


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


# --------------------------------------------------------------------------- timestamps


def test_joined_ts_recordings_decode_every_frame_on_a_forward_timeline(tmp_path: Path) -> None:
    clip = media.write_video(tmp_path / "clip.mp4", frames=20, fps=10, audio=True)
    ts = media.remux(clip, tmp_path / "clip.ts")
    joined = media.joined_copy(ts, tmp_path / "joined.ts", times=3)
    with VideoFileSource(joined) as source:
        frames = read_all(source)
        assert source.timeline.jumps == 2
        assert source.error is None
    assert len(frames) == 60
    assert [media.frame_index_of(f.image) for f in frames] == list(range(20)) * 3
    times = np.array([f.time_s for f in frames])
    # Each recording goes on one frame interval after the previous one ended.
    np.testing.assert_allclose(np.diff(times), 0.1, atol=1e-3)


# --------------------------------------------------------------------------- real formats


def _encoder_or_skip(name: str) -> None:
    import av

    try:
        av.Codec(name, "w")
    except ValueError:  # av.codec.codec.UnknownCodecError
        pytest.skip(f"this PyAV build has no {name} encoder to make the test file")


@pytest.mark.parametrize("degrees", [90, -90, 180])
def test_a_rotated_phone_video_is_shown_upright(degrees: int, tmp_path: Path) -> None:
    path = media.write_format_video(tmp_path / "phone.mp4", frames=4, width=64, height=48, rotation=degrees)
    with VideoFileSource(path) as source:
        upright = (64, 48) if degrees == 180 else (48, 64)  # (width, height)
        assert (source.width, source.height) == upright
        frames = read_all(source)
    assert len(frames) == 4
    for i, frame in enumerate(frames):
        want = np.rot90(media.synthetic_frame(i), k=degrees // 90)  # counter-clockwise quarter turns
        assert frame.image.shape == want.shape
        assert np.abs(frame.image.astype(int) - want.astype(int)).mean() < 8


FORMATS = {
    "hevc": ({"codec": "libx265"}, "libx265", ".mp4"),
    "h264 10-bit": ({"pix_fmt": "yuv420p10le"}, "libx264", ".mp4"),
    "hevc 10-bit": ({"codec": "libx265", "pix_fmt": "yuv420p10le"}, "libx265", ".mp4"),
    "grey (infrared), ffv1": ({"codec": "ffv1", "pix_fmt": "gray"}, "ffv1", ".mkv"),
    "grey (infrared), hevc": ({"codec": "libx265", "pix_fmt": "gray"}, "libx265", ".mp4"),
}


@pytest.mark.parametrize("name", list(FORMATS))
def test_other_codecs_and_pixel_formats_decode_to_bgr(name: str, tmp_path: Path) -> None:
    kwargs, encoder, suffix = FORMATS[name]
    _encoder_or_skip(encoder)
    path = media.write_format_video(tmp_path / f"clip{suffix}", frames=5, **kwargs)  # type: ignore[arg-type]
    with VideoFileSource(path) as source:
        frames = read_all(source)
        assert source.error is None
    assert len(frames) == 5
    assert all(f.image.shape == (48, 64, 3) and f.image.dtype == np.uint8 for f in frames)
    assert [media.frame_index_of(f.image) for f in frames] == list(range(5))
    if "grey" in name:
        image = frames[0].image
        assert np.array_equal(image[..., 0], image[..., 1]) and np.array_equal(image[..., 1], image[..., 2])


@pytest.mark.parametrize(("width", "height"), [(1920, 1080), (3840, 2160)])
def test_1080p_and_4k_frames_keep_their_size(width: int, height: int, tmp_path: Path) -> None:
    path = media.write_format_video(tmp_path / "big.mp4", frames=2, width=width, height=height)
    with VideoFileSource(path) as source:
        assert (source.width, source.height) == (width, height)
        frames = read_all(source)
    assert [f.image.shape for f in frames] == [(height, width, 3)] * 2


def test_variable_frame_rate_times_are_kept(tmp_path: Path) -> None:
    times = [0.0, 0.03, 0.1, 0.35, 0.4, 1.0]
    path = media.write_format_video(tmp_path / "vfr.mp4", times_s=times)
    with VideoFileSource(path) as source:
        frames = read_all(source)
        assert source.timeline.total == 0
    np.testing.assert_allclose([f.time_s for f in frames], times, atol=1e-3)


def test_no_audio_and_two_audio_tracks(tmp_path: Path) -> None:
    with VideoFileSource(media.write_format_video(tmp_path / "silent.mp4")) as silent:
        assert silent.audio_path is None
    two = media.write_format_video(tmp_path / "two.mp4", audio_tracks=2)
    with VideoFileSource(two) as source:
        assert source.audio_path == str(two)
        assert len(read_all(source)) == 6


def test_reading_resumes_after_an_error_from_the_demuxer(tmp_path: Path) -> None:
    # Seeds 152 and 288 make MPEG-TS damage that the demuxer reports as a packet of a
    # stream PyAV never announced (IndexError); reading must go on past it.
    from support.fuzzing import damaged_copy

    clip = media.write_video(tmp_path / "end.mp4", frames=30, fps=15, audio=True, bframes=2)
    ts = media.remux(clip, tmp_path / "clip.ts")
    for seed in (152, 288):
        damaged_copy(ts, tmp_path / "bad.ts", seed)
        with VideoFileSource(tmp_path / "bad.ts") as source:
            frames = read_all(source)
        assert 0 < len(frames) <= 30
        assert all(b.time_s > a.time_s for a, b in zip(frames, frames[1:]))
