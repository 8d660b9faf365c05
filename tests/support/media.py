"""Synthetic test media: small videos, truncated copies and image folders.

Import from a test module in ``tests/`` as ``import media`` (pytest puts the
``tests`` folder on ``sys.path``). Everything is generated into ``tmp_path``;
no real footage is ever used or written here.

Each synthetic frame carries its own index as an 8-bit binary barcode in the
top 8 rows (eight black/white cells, most significant bit first), which
survives lossy compression, so tests can check frame order with
:func:`frame_index_of`. Below the barcode a white square moves left to right
over a blue-grey background.
"""

from __future__ import annotations

import shutil
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

BARCODE_BITS = 8
BARCODE_ROWS = 8


def synthetic_frame(index: int, width: int = 64, height: int = 48) -> np.ndarray:
    """Return the BGR uint8 test image for frame ``index``.

    Args:
        index: frame number, encoded (mod 256) in the barcode rows.
        width: image width in pixels (at least 16).
        height: image height in pixels (at least 16).
    """
    if width < 16 or height < 16:
        raise ValueError(f"synthetic frames need width, height >= 16, got {width}x{height}")
    image = np.empty((height, width, 3), np.uint8)
    image[:] = (150, 110, 90)  # BGR blue-grey background
    cell = width // BARCODE_BITS
    code = index % (1 << BARCODE_BITS)
    for bit in range(BARCODE_BITS):
        on = (code >> (BARCODE_BITS - 1 - bit)) & 1
        image[:BARCODE_ROWS, bit * cell : (bit + 1) * cell] = 255 if on else 0
    side = max(4, min(width, height) // 4)
    span = max(1, width - side)
    x = (index * 3) % span
    y = BARCODE_ROWS + (height - BARCODE_ROWS - side) // 2
    image[y : y + side, x : x + side] = 255
    return image


def frame_index_of(image: np.ndarray) -> int:
    """Read back the barcode written by :func:`synthetic_frame` (index mod 256)."""
    width = image.shape[1]
    cell = width // BARCODE_BITS
    code = 0
    for bit in range(BARCODE_BITS):
        # Sample the centre of each cell, away from edges blurred by the codec.
        patch = image[2 : BARCODE_ROWS - 2, bit * cell + 2 : (bit + 1) * cell - 2]
        code = (code << 1) | int(patch.mean() > 127)
    return code


def write_video(
    path: str | Path,
    *,
    frames: int = 30,
    fps: int | Fraction = 15,
    width: int = 64,
    height: int = 48,
    codec: str = "libx264",
    audio: bool = False,
    audio_codec: str = "aac",
    sample_rate: int = 44100,
    tone_hz: float = 440.0,
    faststart: bool = False,
    bframes: int = 0,
) -> Path:
    """Write a short synthetic video of moving shapes, optionally with AAC audio.

    Args:
        path: output file; the container format follows the suffix (.mp4, .mkv, ...).
        frames: number of video frames.
        fps: constant frame rate (an integer or a Fraction such as 30000/1001).
        width: frame width (even for H.264).
        height: frame height (even for H.264).
        codec: ``"libx264"`` (H.264) or ``"mpeg4"``.
        audio: add a mono sine track as long as the video.
        audio_codec: ``"aac"`` or ``"pcm_u8"`` (which MP4 cannot hold; use .mkv).
        sample_rate: audio sample rate in Hz.
        tone_hz: sine frequency in Hz.
        faststart: put the MP4 index at the front (needed for a truncated copy
            that still opens).
        bframes: H.264 B-frames between references (frames decoded out of
            presentation order, as most cameras' encoders do).

    Returns:
        The path written.
    """
    path = Path(path)
    rate = Fraction(fps)
    options = {"movflags": "+faststart"} if faststart else {}
    with av.open(str(path), "w", options=options) as container:
        video = container.add_stream(codec, rate=rate)
        video.width = width
        video.height = height
        video.pix_fmt = "yuv420p"
        video.time_base = 1 / rate
        if codec == "libx264":
            video.options = {"preset": "ultrafast", "crf": "18", "g": "10", "bf": str(bframes)}
        else:
            video.bit_rate = 2_000_000
            video.gop_size = 10
        audio_stream = None
        if audio:
            audio_stream = container.add_stream(audio_codec, rate=sample_rate)
            audio_stream.layout = "mono"
            if audio_codec == "aac":
                audio_stream.bit_rate = 64_000

        duration_s = float(frames / rate)
        audio_samples = int(round(duration_s * sample_rate))
        audio_done = 0
        chunk = 1024
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(synthetic_frame(i, width, height), format="bgr24")
            frame.pts = i
            for packet in video.encode(frame):
                container.mux(packet)
            if audio_stream is not None:
                # Keep the audio up to the end of this video frame, interleaved.
                target = min(audio_samples, int(round((i + 1) / rate * sample_rate)))
                while audio_done < target:
                    n = min(chunk, target - audio_done)
                    t = (np.arange(audio_done, audio_done + n) / sample_rate).astype(np.float32)
                    samples = (0.3 * np.sin(2 * np.pi * tone_hz * t)).astype(np.float32)
                    if audio_codec == "pcm_u8":
                        as_u8 = (samples * 127 + 128).astype(np.uint8)[None, :]
                        aframe = av.AudioFrame.from_ndarray(as_u8, format="u8", layout="mono")
                    else:
                        aframe = av.AudioFrame.from_ndarray(samples[None, :], format="fltp", layout="mono")
                    aframe.sample_rate = sample_rate
                    aframe.pts = audio_done
                    aframe.time_base = Fraction(1, sample_rate)
                    for packet in audio_stream.encode(aframe):
                        container.mux(packet)
                    audio_done += n
        for packet in video.encode():
            container.mux(packet)
        if audio_stream is not None:
            for packet in audio_stream.encode():
                container.mux(packet)
    return path


def truncated_copy(src: str | Path, dst: str | Path, *, keep: float = 0.5) -> Path:
    """Copy the first ``keep`` fraction of the bytes of ``src`` to ``dst``.

    Models a recording cut off mid-write or a partial download. For an MP4 the
    result still opens only if ``src`` was written with ``faststart=True``.
    """
    if not 0.0 < keep < 1.0:
        raise ValueError(f"keep must be in (0, 1), got {keep!r}")
    data = Path(src).read_bytes()
    dst = Path(dst)
    dst.write_bytes(data[: int(len(data) * keep)])
    return dst


def corrupted_copy(src: str | Path, dst: str | Path, *, at: float = 1 / 3, nbytes: int = 2000, seed: int = 0) -> Path:
    """Copy ``src`` to ``dst`` with ``nbytes`` random bytes overwritten at fraction ``at``.

    Models bit rot or a bad sector in the middle of the file: the index is
    intact, some packets are garbage, and the frames after them still decode.
    """
    data = bytearray(Path(src).read_bytes())
    start = int(len(data) * at)
    stop = min(len(data), start + nbytes)
    rng = np.random.default_rng(seed)
    data[start:stop] = rng.integers(0, 256, stop - start, dtype=np.uint8).tobytes()
    dst = Path(dst)
    dst.write_bytes(bytes(data))
    return dst


def write_image_folder(
    folder: str | Path,
    *,
    count: int = 12,
    width: int = 64,
    height: int = 48,
    ext: str = "png",
    prefix: str = "img_",
    start: int = 1,
) -> list[Path]:
    """Write ``count`` synthetic images named ``{prefix}{n}.{ext}`` (n from ``start``).

    Names are not zero-padded (``img_2`` and ``img_10``), so a plain string sort
    gets them wrong and a natural sort gets them right. Image ``k`` (0-based, in
    numeric order) shows barcode ``k``.

    Returns:
        The paths in numeric order.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for k in range(count):
        path = folder / f"{prefix}{start + k}.{ext}"
        if not cv2.imwrite(str(path), synthetic_frame(k, width, height)):
            raise OSError(f"could not write test image {path}")
        paths.append(path)
    return paths


def copy_file(src: str | Path, dst: str | Path) -> Path:
    """Copy a file (for tests that rename media, e.g. a video without a suffix)."""
    return Path(shutil.copyfile(src, dst))


def remux(src: str | Path, dst: str | Path, *, format: str | None = None) -> Path:
    """Copy every stream of ``src`` into another container (``.ts``, ``.mkv``, ...) without re-encoding."""
    dst = Path(dst)
    with av.open(str(src)) as source, av.open(str(dst), "w", format=format) as out:
        streams = {s.index: out.add_stream_from_template(s) for s in source.streams if s.type in ("video", "audio")}
        for packet in source.demux():
            if packet.dts is None or packet.stream.index not in streams:
                continue
            packet.stream = streams[packet.stream.index]
            out.mux(packet)
    return dst


def joined_copy(src: str | Path, dst: str | Path, *, times: int = 2) -> Path:
    """``src`` byte for byte ``times`` times over: recordings joined end to end, as ``cat a.ts b.ts`` does.

    For MPEG-TS the result plays, and its timestamps start again at each join.
    """
    data = Path(src).read_bytes()
    dst = Path(dst)
    dst.write_bytes(data * times)
    return dst


def write_format_video(
    path: str | Path,
    *,
    frames: int = 6,
    width: int = 64,
    height: int = 48,
    codec: str = "libx264",
    pix_fmt: str = "yuv420p",
    rotation: int = 0,
    times_s: list[float] | None = None,
    audio_tracks: int = 0,
) -> Path:
    """A short video in a given format, for the real-format tests.

    Args:
        codec: video encoder (``libx264``, ``libx265``, ...).
        pix_fmt: encoder pixel format (``yuv420p10le`` for 10-bit, ``gray`` for an infrared camera).
        rotation: display rotation in degrees counter-clockwise, stored as the
            stream's display matrix, as phones do.
        times_s: each frame's time (variable frame rate); default 15 fps.
        audio_tracks: AAC tracks to add, each as long as the video.
    """
    path = Path(path)
    times = times_s if times_s is not None else [i / 15 for i in range(frames)]
    tb = Fraction(1, 1000)
    with av.open(str(path), "w") as container:
        video = container.add_stream(codec, rate=15)
        video.width, video.height, video.pix_fmt = width, height, pix_fmt
        video.time_base = tb
        video.codec_context.time_base = tb
        if codec in ("libx264", "libx265"):
            video.options = {"preset": "ultrafast", "crf": "18"} | (
                {"x265-params": "log-level=none"} if codec == "libx265" else {}
            )
        if rotation:
            video.set_display_rotation(rotation)
        tracks = []
        for k in range(audio_tracks):
            stream = container.add_stream("aac", rate=44100)
            stream.layout = "mono"
            tracks.append((stream, 220.0 * (k + 2)))
        for i, t in enumerate(times):
            frame = av.VideoFrame.from_ndarray(synthetic_frame(i, width, height), format="bgr24")
            frame = frame.reformat(format=pix_fmt)
            frame.pts = round(t / tb)
            frame.time_base = tb
            for packet in video.encode(frame):
                container.mux(packet)
        for packet in video.encode():
            container.mux(packet)
        total = int((times[-1] + 1 / 15) * 44100)
        for stream, tone in tracks:
            for start in range(0, total, 1024):
                n = min(1024, total - start)
                samples = (0.2 * np.sin(2 * np.pi * tone * np.arange(start, start + n) / 44100)).astype(np.float32)
                aframe = av.AudioFrame.from_ndarray(samples[None, :], format="fltp", layout="mono")
                aframe.sample_rate, aframe.pts, aframe.time_base = 44100, start, Fraction(1, 44100)
                for packet in stream.encode(aframe):
                    container.mux(packet)
            for packet in stream.encode():
                container.mux(packet)
    return path
