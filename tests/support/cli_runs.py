"""Reading back what a command-line run wrote: video facts, JSON lines, error lines."""

from __future__ import annotations

import json
from pathlib import Path

import av

CLIP_FRAMES = 24
"""Frames in the clip the command-line tests share."""


def video_info(path: Path) -> dict[str, object]:
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        audio = container.streams.audio[0] if container.streams.audio else None
        frames = [f for f in container.decode(video=0)]
        return {
            "codec": video.codec_context.name,
            "pix_fmt": video.codec_context.pix_fmt,
            "size": (video.codec_context.width, video.codec_context.height),
            "frames": len(frames),
            "times": [float(f.time) for f in frames],
            "audio": audio.codec_context.name if audio is not None else None,
        }


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.strip()]


def read_jsonl(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]
