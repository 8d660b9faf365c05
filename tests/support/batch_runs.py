"""Helpers for the batch tests: a short excerpt of a real clip, and readers of a batch folder."""

from __future__ import annotations

import csv
import json
import os
from fractions import Fraction
from pathlib import Path

import av

from support import REPO_ROOT

EXCERPT_FRAMES = 300
"""Frames (20 s at 15 fps) of the real clip the batch tests cut into tmp_path; never committed."""


def real_data_dir() -> Path | None:
    """``$DRIVERCAM_DATA``, else ``../shared/data``; None when absent."""
    env = os.environ.get("DRIVERCAM_DATA")
    path = Path(env) if env else REPO_ROOT.parent / "shared" / "data"
    return path if path.is_dir() else None


def write_excerpt(src: Path, dst: Path, *, frames: int = EXCERPT_FRAMES, width: int = 320, height: int = 240) -> Path:
    """Re-encode the first ``frames`` frames of ``src`` as H.264 with B-frames and a keyframe every 2 s.

    B-frames and sparse keyframes make seeking to a chunk start a real test:
    the worker has to decode from the keyframe before and drop what precedes.
    """
    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        rate = Fraction(15)
        stream = out.add_stream("libx264", rate=rate)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.time_base = Fraction(1, 15360)
        stream.options = {"preset": "veryfast", "g": "30", "bf": "2", "crf": "20"}
        for i, frame in enumerate(inp.decode(video=0)):
            if i >= frames:
                break
            image = frame.reformat(width=width, height=height, format="yuv420p")
            image.pts = i * 1024
            image.time_base = stream.time_base
            for packet in stream.encode(image):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return dst


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def read_lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def episodes_of(events: Path) -> list[dict[str, object]]:
    return [r for r in read_lines(events) if r["type"] == "episode"]


def video_folder(out: Path, name: str) -> Path:
    """The one output folder under ``out`` whose name starts with the video's stem."""
    (folder,) = [p for p in out.iterdir() if p.is_dir() and p.name.startswith(Path(name).stem + "-")]
    return folder


def assert_same_episodes(a: Path, b: Path) -> None:
    """The episodes of two event logs agree: every whole-number field exactly, times and confidences to 1e-5.

    Runs with other ONNX Runtime thread layouts give probabilities that differ in
    the last bits, so floats are compared with a tolerance; the frames that start
    and end each episode must still be the same.
    """
    ea, eb = episodes_of(a), episodes_of(b)
    assert len(ea) == len(eb) > 0
    for x, y in zip(ea, eb):
        assert_close(x, y, "episode")


def assert_close(x: object, y: object, where: str) -> None:
    """``x`` equals ``y``: floats to 1e-5, lists and dicts item by item, anything else exactly."""
    if isinstance(x, dict) and isinstance(y, dict):
        assert set(x) == set(y), where
        for key in x:
            assert_close(x[key], y[key], f"{where}.{key}")
    elif isinstance(x, list) and isinstance(y, list):
        assert len(x) == len(y), where
        for i, (u, v) in enumerate(zip(x, y)):
            assert_close(u, v, f"{where}[{i}]")
    elif isinstance(x, float) or isinstance(y, float):
        assert abs(float(x) - float(y)) <= 1e-5, (where, x, y)  # type: ignore[arg-type]
    else:
        assert x == y, (where, x, y)
