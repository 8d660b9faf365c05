"""One run's session: smoothing, episodes, alerts, event log and report, frame by frame.

:class:`RunSession` strings them together for a render loop.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import overload

import cv2
import numpy as np

from drivercam.errors import SinkError
from drivercam.events import Episode, Event
from drivercam.monitoring.alert_command import AlertCommand
from drivercam.monitoring.episode_config import EpisodeConfig
from drivercam.monitoring.episodes import EpisodeTracker
from drivercam.monitoring.smoothing import (
    DEFAULT_CAM_TAU_S,
    DEFAULT_PROBS_TAU_S,
    CamSmoother,
    ProbabilitySmoother,
)
from drivercam.monitoring.summary import summarize
from drivercam.picture import Picture, as_bgr
from drivercam.render.alert import draw_alert
from drivercam.sinks.eventlog import EventLog
from drivercam.sinks.report import write_report
from drivercam.types import Prediction, Result

__all__ = ["RunSession"]

logger = logging.getLogger(__name__)


class RunSession:
    """Smoothing, episodes, alerts, event log and report for one run, frame by frame.

    The render loop calls :meth:`observe` on each result (smoothed probabilities
    and CAMs come back, to draw), :meth:`annotate` on the drawn frame (adds the
    alert and keeps the peak snapshot), and :meth:`finish` at the end.

    Args:
        labels: the model's class labels.
        config: episode rules; default the ``eu-high-speed`` preset.
        probs_tau_s: probability smoothing time constant in seconds (0: off).
        cam_tau_s: CAM smoothing time constant in seconds (0: off).
        draw_alerts: draw :func:`~drivercam.render.alert.draw_alert` while an
            episode is alerting.
        events_path: JSONL event log to write, or None.
        snapshot_dir: folder for peak snapshots of the event log, or None.
        report_path: HTML report to write at :meth:`finish`, or None.
        on_alert: shell command run for each alert (event JSON on stdin), or None.
        alert_timeout_s: seconds each ``on_alert`` run may take.
        title, subtitle: the report's heading and the line beneath it.
        class_ids: the model's short class ids, for the activities of the
            event log; default the class indices as text.

    Example:
        >>> with RunSession(labels, report_path="run.html") as session:
        ...     for result in monitor:
        ...         shown = session.observe(result)
        ...         image = session.annotate(render(shown), result.frame.index)
        ...     print(session.finish())
    """

    def __init__(
        self,
        labels: Sequence[str],
        *,
        config: EpisodeConfig | None = None,
        probs_tau_s: float = DEFAULT_PROBS_TAU_S,
        cam_tau_s: float = DEFAULT_CAM_TAU_S,
        draw_alerts: bool = True,
        events_path: str | os.PathLike[str] | None = None,
        snapshot_dir: str | os.PathLike[str] | None = None,
        report_path: str | os.PathLike[str] | None = None,
        on_alert: str | None = None,
        alert_timeout_s: float = 10.0,
        title: str = "drivercam report",
        subtitle: str | None = None,
        class_ids: Sequence[str] | None = None,
    ) -> None:
        self.labels = tuple(labels)
        self.tracker = EpisodeTracker(self.labels, config, class_ids=class_ids)
        self.probs_smoother = ProbabilitySmoother(probs_tau_s)
        self.cam_smoother = CamSmoother(cam_tau_s)
        self.draw_alerts = draw_alerts
        self.report_path = None if report_path is None else Path(report_path)
        self.title, self.subtitle = title, subtitle
        # Only the frames where the smoothed class changes: a sample lasts until
        # the next one, so an 8-hour drive costs kilobytes, not a tuple per frame.
        self.timeline: list[tuple[float, int]] = []
        self._first_time_s: float | None = None
        self._last_time_s: float | None = None
        self._frames = 0
        self._events: list[Event] = []
        self._peak: tuple[int, Picture] | None = None
        self._snapshots: dict[int, bytes] = {}
        self._finished = False
        self.log: EventLog | None = None
        self.command: AlertCommand | None = None
        if events_path is not None:
            self.log = EventLog(events_path, snapshot_dir)
        elif snapshot_dir is not None:
            raise ValueError("snapshot_dir needs events_path: snapshots belong to the event log; add --events")
        if on_alert:
            self.command = AlertCommand(on_alert, timeout_s=alert_timeout_s)

    @property
    def episodes(self) -> list[Episode]:
        """Finished episodes so far."""
        return list(self.tracker.episodes)

    def observe(self, result: Result) -> Result:
        """Smooth one result and feed the episode tracker.

        Returns:
            The result with smoothed probabilities and CAMs, for drawing.
        """
        t = result.frame.time_s
        probs = self.probs_smoother.update(t, result.prediction.probs)
        cams = self.cam_smoother.update(t, result.prediction.cams)
        cls = int(np.argmax(probs))
        if not self.timeline or self.timeline[-1][1] != cls:
            self.timeline.append((float(t), cls))
        if self._first_time_s is None:
            self._first_time_s = float(t)
        self._last_time_s = float(t)
        self._frames += 1
        events = self.tracker.update(t, probs, result.frame.index)
        if self.command is not None:
            self.command.send(events)
        self._events.extend(events)
        prediction = Prediction(probs=probs, cams=cams, labels=result.prediction.labels)
        return dataclasses.replace(result, prediction=prediction)

    @property
    def needs_pictures(self) -> bool:
        """Whether the session keeps pictures (snapshots, the report's peak frames).

        When it does not, and nothing shows or records the video, a render loop
        can skip drawing and pass None to :meth:`annotate`.
        """
        return self.report_path is not None or (self.log is not None and self.log.snapshot_dir is not None)

    @overload
    def annotate(self, image: Picture, frame_index: int) -> Picture: ...

    @overload
    def annotate(self, image: None, frame_index: int) -> None: ...

    def annotate(self, image: Picture | None, frame_index: int) -> Picture | None:
        """Draw the alert (while alerting) on the rendered frame and log this frame's events.

        Args:
            image: the rendered frame, or None when nothing was drawn (the
                events are logged all the same, without pictures).

        Returns:
            The frame to show and write (a new image when the alert is drawn),
            or None when ``image`` was None.
        """
        if image is None:
            events, self._events = self._events, []
            if self.log is not None:
                self.log.record(events, frame_index=frame_index)
            return None
        elapsed = self.tracker.elapsed_s if self.draw_alerts and self.tracker.alerting else None
        activity = self.tracker.current_activity
        if elapsed is not None and activity is not None:
            # The banner names what the driver is doing now (the activity an alert event
            # names too); the episode's own label is its longest activity, maybe an earlier one.
            # Over the label banner at the top: the alert says more, and the class bars
            # at the bottom (which still show the current frame's label) stay visible.
            image = draw_alert(image, label=activity.label, elapsed_s=elapsed, position="top")
        peak = self.tracker.peak_frame_index
        if peak == frame_index and self.report_path is not None:
            self._peak = (frame_index, image.copy())
        events, self._events = self._events, []
        self._keep_snapshots(events)
        if self.log is not None:
            self.log.record(events, frame_index=frame_index, image=image, peak_frame_index=peak)
        return image

    def _keep_snapshots(self, events: Sequence[Event]) -> None:
        for event in events:
            if event.kind == "episode_end" and self._peak is not None:
                if self._peak[0] == event.episode.peak_frame_index:
                    ok, buf = cv2.imencode(".jpg", as_bgr(self._peak[1]), [cv2.IMWRITE_JPEG_QUALITY, 85])
                    if ok:
                        self._snapshots[event.episode.id] = buf.tobytes()
                self._peak = None

    def finish(self, end_time_s: float | None = None) -> str | None:
        """Close the open episode, the event log and the alert command; write the report.

        Args:
            end_time_s: when the run ended; default the last frame's time plus
                one frame period.

        Returns:
            The text summary of the run (episodes, time per class and per
            activity, the files written); None when already finished.
        """
        if self._finished:
            return None
        self._finished = True
        if end_time_s is None and self._last_time_s is not None and self._first_time_s is not None:
            # One mean frame period after the last frame.
            step = (self._last_time_s - self._first_time_s) / (self._frames - 1) if self._frames > 1 else 0.0
            end_time_s = self._last_time_s + max(step, 0.0)
        duration = end_time_s if end_time_s is not None else 0.0
        try:
            events = self._events + self.tracker.finish(end_time_s)
            self._events = []
            self._keep_snapshots(events)
            if self.command is not None:
                self.command.send(events)
            if self.log is not None:
                self.log.record(events)
        finally:
            if self.log is not None:
                self.log.close()
            if self.command is not None:
                self.command.close()
        episodes = self.tracker.episodes
        if self.report_path is not None:
            write_report(
                self.report_path,
                episodes=episodes,
                timeline=self.timeline,
                duration_s=duration,
                labels=self.labels,
                snapshots=self._snapshots,
                title=self.title,
                subtitle=self.subtitle,
            )
        text = summarize(episodes, labels=self.labels, timeline=self.timeline, duration_s=duration or None)
        written = [str(p) for p in (self.log.path if self.log else None, self.report_path) if p is not None]
        return text + ("\nwrote " + ", ".join(written) if written else "")

    def close(self) -> None:
        """Finish if not yet finished (an interrupted run still gets its log and report)."""
        if not self._finished:
            try:
                self.finish()
            except SinkError as error:
                logger.error("%s", error)

    def __enter__(self) -> RunSession:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
