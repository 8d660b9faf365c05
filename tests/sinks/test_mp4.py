"""Tests for drivercam.sinks.mp4: real MP4 files written to tmp_path and read back with PyAV."""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from support import media
from support.decoding import read_all

from drivercam.errors import SinkError
from drivercam.sinks import Mp4Sink, letterbox
from drivercam.sources import VideoFileSource


def probe(path: Path) -> dict[str, Any]:
    """Read an MP4 back: codec, format, decoded frame times, audio packets."""
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        info: dict[str, Any] = {
            "codec": video.codec_context.name,
            "pix_fmt": video.codec_context.pix_fmt,
            "size": (video.codec_context.width, video.codec_context.height),
            "duration_s": float(video.duration * video.time_base) if video.duration else None,
            "audio": None,
        }
        if container.streams.audio:
            audio = container.streams.audio[0]
            info["audio"] = {
                "codec": audio.codec_context.name,
                "duration_s": float(audio.duration * audio.time_base) if audio.duration else None,
            }
        info["images"] = []
        info["times"] = []
        for frame in container.decode(video=0):
            info["images"].append(frame.to_ndarray(format="bgr24"))
            info["times"].append(float(frame.time))
    return info


def audio_packets(path: Path) -> list[bytes]:
    with av.open(str(path)) as container:
        return [bytes(p) for p in container.demux(container.streams.audio[0]) if p.size]


def copy_through(src: Path, dst: Path, *, audio: bool = True, stop_after: int | None = None) -> int:
    """Decode ``src`` and write every frame to ``dst`` (optionally raising after some)."""
    written = 0
    with (
        VideoFileSource(src) as source,
        Mp4Sink(
            dst, width=source.width, height=source.height, fps=source.fps, audio_from=src if audio else None
        ) as sink,
    ):
        while (frame := source.read()) is not None:
            if stop_after is not None and written == stop_after:
                raise RuntimeError("stopped on purpose")
            sink.write(frame.image, frame.time_s)
            written += 1
    return written


@pytest.mark.parametrize("fps", [15, 30])
def test_mp4_h264_yuv420p_timing_and_audio_preserved(tmp_path: Path, fps: int) -> None:
    src = media.write_video(tmp_path / "in.mp4", frames=40, fps=fps, audio=True)
    out = tmp_path / "out.mp4"
    assert copy_through(src, out) == 40
    before, after = probe(src), probe(out)
    assert after["codec"] == "h264" and after["pix_fmt"] == "yuv420p"
    assert len(after["images"]) == 40
    np.testing.assert_allclose(after["times"], np.arange(40) / fps, atol=1e-4)
    assert after["duration_s"] == pytest.approx(40 / fps, abs=1e-3)
    assert after["duration_s"] == pytest.approx(before["duration_s"], abs=1e-3)
    assert [media.frame_index_of(im) for im in after["images"]] == list(range(40))
    assert after["audio"]["codec"] == "aac"
    assert after["audio"]["duration_s"] == pytest.approx(before["audio"]["duration_s"], abs=0.05)
    # Remuxed, not re-encoded: the AAC packets are byte-for-byte the input's.
    assert audio_packets(out) == audio_packets(src)


def test_mp4_without_audio_source_and_odd_size_padded(tmp_path: Path) -> None:
    out = tmp_path / "odd.mp4"
    rng = np.random.default_rng(0)
    with Mp4Sink(out, width=33, height=25, fps=10) as sink:
        assert not sink.has_audio
        for i in range(5):
            image = media.synthetic_frame(i, 64, 48)[:25, :33].copy()
            image[16:, :] = rng.integers(0, 255, (9, 33, 3), dtype=np.uint8)
            sink.write(image, i / 10)
        assert sink.frames_written == 5
    info = probe(out)
    assert info["size"] == (34, 26)
    assert info["audio"] is None
    assert len(info["images"]) == 5


def test_input_without_audio_gives_silent_output(tmp_path: Path) -> None:
    src = media.write_video(tmp_path / "in.mp4", frames=6, fps=15)
    out = tmp_path / "out.mp4"
    with Mp4Sink(out, width=64, height=48, fps=15, audio_from=src) as sink:
        assert not sink.has_audio
        sink.write(media.synthetic_frame(0), 0.0)
    assert probe(out)["audio"] is None


def test_audio_the_mp4_cannot_hold_is_dropped_not_fatal(tmp_path: Path) -> None:
    src = media.write_video(tmp_path / "in.mkv", frames=6, fps=15, audio=True, audio_codec="pcm_u8", sample_rate=8000)
    out = tmp_path / "out.mp4"
    with Mp4Sink(out, width=64, height=48, fps=15, audio_from=src) as sink:
        assert not sink.has_audio
        for i in range(6):
            sink.write(media.synthetic_frame(i), i / 15)
    info = probe(out)
    assert info["audio"] is None and len(info["images"]) == 6


def test_exactly_one_frame_per_write_even_with_repeated_times(tmp_path: Path) -> None:
    out = tmp_path / "vfr.mp4"
    # A repeat, a step back, a gap (dropped live frames), no time at all.
    times = [0.0, 0.1, 0.1, 0.05, 0.5, 0.52, math.nan]
    with Mp4Sink(out, width=64, height=48, fps=30) as sink:
        for i, t in enumerate(times):
            sink.write(media.synthetic_frame(i), t)
    info = probe(out)
    assert [media.frame_index_of(im) for im in info["images"]] == list(range(len(times)))
    assert info["times"][0] == 0.0
    assert info["times"][4] == pytest.approx(0.5, abs=1e-4)  # the gap is kept
    assert info["times"][6] == pytest.approx(0.52 + 1 / 30, abs=1e-4)
    assert all(b > a for a, b in zip(info["times"], info["times"][1:]))


def test_frames_of_another_size_are_letterboxed(tmp_path: Path) -> None:
    out = tmp_path / "mixed.mp4"
    with Mp4Sink(out, width=64, height=48, fps=15) as sink:
        sink.write(np.full((48, 64, 3), 255, np.uint8), 0.0)
        sink.write(np.full((64, 64, 3), 255, np.uint8), 1 / 15)  # taller: bars left and right
    second = probe(out)["images"][1]
    assert second.shape == (48, 64, 3)
    assert second[:, :4].mean() < 20 and second[:, 30:34].mean() > 230


def test_letterbox_pixels() -> None:
    image = np.full((10, 20, 3), 200, np.uint8)
    boxed = letterbox(image, 20, 20)
    assert boxed.shape == (20, 20, 3)
    assert (boxed[:5] == 0).all() and (boxed[15:] == 0).all() and (boxed[5:15] == 200).all()


def test_exception_mid_write_leaves_playable_file_with_frames_done(tmp_path: Path) -> None:
    src = media.write_video(tmp_path / "in.mp4", frames=45, fps=15, audio=True)
    out = tmp_path / "partial.mp4"
    with pytest.raises(RuntimeError, match="stopped on purpose"):
        copy_through(src, out, stop_after=20)
    info = probe(out)
    assert len(info["images"]) == 20
    assert [media.frame_index_of(im) for im in info["images"]] == list(range(20))
    # The audio runs up to the end of the last frame written, not the whole input.
    assert info["audio"]["codec"] == "aac"
    assert info["audio"]["duration_s"] == pytest.approx(20 / 15, abs=0.1)


def test_keyboard_interrupt_still_finalises(tmp_path: Path) -> None:
    out = tmp_path / "ctrl_c.mp4"
    with pytest.raises(KeyboardInterrupt):
        with Mp4Sink(out, width=64, height=48, fps=15) as sink:
            for i in range(7):
                sink.write(media.synthetic_frame(i), i / 15)
            raise KeyboardInterrupt
    assert len(probe(out)["images"]) == 7


def test_close_is_idempotent_and_write_after_close_fails(tmp_path: Path) -> None:
    out = tmp_path / "a.mp4"
    sink = Mp4Sink(out, width=64, height=48, fps=15)
    sink.write(media.synthetic_frame(0), 0.0)
    sink.close()
    sink.close()
    with pytest.raises(SinkError, match="already closed"):
        sink.write(media.synthetic_frame(1), 0.1)
    assert len(probe(out)["images"]) == 1


def test_unwritable_path_fails_at_construction(tmp_path: Path) -> None:
    bad = tmp_path / "no_such_folder" / "out.mp4"
    with pytest.raises(SinkError, match=r"cannot write video '.*no_such_folder/out\.mp4': No such file"):
        Mp4Sink(bad, width=64, height=48, fps=15)
    with pytest.raises(SinkError, match="cannot write video"):
        Mp4Sink(tmp_path, width=64, height=48, fps=15)  # a folder


def test_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="fps must be a positive number"):
        Mp4Sink(tmp_path / "x.mp4", width=64, height=48, fps=0)
    with pytest.raises(ValueError, match=r"width and height must be > 0, got 0x48"):
        Mp4Sink(tmp_path / "x.mp4", width=0, height=48, fps=15)
    with pytest.raises(SinkError, match="no 'nosuchcodec' encoder"):
        Mp4Sink(tmp_path / "x.mp4", width=64, height=48, fps=15, codec="nosuchcodec")
    with pytest.raises(SinkError, match=r"cannot write video '.*x\.xyz': .*; use a \.mp4 path"):
        Mp4Sink(tmp_path / "x.xyz", width=64, height=48, fps=15)
    with pytest.raises(SinkError, match="'aac' is not a video encoder"):
        Mp4Sink(tmp_path / "x.mp4", width=64, height=48, fps=15, codec="aac")
    with pytest.raises(SinkError, match=r"cannot read audio from '.*missing\.mp4'"):
        Mp4Sink(tmp_path / "x.mp4", width=64, height=48, fps=15, audio_from=tmp_path / "missing.mp4")


def test_custom_time_base_keeps_exact_pts(tmp_path: Path) -> None:
    out = tmp_path / "ntsc.mp4"
    rate = Fraction(30000, 1001)
    with Mp4Sink(out, width=64, height=48, fps=float(rate), time_base=1 / rate) as sink:
        for i in range(10):
            sink.write(media.synthetic_frame(i), float(i / rate))
    np.testing.assert_allclose(probe(out)["times"], [float(i / rate) for i in range(10)], atol=1e-6)


# --------------------------------------------------------------------------- JSONL


_KILLED_WRITER = """
import sys, time
import numpy as np
from drivercam.sinks import Mp4Sink

sink = Mp4Sink(sys.argv[1], width=64, height=48, fps=15.0, fragmented=sys.argv[2] == "1", keyframe_interval_s=1.0)
for i in range(100):
    sink.write(np.full((48, 64, 3), 2 * i, np.uint8), i / 15)
    if i == 70:
        print("written", flush=True)
        time.sleep(60)
"""


@pytest.mark.parametrize("fragmented", [True, False])
def test_a_writer_killed_outright_leaves_a_playable_file_only_when_fragmented(tmp_path: Path, fragmented: bool) -> None:
    import subprocess
    import sys

    path = tmp_path / "killed.mp4"
    child = subprocess.Popen(
        [sys.executable, "-c", _KILLED_WRITER, str(path), "1" if fragmented else "0"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "written"
    finally:
        child.kill()  # SIGKILL: no handler, no close, like a power cut
        child.wait(timeout=30)
    if not fragmented:
        with pytest.raises(av.FFmpegError):
            probe(path)
        return
    info = probe(path)
    # Keyframes (and fragments) every 15 frames: frames 0-59 are complete on disk.
    assert info["codec"] == "h264" and len(info["times"]) >= 60
    assert info["times"][:60] == pytest.approx([i / 15 for i in range(60)], abs=1e-3)
    assert all(abs(int(image[0, 0, 0]) - 2 * i) <= 3 for i, image in enumerate(info["images"][:60]))


def test_fragmented_sink_rejects_a_bad_keyframe_interval(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="keyframe_interval_s must be > 0"):
        Mp4Sink(tmp_path / "x.mp4", width=64, height=48, fps=15.0, fragmented=True, keyframe_interval_s=0)


def audio_times(path: Path) -> list[float]:
    with av.open(str(path)) as container:
        return [float(p.pts * p.time_base) for p in container.demux(audio=0) if p.pts is not None and p.size]


def test_the_audio_of_joined_recordings_goes_forward_with_the_video(tmp_path: Path) -> None:
    clip = media.write_video(tmp_path / "in.mp4", frames=15, fps=15, audio=True)
    joined = media.joined_copy(media.remux(clip, tmp_path / "in.ts"), tmp_path / "joined.ts", times=3)
    out = tmp_path / "out.mp4"
    assert copy_through(joined, out) == 45
    times = audio_times(out)
    assert all(b > a for a, b in zip(times, times[1:]))
    # Every packet of the three recordings but the last one's few after the last frame.
    assert len(audio_packets(joined)) - 5 <= len(audio_packets(out)) < len(audio_packets(joined))
    assert times[-1] == pytest.approx(probe(out)["times"][-1], abs=0.1)


def test_audio_far_from_a_damaged_first_frame_starts_with_the_video(tmp_path: Path) -> None:
    src = media.write_video(tmp_path / "in.mp4", frames=20, fps=15, audio=True)
    out = tmp_path / "out.mp4"
    with VideoFileSource(src) as source, Mp4Sink(out, width=64, height=48, fps=15, audio_from=src) as sink:
        frames = read_all(source)
        # The video's clock says 1000 s (its first timestamp was garbage and it was rebased there).
        for frame in frames:
            sink.write(frame.image, 1000.0 + frame.time_s)
    times = audio_times(out)
    assert times and times[0] == pytest.approx(1000.0, abs=0.05)
    assert times[-1] == pytest.approx(1000.0 + 19 / 15, abs=0.1)
