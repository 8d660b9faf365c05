"""One run's smoothing, episodes, alerts, event log and report, and their command-line options.

:class:`RunRecorder` strings smoothing, episodes, alerts, the event log and the
HTML report together for a render loop; :func:`add_episode_arguments` and
:func:`recorder_from_args` give the command line its options for them.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import math
import os
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

import cv2
import numpy as np

from drivercam.alert_overlay import draw_alert
from drivercam.alerts import AlertCommand
from drivercam.episodes import EPISODE_PRESETS, EpisodeConfig, EpisodeTracker
from drivercam.errors import SinkError
from drivercam.eventlog import EventLog, summarize
from drivercam.events import Episode, Event
from drivercam.report import write_report
from drivercam.temporal import DEFAULT_CAM_TAU_S, DEFAULT_PROBS_TAU_S, CamSmoother, ProbabilitySmoother
from drivercam.types import Prediction, Result

__all__ = ["RunRecorder", "add_episode_arguments", "recorder_from_args"]

logger = logging.getLogger(__name__)


class RunRecorder:
    """Smoothing, episodes, alerts, event log and report for one run, frame by frame.

    The render loop calls :meth:`observe` on each result (smoothed probabilities
    and CAMs come back, to draw), :meth:`annotate` on the drawn frame (adds the
    alert and keeps the peak snapshot), and :meth:`finish` at the end.

    Args:
        labels: the model's class labels.
        config: episode rules; default the ``eu-high-speed`` preset.
        probs_tau_s: probability smoothing time constant in seconds (0: off).
        cam_tau_s: CAM smoothing time constant in seconds (0: off).
        draw_alerts: draw :func:`~drivercam.alert_overlay.draw_alert` while an
            episode is alerting.
        events_path: JSONL event log to write, or None.
        snapshot_dir: folder for peak snapshots of the event log, or None.
        report_path: HTML report to write at :meth:`finish`, or None.
        on_alert: shell command run for each alert (event JSON on stdin), or None.
        alert_timeout_s: seconds each ``on_alert`` run may take.
        title, subtitle: the report's heading and the line beneath it.

    Example:
        >>> with RunRecorder(labels, report_path="run.html") as rec:
        ...     for result in monitor:
        ...         shown = rec.observe(result)
        ...         image = rec.annotate(render(shown), result.frame.index)
        ...     print(rec.finish())
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
    ) -> None:
        self.labels = tuple(labels)
        self.tracker = EpisodeTracker(self.labels, config)
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
        self._peak: tuple[int, np.ndarray] | None = None
        self._snapshots: dict[int, bytes] = {}
        self._finished = False
        self._probs: np.ndarray | None = None  # smoothed probabilities of the last observed frame
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
        self._probs = probs
        if self.command is not None:
            self.command.send(events)
        self._events.extend(events)
        prediction = Prediction(probs=probs, cams=cams, labels=result.prediction.labels)
        return dataclasses.replace(result, prediction=prediction)

    def annotate(self, image: np.ndarray, frame_index: int) -> np.ndarray:
        """Draw the alert (while alerting) on the rendered frame and log this frame's events.

        Returns:
            The frame to show and write (a new image when the alert is drawn).
        """
        # The open episode is only built (a snapshot) on frames that draw the alert.
        episode = self.tracker.current if self.draw_alerts and self.tracker.alerting else None
        if episode is not None and self._probs is not None:
            # The banner names what the driver is doing now; the episode's own label is the
            # class with the most probability over the whole episode, maybe an earlier one.
            classes = self.tracker.distraction_classes
            label = self.tracker.labels[int(classes[np.argmax(self._probs[classes])])]
            # Over the label banner at the top: the alert says more, and the class bars
            # at the bottom (which still show the current frame's label) stay visible.
            image = draw_alert(image, label=label, elapsed_s=episode.duration_s, position="top")
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
                    ok, buf = cv2.imencode(".jpg", self._peak[1], [cv2.IMWRITE_JPEG_QUALITY, 85])
                    if ok:
                        self._snapshots[event.episode.id] = buf.tobytes()
                self._peak = None

    def finish(self, end_time_s: float | None = None) -> str | None:
        """Close the open episode, the event log and the alert command; write the report.

        Args:
            end_time_s: when the run ended; default the last frame's time plus
                one frame period.

        Returns:
            A text summary when an event log or a report was asked for, else None.
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
        if self.log is None and self.report_path is None:
            return None
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

    def __enter__(self) -> RunRecorder:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


# --------------------------------------------------------------------------- command line


def add_episode_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the smoothing, episode, alert and report options to a subcommand's parser."""
    group = parser.add_argument_group("smoothing, distraction episodes and alerts")
    group.add_argument("--smooth", type=float, default=DEFAULT_PROBS_TAU_S, metavar="S",
                       help=f"probability smoothing time constant in seconds, 0 = off (default: {DEFAULT_PROBS_TAU_S})")
    group.add_argument("--cam-smooth", type=float, default=DEFAULT_CAM_TAU_S, metavar="S",
                       help=f"heatmap smoothing time constant in seconds, 0 = off (default: {DEFAULT_CAM_TAU_S})")
    group.add_argument("--preset", choices=sorted(EPISODE_PRESETS), default="eu-high-speed",
                       help="alert timing: EU ADDW rules, 3.5 s above 50 km/h or 6 s at 20-50 km/h "
                       "(default: eu-high-speed)")
    for name, what in (("onset", "seconds of distraction that start an episode"),
                       ("warning", "episode age in seconds at the first alert"),
                       ("cooldown", "seconds between repeated alerts"),
                       ("release", "seconds of safe driving that end an episode")):
        group.add_argument(f"--{name}-s", type=float, metavar="S", help=f"{what} (overrides --preset)")
    group.add_argument("--enter-threshold", type=float, metavar="P",
                       help="distraction probability that counts as distracted (default: 0.5)")
    group.add_argument("--exit-threshold", type=float, metavar="P",
                       help="distraction probability below which the driver counts as safe again (default: 0.35)")
    group.add_argument("--distraction-classes", metavar="LIST",
                       help="comma-separated class indices or ids that count as distraction (default: all but 0)")
    group.add_argument("--no-alerts", action="store_true", help="do not draw the alert border and banner")
    group.add_argument("--events", metavar="E.jsonl", help="write one JSON line per episode and per alert")
    group.add_argument("--snapshots", metavar="DIR", help="save a JPEG of each episode's peak frame here (needs --events)")
    group.add_argument("--report", metavar="R.html", help="write a self-contained HTML report at the end")
    group.add_argument("--on-alert", metavar="CMD",
                       help="run this shell command at each alert, with the event JSON on stdin")


def _distraction_classes(spec: str | None, class_ids: Sequence[str]) -> tuple[int, ...] | None:
    if spec is None:
        return None
    out = []
    for item in (s.strip() for s in spec.split(",") if s.strip()):
        if item.isdigit() and int(item) < len(class_ids):
            out.append(int(item))
        elif item.lower() in [c.lower() for c in class_ids]:
            out.append([c.lower() for c in class_ids].index(item.lower()))
        else:
            raise ValueError(
                f"--distraction-classes: {item!r} is not a class index 0..{len(class_ids) - 1} or id {', '.join(class_ids)}"
            )
    return tuple(out)


def recorder_from_args(
    args: argparse.Namespace,
    labels: Sequence[str],
    class_ids: Sequence[str],
    *,
    subtitle: str | None = None,
) -> RunRecorder:
    """Build a :class:`RunRecorder` from the options :func:`add_episode_arguments` added."""
    classes = _distraction_classes(args.distraction_classes, class_ids)
    try:
        config = EpisodeConfig.from_preset(
            args.preset,
            onset_s=args.onset_s,
            warning_s=args.warning_s,
            cooldown_s=args.cooldown_s,
            release_s=args.release_s,
            enter_threshold=args.enter_threshold,
            exit_threshold=args.exit_threshold,
            distraction_classes=classes,
        )
    except (TypeError, ValueError) as error:
        field = str(error).split()[0]
        option = {"onset_s": "--onset-s", "warning_s": "--warning-s", "cooldown_s": "--cooldown-s",
                  "release_s": "--release-s", "enter_threshold": "--enter-threshold",
                  "exit_threshold": "--exit-threshold"}.get(field)
        raise ValueError(f"{error} (set by {option} or --preset)" if option else str(error)) from error
    for option, value in (("--smooth", args.smooth), ("--cam-smooth", args.cam_smooth)):
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"{option} must be a number of seconds >= 0 (0 turns smoothing off), got {value!r}")
    return RunRecorder(
        labels,
        config=config,
        probs_tau_s=args.smooth,
        cam_tau_s=args.cam_smooth,
        draw_alerts=not args.no_alerts,
        events_path=args.events,
        snapshot_dir=args.snapshots,
        report_path=args.report,
        on_alert=args.on_alert,
        subtitle=subtitle,
    )
