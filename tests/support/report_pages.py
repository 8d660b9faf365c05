"""Reading a generated HTML report back, and a simulated run that makes one."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import numpy as np

from drivercam.events import Episode
from drivercam.monitoring.episodes import EpisodeTracker
from drivercam.monitoring.smoothing import ProbabilitySmoother
from drivercam.sinks.eventlog import EventLog
from support.tiny_models import SHORT_LABELS

LABELS = SHORT_LABELS
FPS = 15
DURATION_S = 30.0
SCRIPT = (0, 1, 0, 6, 5, 0)
"""The simulated run's class in each 5 s stretch."""


class Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def find(self, tag: str, cls: str | None = None) -> list[dict[str, str]]:
        return [a for t, a in self.tags if t == tag and (cls is None or cls in a.get("class", "").split())]


def simulate(tmp_path: Path) -> tuple[list[Episode], list[tuple[float, int]]]:
    """Run smoother + tracker + event log (with real JPEG snapshots) over a scripted signal."""
    rng = np.random.default_rng(0)
    smoother = ProbabilitySmoother(0.5)
    tracker = EpisodeTracker(LABELS)
    timeline: list[tuple[float, int]] = []
    with EventLog(tmp_path / "events.jsonl", snapshot_dir=tmp_path / "snaps") as log:
        for i in range(round(DURATION_S * FPS)):
            t = i / FPS
            p = rng.dirichlet(np.ones(len(LABELS))) * 0.2
            p[SCRIPT[int(t // 5)]] += 0.8
            s = smoother.update(t, p)
            timeline.append((t, int(np.argmax(s))))
            frame = np.full((48, 64, 3), (40, 80, 160), np.uint8)
            log.record(tracker.update(t, s, i), frame_index=i, image=frame, peak_frame_index=tracker.peak_frame_index)
        log.record(tracker.finish(DURATION_S))
        return list(log.episodes), timeline
