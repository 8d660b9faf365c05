"""The annotated MP4 and the prediction log of one run, opened once the frame size is known."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import Any

from drivercam._closing import Closing
from drivercam.picture import Picture
from drivercam.sinks.jsonl import PredictionLog
from drivercam.sinks.mp4 import Mp4Sink


class RunOutputs(Closing):
    """The annotated MP4 and the JSONL prediction log of one run.

    The log is opened at once (so an unwritable path fails before any work);
    the video too when ``width`` and ``height`` are known, else at the first
    frame (cameras and image folders tell their size only then). ``close``
    finalises both, so the MP4 is playable after an error or an interrupt.

    Args:
        video_path: MP4 to write, or None for no video.
        predictions_path: JSONL log to write, or None for no log.
        fps: nominal frame rate of the video.
        audio_from: input video whose audio track is copied into the MP4.
        width: frame width, when known in advance.
        height: frame height, when known in advance.
        fragmented: write the MP4 fragmented, playable after a crash (see :class:`Mp4Sink`).
    """

    def __init__(
        self,
        video_path: str | Path | None,
        predictions_path: str | Path | None,
        *,
        fps: float,
        audio_from: str | Path | None = None,
        width: int | None = None,
        height: int | None = None,
        fragmented: bool = False,
    ) -> None:
        self.video_path = video_path
        self.fps = fps
        self.audio_from = audio_from
        self.fragmented = fragmented
        self.written = 0
        self._stack = ExitStack()
        self._video: Mp4Sink | None = None
        self._log: PredictionLog | None = None
        try:
            if predictions_path is not None:
                self._log = self._stack.enter_context(PredictionLog(predictions_path))
            if video_path is not None and width and height:
                self._open_video(width, height)
        except BaseException:
            self._stack.close()
            raise

    def _open_video(self, width: int, height: int) -> None:
        assert self.video_path is not None
        self._video = self._stack.enter_context(
            Mp4Sink(
                self.video_path,
                width=width,
                height=height,
                fps=self.fps,
                audio_from=self.audio_from,
                fragmented=self.fragmented,
            )
        )

    def write(self, image: Picture | None, time_s: float, record: dict[str, Any] | None = None) -> None:
        """Write one annotated frame (a frame of another size is letterboxed) and its record.

        ``image`` may be None only when no video is written.
        """
        if self.video_path is not None:
            if image is None:
                raise ValueError(f"no picture for frame at {time_s:.3f} s; the video {self.video_path} needs one")
            if self._video is None:
                self._open_video(image.shape[1], image.shape[0])
            assert self._video is not None
            self._video.write(image, time_s)
        if self._log is not None and record is not None:
            self._log.write(record)
        self.written += 1

    def close(self) -> None:
        """Finish the MP4 and the log (idempotent)."""
        self._stack.close()


__all__ = ["RunOutputs"]
