"""``fleet.html``: one self-contained page over a whole batch.

Videos ranked by the share of their time the driver was distracted, the time
per class over the fleet, the videos that failed and why, and each video's
episodes (with links to its logs, its annotated MP4 and snapshots when they
exist). Inline CSS, no scripts, nothing fetched: it opens offline.
"""

from __future__ import annotations

import html
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["write_fleet_page"]

_CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#222;margin:0;background:#f4f5f7}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 10px}h3{font-size:16px;margin:18px 0 6px}
.sub{color:#555;margin:0 0 18px}
table{border-collapse:collapse;width:100%;background:#fff;box-shadow:0 1px 2px #0002}
th,td{padding:6px 10px;border-bottom:1px solid #e3e5e8;text-align:left;font-variant-numeric:tabular-nums}
th{background:#eceef1;font-weight:600}td.num,th.num{text-align:right}
.bar{display:inline-block;height:12px;background:#b71c1c;vertical-align:middle;margin-right:6px}
.cbar{display:inline-block;height:12px;background:#4e79a7;vertical-align:middle;margin-right:6px}
.failed td{color:#8a1c1c}.none{color:#666}
section.video{background:#fff;margin:14px 0;padding:4px 14px 12px;box-shadow:0 1px 2px #0002}
a{color:#1f5fa8}
"""


def _e(value: object) -> str:
    return html.escape(str(value))


def _num(value: Any, digits: int = 1) -> str:
    return "" if value is None or value == "" else f"{float(value):.{digits}f}"


def write_fleet_page(
    path: Path,
    summary: Sequence[dict[str, Any]],
    episodes: Sequence[dict[str, Any]],
    *,
    class_ids: Sequence[str],
    labels: Sequence[str],
    title: str = "drivercam fleet report",
) -> Path:
    """Write the page to ``path`` (under a temporary name, then renamed) and return it.

    Args:
        summary: ``summary.csv``'s rows.
        episodes: ``episodes.csv``'s rows.
        class_ids, labels: the model's classes, for the per-class totals.
    """
    ok = [r for r in summary if r.get("status") == "ok"]
    failed = [r for r in summary if r.get("status") != "ok"]
    ranked = sorted(ok, key=lambda r: (-float(r["distracted_share"]), -float(r["distracted_s"]), r["video"]))
    hours = sum(float(r["duration_s"]) for r in ok) / 3600.0
    distracted = sum(float(r["distracted_s"]) for r in ok)
    total = sum(float(r["duration_s"]) for r in ok)
    out: list[str] = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body><main>",
        f"<h1>{_e(title)}</h1>",
        f'<p class="sub">{len(summary)} videos, {len(ok)} analysed, {len(failed)} failed; '
        f"{hours:.2f} h of video, {distracted:.1f} s distracted "
        f"({100 * distracted / total if total else 0:.1f} %), {len(episodes)} episodes, "
        f"{sum(int(r['alerts']) for r in ok)} alerts</p>",
        '<h2>Videos ranked by distraction</h2><table id="ranking"><thead><tr><th class="num">#</th><th>video</th>'
        '<th class="num">duration (s)</th><th>distracted</th><th class="num">episodes</th>'
        '<th class="num">alerts</th><th class="num">episodes / h</th></tr></thead><tbody>',
    ]
    for rank, r in enumerate(ranked, 1):
        share = float(r["distracted_share"])
        out.append(
            f'<tr class="video" data-video="{_e(r["video"])}"><td class="num">{rank}</td>'
            f'<td><a href="#v-{_e(r["video"])}">{_e(Path(str(r["path"])).name)}</a></td>'
            f'<td class="num">{_num(r["duration_s"])}</td>'
            f'<td><span class="bar" style="width:{120 * share:.1f}px"></span>{100 * share:.1f} % '
            f"({_num(r['distracted_s'])} s)</td>"
            f'<td class="num">{int(r["episodes"])}</td><td class="num">{int(r["alerts"])}</td>'
            f'<td class="num">{_num(r["episodes_per_hour"])}</td></tr>'
        )
    out.append("</tbody></table>")

    seconds = [sum(float(r.get(f"seconds_{cid}") or 0.0) for r in ok) for cid in class_ids]
    top = max(seconds) if seconds and max(seconds) > 0 else 1.0
    out.append(
        '<h2>Time per class, all videos</h2><table id="classes"><thead><tr><th>class</th>'
        '<th class="num">seconds</th><th>share</th></tr></thead><tbody>'
    )
    for cid, label, secs in zip(class_ids, labels, seconds):
        share = secs / total if total else 0.0
        out.append(
            f'<tr class="cls" data-class="{_e(cid)}"><td>{_e(cid)} {_e(label)}</td><td class="num">{secs:.1f}</td>'
            f'<td><span class="cbar" style="width:{200 * secs / top:.1f}px"></span>{100 * share:.1f} %</td></tr>'
        )
    out.append("</tbody></table>")

    if failed:
        out.append(
            '<h2>Failed videos</h2><table id="failed"><thead><tr><th>video</th><th>error</th></tr></thead><tbody>'
        )
        for r in failed:
            out.append(f'<tr class="failed"><td>{_e(r["path"])}</td><td>{_e(r.get("error") or "")}</td></tr>')
        out.append("</tbody></table>")

    out.append("<h2>Episodes by video</h2>")
    by_video: dict[str, list[dict[str, Any]]] = {}
    for ep in episodes:
        by_video.setdefault(str(ep["video"]), []).append(ep)
    for r in ranked:
        key = str(r["video"])
        links = [
            f'<a href="{_e(key)}/events.jsonl">events</a>',
            f'<a href="{_e(key)}/predictions.jsonl">predictions</a>',
        ]
        if (path.parent / key / "annotated.mp4").exists():
            links.append(f'<a href="{_e(key)}/annotated.mp4">annotated video</a>')
        out.append(f'<section class="video" id="v-{_e(key)}"><h3>{_e(r["path"])}</h3><p>{" · ".join(links)}</p>')
        eps = by_video.get(key, [])
        if not eps:
            out.append(f'<p class="none">No distraction episodes in {_num(r["duration_s"])} s.</p></section>')
            continue
        out.append(
            '<table class="episodes"><thead><tr><th class="num">#</th><th class="num">start (s)</th>'
            '<th class="num">end (s)</th><th class="num">duration (s)</th><th>class</th>'
            '<th class="num">peak</th><th class="num">alerts</th><th>snapshot</th></tr></thead><tbody>'
        )
        for ep in eps:
            snap = ep.get("snapshot") or ""
            cell = f'<a href="{_e(snap)}">jpg</a>' if snap else ""
            out.append(
                f'<tr class="episode"><td class="num">{_e(ep["episode"])}</td>'
                f'<td class="num">{_num(ep["start_s"], 2)}</td><td class="num">{_num(ep["end_s"], 2)}</td>'
                f'<td class="num">{_num(ep["duration_s"], 2)}</td><td>{_e(ep["label"])}</td>'
                f'<td class="num">{_num(ep["peak_confidence"], 2)}</td><td class="num">{_e(ep["alerts"])}</td>'
                f"<td>{cell}</td></tr>"
            )
        out.append("</tbody></table></section>")
    out.append("</main></body></html>")
    part = path.with_name(path.name + ".part")
    part.write_text("\n".join(out) + "\n", encoding="utf-8")
    os.replace(part, path)
    return path
