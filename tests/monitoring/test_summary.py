"""Tests for drivercam.monitoring.summary: the plain-text summary at the end of a run."""

from __future__ import annotations

import numpy as np
from support.episode_signals import probs, run
from support.tiny_models import SHORT_LABELS

from drivercam.monitoring.episode_config import EpisodeConfig
from drivercam.monitoring.summary import summarize

LABELS = SHORT_LABELS
EU_HIGH = EpisodeConfig.from_preset("eu-high-speed")


# Hand-computed timings below use round numbers: warning at 3.5 s (the presets
# alert 0.5 s earlier, see test_config_presets_overrides_and_validation).
TIMING = EpisodeConfig(onset_s=1.0, warning_s=3.5, cooldown_s=3.0, release_s=1.0)


def test_summarize_reports_counts_longest_and_time_per_class() -> None:
    def signal(t: float) -> np.ndarray:
        return probs(0.9 if (2.0 <= t < 4.0 or 6.0 <= t < 12.0) else 0.05, 1 if t < 5 else 6)

    _, tracker = run(signal, fps=15, duration_s=14.0)
    timeline = [(i / 15, int(np.argmax(signal(i / 15)))) for i in range(14 * 15)]
    text = summarize(tracker.episodes, labels=LABELS, timeline=timeline, duration_s=14.0)
    assert "2 distraction episodes, 1 alert, 8.0 s distracted of 14.0 s (57 %)" in text
    assert "longest episode: #2 drinking, 6.0 s (6.0-12.0 s)" in text
    assert "safe driving" in text and "6.0 s" in text
    assert summarize([], labels=LABELS).startswith("0 distraction episodes, 0 alerts")


# -- event log ----------------------------------------------------------------


def test_summarize_counts_time_per_activity_across_episodes() -> None:
    # Episode 1: texting right [2, 4); episode 2: texting right [6, 8), drinking [8, 12).
    def signal(t: float) -> np.ndarray:
        return probs(0.9 if (2.0 <= t < 4.0 or 6.0 <= t < 12.0) else 0.05, 1 if t < 8 else 6)

    _, tracker = run(signal, fps=15, duration_s=14.0)
    text = summarize(tracker.episodes, labels=LABELS)
    lines = text.splitlines()
    start = lines.index("time per activity in episodes:")
    # Longest first; each with its share of the 8 s distracted and how many activities.
    assert lines[start + 1].split() == ["texting", "-", "right", "4.0", "s", "50.0", "%", "(2x)"]
    assert lines[start + 2].split() == ["drinking", "4.0", "s", "50.0", "%", "(1x)"]
    assert "time per class:" not in text  # no timeline given
