"""A one-file HTML report of a run, and the recorder that feeds it frame by frame.

:func:`write_report` writes the report: timeline, episodes, time per class,
snapshots. :class:`RunRecorder` strings smoothing, episodes, alerts, the event
log and the report together for a render loop; :func:`add_episode_arguments`
and :func:`recorder_from_args` give the command line its options for them.

The file is self-contained: inline CSS, an inline SVG timeline, snapshots as
base64 JPEG ``data:`` URIs; no scripts, fonts or links to fetch, so it opens
offline, from an e-mail attachment, or years later.
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import html
import logging
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType

import cv2
import numpy as np

from drivercam.alert_overlay import draw_alert
from drivercam.episodes import (
    EPISODE_PRESETS,
    AlertCommand,
    Episode,
    EpisodeConfig,
    EpisodeTracker,
    Event,
    EventLog,
    class_durations,
    summarize,
)
from drivercam.errors import SinkError
from drivercam.temporal import DEFAULT_CAM_TAU_S, DEFAULT_PROBS_TAU_S, CamSmoother, ProbabilitySmoother
from drivercam.types import Prediction, Result

__all__ = ["RunRecorder", "add_episode_arguments", "class_color", "recorder_from_args", "write_report"]

logger = logging.getLogger(__name__)

_SAFE_COLOR = "#59a14f"
_PALETTE = ("#e15759", "#f28e2b", "#edc948", "#b07aa1", "#4e79a7", "#76b7b2", "#ff9da7", "#9c755f", "#bab0ac")
_EPISODE_COLOR = "#b71c1c"

# SVG geometry, in viewBox units.
_W, _LEFT, _RIGHT = 1000.0, 96.0, 24.0
_LANE_H, _ACT_Y, _EP_Y, _AXIS_Y = 34.0, 22.0, 70.0, 112.0
_H = 132.0

_CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#222;margin:0;background:#f4f5f7}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:24px;margin:0 0 4px}
h2{font-size:18px;margin:28px 0 10px}
.sub{color:#666;margin:0 0 18px}
.verdict{font-size:20px;font-weight:600;padding:12px 16px;border-radius:8px;color:#fff}
.verdict.bad{background:#b71c1c}.verdict.good{background:#2e7d32}
.cards{display:flex;gap:12px;flex-wrap:wrap;margin:14px 0}
.card{background:#fff;border-radius:8px;padding:10px 16px;box-shadow:0 1px 2px #0002;min-width:150px}
.card b{display:block;font-size:22px}
.card span{color:#666;font-size:13px}
.panel{background:#fff;border-radius:8px;padding:12px;box-shadow:0 1px 2px #0002}
svg{width:100%;height:auto;display:block}
svg text{font-family:system-ui,sans-serif}
.legend{display:flex;flex-wrap:wrap;gap:6px 16px;margin-top:8px;font-size:13px}
.sw{display:inline-block;width:12px;height:12px;border-radius:2px;margin-right:5px;vertical-align:-1px}
table{border-collapse:collapse;width:100%;background:#fff;box-shadow:0 1px 2px #0002;border-radius:8px;overflow:hidden}
th,td{padding:7px 10px;text-align:left;border-bottom:1px solid #eee;vertical-align:middle}
th{background:#fafafa;font-size:13px;color:#555}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.bar{height:10px;border-radius:2px;display:inline-block}
img.snap{width:240px;max-width:100%;border-radius:4px;display:block}
.none{color:#888}
.also{color:#777;font-size:12px;margin-top:2px}
footer{color:#888;font-size:12px;margin-top:28px}
"""


def class_color(class_index: int) -> str:
    """The report's colour for a class: green for class 0, a distinct hue for the rest."""
    if class_index == 0:
        return _SAFE_COLOR
    return _PALETTE[(class_index - 1) % len(_PALETTE)]


def _fmt_time(seconds: float) -> str:
    s = max(0.0, seconds)
    if s >= 3600:
        return f"{int(s // 3600)}:{int(s % 3600 // 60):02d}:{int(s % 60):02d}"
    return f"{int(s // 60)}:{s % 60:04.1f}"


def _fmt_tick(seconds: float, step: float) -> str:
    """Axis labels: tenths only when the ticks are less than a second apart."""
    if step < 1:
        return _fmt_time(seconds)
    s = int(round(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def _tick_step(duration_s: float) -> float:
    """A 1-2-5 step that gives 5-12 ticks."""
    for step in (0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200):
        if duration_s / step <= 12:
            return float(step)
    return 3600.0 * math.ceil(duration_s / 3600 / 12)


def _runs(timeline: Sequence[tuple[float, int]], duration_s: float) -> list[tuple[float, float, int]]:
    """Merge per-frame samples into (start, end, class) runs."""
    out: list[tuple[float, float, int]] = []
    for i, (t, c) in enumerate(timeline):
        end = timeline[i + 1][0] if i + 1 < len(timeline) else duration_s
        if out and out[-1][2] == c and abs(out[-1][1] - t) < 1e-9:
            out[-1] = (out[-1][0], end, c)
        else:
            out.append((t, end, c))
    return [r for r in out if r[1] > r[0]]


def _timeline_svg(
    timeline: Sequence[tuple[float, int]], episodes: Sequence[Episode], duration_s: float, labels: Sequence[str]
) -> str:
    span = max(duration_s, 1e-6)
    plot_w = _W - _LEFT - _RIGHT

    def x(t: float) -> float:
        return _LEFT + plot_w * min(max(t, 0.0), span) / span

    esc = html.escape
    parts = [
        f'<svg id="timeline" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_W:.0f} {_H:.0f}" '
        f'role="img" aria-label="timeline of driver activity and distraction episodes">',
        f'<text x="{_LEFT - 8}" y="{_ACT_Y + _LANE_H / 2 + 5}" text-anchor="end" font-size="13" fill="#444">Activity</text>',
        f'<text x="{_LEFT - 8}" y="{_EP_Y + _LANE_H / 2 + 5}" text-anchor="end" font-size="13" fill="#444">Episodes</text>',
        f'<rect x="{_LEFT}" y="{_ACT_Y}" width="{plot_w}" height="{_LANE_H}" fill="#eceff1"/>',
        f'<rect x="{_LEFT}" y="{_EP_Y}" width="{plot_w}" height="{_LANE_H}" fill="#eceff1"/>',
    ]
    for start, end, c in _runs(timeline, duration_s):
        x0, x1 = x(start), x(end)
        parts.append(
            f'<rect class="seg" data-class="{c}" x="{x0:.2f}" y="{_ACT_Y}" width="{max(x1 - x0, 0.3):.2f}" '
            f'height="{_LANE_H}" fill="{class_color(c)}"><title>{esc(labels[c])}: '
            f"{_fmt_time(start)}-{_fmt_time(end)}</title></rect>"
        )
    for ep in episodes:
        x0, x1 = x(ep.start_time_s), x(ep.end_time_s)
        wdt = max(x1 - x0, 1.0)
        parts.append(
            f'<rect class="episode" data-episode="{ep.id}" x="{x0:.2f}" y="{_EP_Y + 3}" width="{wdt:.2f}" '
            f'height="{_LANE_H - 6}" rx="3" fill="{class_color(ep.class_index)}" stroke="{_EPISODE_COLOR}" '
            f'stroke-width="2"><title>#{ep.id} {esc(ep.label)}: {_fmt_time(ep.start_time_s)}-'
            f"{_fmt_time(ep.end_time_s)} ({ep.duration_s:.1f} s), {ep.alerts} alert(s)</title></rect>"
        )
        if wdt > 22:
            parts.append(
                f'<text x="{x0 + wdt / 2:.2f}" y="{_EP_Y + _LANE_H / 2 + 5}" text-anchor="middle" '
                f'font-size="13" font-weight="700" fill="#fff" stroke="#0008" stroke-width="2.5" '
                f'paint-order="stroke">#{ep.id}</text>'
            )
        for t in ep.alert_times_s:
            xa = x(t)
            parts.append(
                f'<path class="alert" d="M{xa - 6:.2f},{_EP_Y - 13} L{xa + 6:.2f},{_EP_Y - 13} L{xa:.2f},{_EP_Y - 2} Z" '
                f'fill="#d50000"><title>alert at {_fmt_time(t)} (episode #{ep.id})</title></path>'
            )
    step = _tick_step(span)
    parts.append(f'<line x1="{_LEFT}" y1="{_AXIS_Y}" x2="{_W - _RIGHT}" y2="{_AXIS_Y}" stroke="#999"/>')
    k = 0
    while k * step <= span + 1e-9:
        xt = x(k * step)
        parts.append(f'<line x1="{xt:.2f}" y1="{_AXIS_Y}" x2="{xt:.2f}" y2="{_AXIS_Y + 5}" stroke="#999"/>')
        parts.append(
            f'<text x="{xt:.2f}" y="{_AXIS_Y + 18}" text-anchor="middle" font-size="12" fill="#555">'
            f"{_fmt_tick(k * step, step)}</text>"
        )
        k += 1
    parts.append("</svg>")
    return "\n".join(parts)


def _also(ep: Episode, runs: Sequence[tuple[float, float, int]], labels: Sequence[str]) -> str:
    """The other smoothed classes seen for at least 0.5 s during an episode, longest first."""
    seconds: dict[int, float] = {}
    for start, end, c in runs:
        overlap = min(end, ep.end_time_s) - max(start, ep.start_time_s)
        if overlap > 0 and c != ep.class_index:
            seconds[c] = seconds.get(c, 0.0) + overlap
    items = sorted(((s, c) for c, s in seconds.items() if s >= 0.5), reverse=True)
    if not items:
        return ""
    text = ", ".join(f"{html.escape(labels[c])} {s:.1f} s" for s, c in items)
    return f'<div class="also">also {text}</div>'


def _snapshot_data(source: str | os.PathLike[str] | bytes | None, episode_id: int) -> str | None:
    if source is None:
        return None
    if isinstance(source, bytes):
        data = source
    else:
        try:
            data = Path(source).read_bytes()
        except OSError as e:
            logger.warning("snapshot of episode %d not embedded: %s", episode_id, e)
            return None
    if not data.startswith(b"\xff\xd8"):
        logger.warning("snapshot of episode %d is not a JPEG; not embedded", episode_id)
        return None
    return "data:image/jpeg;base64," + base64.b64encode(data).decode("ascii")


def write_report(
    path: str | os.PathLike[str],
    *,
    episodes: Sequence[Episode],
    timeline: Sequence[tuple[float, int]],
    duration_s: float,
    labels: Sequence[str],
    snapshots: Mapping[int, str | os.PathLike[str] | bytes] | None = None,
    title: str = "drivercam report",
    subtitle: str | None = None,
) -> Path:
    """Write the HTML report and return its path.

    Args:
        path: the ``.html`` file to write (overwritten).
        episodes: finished episodes, in order.
        timeline: ``(time_s, smoothed class index)`` samples in time order, one
            per frame or only where the class changes; each lasts until the next.
        duration_s: length of the analysed video in seconds.
        labels: class labels; class 0 is drawn as safe driving.
        snapshots: episode id -> JPEG path or bytes; None uses each episode's
            ``snapshot`` path. Unreadable snapshots are left out with a warning.
        title: page heading.
        subtitle: a line under the heading, e.g. the source video's name.
    """
    if not math.isfinite(duration_s) or duration_s < 0:
        raise ValueError(f"duration_s must be a finite number of seconds >= 0, got {duration_s!r}")
    if any(b[0] < a[0] for a, b in zip(timeline, timeline[1:])):
        raise ValueError("timeline must be in time order")
    labels = tuple(labels)
    bad = [c for _, c in timeline if not 0 <= c < len(labels)] + [
        e.class_index for e in episodes if not 0 <= e.class_index < len(labels)
    ]
    if bad:
        raise ValueError(f"class index {bad[0]} out of range for {len(labels)} labels")
    if timeline:
        duration_s = max(duration_s, timeline[-1][0])
    if episodes:
        duration_s = max(duration_s, max(e.end_time_s for e in episodes))
    esc = html.escape
    n_alerts = sum(e.alerts for e in episodes)
    distracted = sum(e.duration_s for e in episodes)
    share = 100 * distracted / duration_s if duration_s > 0 else 0.0
    longest = max(episodes, key=lambda e: e.duration_s) if episodes else None

    if episodes:
        verdict = (
            f'<div class="verdict bad">{len(episodes)} distraction episode{"s" if len(episodes) != 1 else ""}, '
            f'{n_alerts} alert{"s" if n_alerts != 1 else ""} &middot; distracted {distracted:.1f} s '
            f"of {duration_s:.1f} s ({share:.0f} %)</div>"
        )
    else:
        verdict = f'<div class="verdict good">No distraction episodes in {duration_s:.1f} s</div>'
    cards = [
        (str(len(episodes)), "episodes"),
        (str(n_alerts), "alerts"),
        (f"{distracted:.1f} s", f"distracted ({share:.0f} %)"),
        (f"{longest.duration_s:.1f} s" if longest else "-", f"longest: {esc(longest.label)}" if longest else "longest"),
    ]
    card_html = "".join(f'<div class="card"><b>{v}</b><span>{k}</span></div>' for v, k in cards)

    seen = sorted({c for _, c in timeline} | {e.class_index for e in episodes})
    legend = "".join(
        f'<span><i class="sw" style="background:{class_color(c)}"></i>{esc(labels[c])}</span>' for c in seen
    )
    legend += '<span><i class="sw" style="background:#d50000"></i>alert</span>'

    seconds = class_durations(timeline, len(labels), duration_s)
    total = float(seconds.sum()) or 1.0
    class_rows = "".join(
        f'<tr><td><i class="sw" style="background:{class_color(c)}"></i>{esc(labels[c])}</td>'
        f'<td class="n">{seconds[c]:.1f} s</td><td class="n">{100 * seconds[c] / total:.1f} %</td>'
        f'<td><span class="bar" style="width:{300 * seconds[c] / total:.0f}px;background:{class_color(c)}"></span></td></tr>'
        for c in range(len(labels))
        if seconds[c] > 0
    )

    runs = _runs(timeline, duration_s)
    ep_rows = []
    for ep in episodes:
        src = snapshots.get(ep.id) if snapshots is not None else ep.snapshot
        data = _snapshot_data(src, ep.id)
        img = (
            f'<img class="snap" alt="episode {ep.id} at its peak, {_fmt_time(ep.peak_time_s)}" src="{data}">'
            if data
            else '<span class="none">no snapshot</span>'
        )
        ep_rows.append(
            f'<tr id="episode-{ep.id}"><td class="n">{ep.id}</td>'
            f'<td><i class="sw" style="background:{class_color(ep.class_index)}"></i>{esc(ep.label)}'
            f"{_also(ep, runs, labels)}</td>"
            f'<td class="n">{_fmt_time(ep.start_time_s)}</td><td class="n">{_fmt_time(ep.end_time_s)}</td>'
            f'<td class="n">{ep.duration_s:.1f} s</td><td class="n">{ep.peak_confidence:.2f}</td>'
            f'<td class="n">{ep.mean_confidence:.2f}</td><td class="n">{ep.alerts}</td><td>{img}</td></tr>'
        )
    episodes_html = (
        "<table><tr><th>#</th><th>activity</th><th>start</th><th>end</th><th>duration</th><th>peak</th>"
        "<th>mean</th><th>alerts</th><th>snapshot at peak</th></tr>" + "".join(ep_rows) + "</table>"
        if ep_rows
        else '<p class="none">No distraction episodes.</p>'
    )

    doc = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)}</title>
<style>{_CSS}</style></head>
<body><main>
<h1>{esc(title)}</h1>
<p class="sub">{esc(subtitle) + " &middot; " if subtitle else ""}{_fmt_time(duration_s)} analysed</p>
{verdict}
<div class="cards">{card_html}</div>
<h2>Timeline</h2>
<div class="panel">
{_timeline_svg(timeline, episodes, duration_s, labels)}
<div class="legend">{legend}</div>
</div>
<h2>Episodes</h2>
{episodes_html}
<h2>Time per class</h2>
<table><tr><th>activity (smoothed)</th><th>time</th><th>share</th><th></th></tr>{class_rows}</table>
<footer>Generated by drivercam. Confidence is the smoothed probability of any distraction class;
episode times count from the first distracted frame.</footer>
</main></body></html>
"""
    out = Path(path)
    try:
        out.write_text(doc, encoding="utf-8")
    except OSError as e:
        raise SinkError(f"could not write report {str(out)!r}: {e.strerror}; check the folder exists and is writable") from e
    return out


# --------------------------------------------------------------------------- a whole run


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

    def annotate(self, image: np.ndarray, frame_index: int) -> np.ndarray:
        """Draw the alert (while alerting) on the rendered frame and log this frame's events.

        Returns:
            The frame to show and write (a new image when the alert is drawn).
        """
        episode = self.tracker.current
        if self.draw_alerts and self.tracker.alerting and episode is not None:
            image = draw_alert(image, label=episode.label, elapsed_s=episode.duration_s)
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
