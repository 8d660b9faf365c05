"""Reading every frame of a source."""

from __future__ import annotations

from drivercam.types import Frame, FrameSource


def read_all(source: FrameSource) -> list[Frame]:
    frames = []
    while (frame := source.read()) is not None:
        frames.append(frame)
        assert len(frames) < 10_000, "source never ended"
    return frames
