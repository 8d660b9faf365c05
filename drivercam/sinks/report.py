"""A one-file HTML report of a run: timeline, episodes and their activities, time per class, snapshots.

The file is self-contained: inline CSS, an inline SVG timeline, snapshots as
base64 JPEG ``data:`` URIs; no scripts, fonts or links to fetch, so it opens
offline, from an e-mail attachment, or years later. A snapshot thumbnail opens
full size in a CSS ``:target`` lightbox (the same ``<img>``, restyled, so each
picture is embedded once); a click anywhere closes it.

:class:`~drivercam.monitoring.session.RunSession` feeds it at the end of a run.
"""

from __future__ import annotations

import base64
import html
import logging
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from drivercam.errors import SinkError
from drivercam.events import Episode, activity_durations, class_durations

__all__ = ["class_color", "write_report"]

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
img.snap{width:240px;max-width:100%;border-radius:4px;display:block;cursor:zoom-in}
.snapbox .close{display:none}
.snapbox:target{position:fixed;inset:0;z-index:10;background:#000d;display:flex;align-items:center;
justify-content:center}
.snapbox:target img.snap{width:auto;height:auto;max-width:96vw;max-height:92vh;cursor:zoom-out}
.snapbox:target .close{display:block;position:absolute;inset:0;color:#fff;text-align:right;padding:8px 16px;
font-size:28px;text-decoration:none}
.none{color:#888}
.acts{margin:0;padding:0;list-style:none}
.acts li{white-space:nowrap;font-size:14px}
.acts li.main{font-weight:600}
.acts .t{color:#777;font-size:12px;font-variant-numeric:tabular-nums}
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
        f'<text x="{_LEFT - 8}" y="{_ACT_Y + _LANE_H / 2 + 5}" text-anchor="end" font-size="13" '
        'fill="#444">Activity</text>',
        f'<text x="{_LEFT - 8}" y="{_EP_Y + _LANE_H / 2 + 5}" text-anchor="end" font-size="13" '
        'fill="#444">Episodes</text>',
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
        # The episode's activities, each in its class colour, inside the episode's outline.
        for act in ep.activities:
            a0, a1 = x(act.start_time_s), x(act.end_time_s)
            parts.append(
                f'<rect class="activity" data-episode="{ep.id}" data-class="{act.class_index}" x="{a0:.2f}" '
                f'y="{_EP_Y + 3}" width="{max(a1 - a0, 0.3):.2f}" height="{_LANE_H - 6}" '
                f'fill="{class_color(act.class_index)}"><title>#{ep.id} {esc(act.label)}: '
                f"{_fmt_time(act.start_time_s)}-{_fmt_time(act.end_time_s)} ({act.duration_s:.1f} s)</title></rect>"
            )
        fill = "none" if ep.activities else class_color(ep.class_index)
        parts.append(
            f'<rect class="episode" data-episode="{ep.id}" x="{x0:.2f}" y="{_EP_Y + 3}" width="{wdt:.2f}" '
            f'height="{_LANE_H - 6}" rx="3" fill="{fill}" stroke="{_EPISODE_COLOR}" '
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
                f'<path class="alert" d="M{xa - 6:.2f},{_EP_Y - 13} L{xa + 6:.2f},{_EP_Y - 13} '
                f'L{xa:.2f},{_EP_Y - 2} Z" '
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


def _activities_html(ep: Episode) -> str:
    """The episode's activities in time order, the episode's own class in bold."""
    esc = html.escape
    if not ep.activities:  # an episode read from an older log
        return f'<i class="sw" style="background:{class_color(ep.class_index)}"></i>{esc(ep.label)}'
    items = []
    for act in ep.activities:
        main = ' class="main"' if act.class_index == ep.class_index else ""
        items.append(
            f'<li{main}><i class="sw" style="background:{class_color(act.class_index)}"></i>{esc(act.label)} '
            f'<span class="t">{_fmt_time(act.start_time_s)}-{_fmt_time(act.end_time_s)}, '
            f"{act.duration_s:.1f} s, {act.mean_confidence:.2f}</span></li>"
        )
    return f'<ul class="acts">{"".join(items)}</ul>'


def _snapshot_html(data: str, ep: Episode) -> str:
    """The thumbnail, which opens full size in a ``:target`` lightbox; a click anywhere closes it."""
    return (
        f'<div class="snapbox" id="snap-{ep.id}"><a class="open" href="#snap-{ep.id}" '
        f'title="open full size"><img class="snap" alt="episode {ep.id} at its peak, '
        f'{_fmt_time(ep.peak_time_s)}" src="{data}"></a>'
        f'<a class="close" href="#episode-{ep.id}" title="close" aria-label="close">&times;</a></div>'
    )


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
    bad = (
        [c for _, c in timeline if not 0 <= c < len(labels)]
        + [e.class_index for e in episodes if not 0 <= e.class_index < len(labels)]
        + [a.class_index for e in episodes for a in e.activities if not 0 <= a.class_index < len(labels)]
    )
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
            f"{n_alerts} alert{'s' if n_alerts != 1 else ''} &middot; distracted {distracted:.1f} s "
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

    seen = sorted(
        {c for _, c in timeline}
        | {e.class_index for e in episodes}
        | {a.class_index for e in episodes for a in e.activities}
    )
    legend = "".join(
        f'<span><i class="sw" style="background:{class_color(c)}"></i>{esc(labels[c])}</span>' for c in seen
    )
    legend += '<span><i class="sw" style="background:#d50000"></i>alert</span>'

    seconds = class_durations(timeline, len(labels), duration_s)
    in_episodes = activity_durations(episodes, len(labels))
    total = float(seconds.sum()) or 1.0
    class_rows = "".join(
        f'<tr><td><i class="sw" style="background:{class_color(c)}"></i>{esc(labels[c])}</td>'
        f'<td class="n">{seconds[c]:.1f} s</td><td class="n">{100 * seconds[c] / total:.1f} %</td>'
        f'<td class="n">{f"{in_episodes[c]:.1f} s" if in_episodes[c] > 0 else "-"}</td>'
        f'<td><span class="bar" style="width:{300 * seconds[c] / total:.0f}px;'
        f'background:{class_color(c)}"></span></td></tr>'
        for c in range(len(labels))
        if seconds[c] > 0 or in_episodes[c] > 0
    )

    ep_rows = []
    for ep in episodes:
        src = snapshots.get(ep.id) if snapshots is not None else ep.snapshot
        data = _snapshot_data(src, ep.id)
        img = _snapshot_html(data, ep) if data else '<span class="none">no snapshot</span>'
        ep_rows.append(
            f'<tr id="episode-{ep.id}"><td class="n">{ep.id}</td>'
            f"<td>{_activities_html(ep)}</td>"
            f'<td class="n">{_fmt_time(ep.start_time_s)}</td><td class="n">{_fmt_time(ep.end_time_s)}</td>'
            f'<td class="n">{ep.duration_s:.1f} s</td><td class="n">{ep.peak_confidence:.2f}</td>'
            f'<td class="n">{ep.mean_confidence:.2f}</td><td class="n">{ep.alerts}</td><td>{img}</td></tr>'
        )
    episodes_html = (
        "<table><tr><th>#</th><th>activities (the episode's own in bold)</th><th>start</th><th>end</th>"
        "<th>duration</th><th>peak</th><th>mean</th><th>alerts</th><th>snapshot at peak</th></tr>"
        + "".join(ep_rows)
        + "</table>"
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
<table><tr><th>class (smoothed)</th><th>time</th><th>share</th><th>as an activity in episodes</th><th></th></tr>
{class_rows}</table>
<footer>Generated by drivercam. Confidence is the smoothed probability of any distraction class
(for an activity: of its own class); episode times count from the first distracted frame. An episode's
activities are the runs of its most probable distraction class, short ones merged into their neighbours;
the episode's own class is the activity with the most time.</footer>
</main></body></html>
"""
    out = Path(path)
    try:
        out.write_text(doc, encoding="utf-8")
    except OSError as e:
        raise SinkError(
            f"could not write report {str(out)!r}: {e.strerror}; check the folder exists and is writable"
        ) from e
    return out
