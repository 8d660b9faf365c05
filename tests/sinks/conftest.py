"""The report made once for the report tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.report_pages import DURATION_S, LABELS, simulate

from drivercam.events import Episode
from drivercam.sinks.report import write_report


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Episode]]:
    tmp = tmp_path_factory.mktemp("report")
    episodes, timeline = simulate(tmp)
    path = write_report(
        tmp / "report.html",
        episodes=episodes,
        timeline=timeline,
        duration_s=DURATION_S,
        labels=LABELS,
        title="Trip <A&B>",
        subtitle="cabin.mp4",
    )
    return path, episodes
