"""Tests for tools/eval_smoothing.py: matching predicted distraction spans to the labelled ones."""

from __future__ import annotations

import dataclasses
import sys

import numpy as np
import pytest
from support import REPO_ROOT
from support.tiny_models import SHORT_LABELS

from drivercam.events import Episode
from drivercam.monitoring.episode_config import EpisodeConfig

LABELS = SHORT_LABELS
EU_HIGH = EpisodeConfig.from_preset("eu-high-speed")


# Hand-computed timings below use round numbers: warning at 3.5 s (the presets
# alert 0.5 s earlier, see test_config_presets_overrides_and_validation).
TIMING = EpisodeConfig(onset_s=1.0, warning_s=3.5, cooldown_s=3.0, release_s=1.0)


def test_eval_smoothing_span_matching(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    path = REPO_ROOT / "tools" / "eval_smoothing.py"
    spec = importlib.util.spec_from_file_location("eval_smoothing", path)
    assert spec is not None and spec.loader is not None
    tool = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "eval_smoothing", tool)  # dataclasses look their module up
    spec.loader.exec_module(tool)

    times = np.arange(12) / 2.0
    distracted = np.array([0, 1, 1, 0, 0, 1, 1, 1, 0, 0, 0, 1], bool)
    spans = tool.true_spans(distracted, times, 6.0)
    assert spans == [(0.5, 1.5), (2.5, 4.0), (5.5, 6.0)]
    assert tool.label_changes(np.array([0, 0, 1, 1, 0, 2])) == 3
    ep = Episode(1, 1, "x", 0.7, 4.5, 3.8, 1, 8, 0.9, 0.8, 3, 1.5, 1, (4.2,))
    stray = Episode(2, 1, "x", 4.6, 5.2, 0.6, 9, 10, 0.9, 0.8, 9, 4.6, 0)
    m = tool.match_episodes([ep, stray], spans)
    assert (m["spans_found"], m["merging_episodes"], m["false_episodes"], m["spans_split"]) == (2, 1, 1, 0)
    assert m["mean_onset_delay_s"] == pytest.approx(((0.7 - 0.5) + (0.7 - 2.5)) / 2)
    assert m["mean_first_alert_delay_s"] == pytest.approx(((4.2 - 0.5) + (4.2 - 2.5)) / 2)


def test_eval_smoothing_activity_matching(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    from drivercam.events import Activity

    path = REPO_ROOT / "tools" / "eval_smoothing.py"
    spec = importlib.util.spec_from_file_location("eval_smoothing", path)
    assert spec is not None and spec.loader is not None
    tool = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "eval_smoothing", tool)
    spec.loader.exec_module(tool)

    times = np.arange(12) * 1.0
    truth = np.array([0, 1, 1, 1, 6, 6, 6, 6, 0, 0, 9, 9])
    stretches = tool.true_stretches(truth, times, 12.0, [1, 6, 9])
    assert stretches == [(1.0, 4.0, 1), (4.0, 8.0, 6), (10.0, 12.0, 9)]
    acts = (Activity(1, "c1", "a", 1.5, 5.0, 3.5, 0.8), Activity(6, "c6", "b", 5.0, 8.5, 3.5, 0.8))
    ep = Episode(1, 6, "b", 1.5, 8.5, 7.0, 1, 8, 0.9, 0.8, 3, 1.5, 0, (), None, acts)
    # c1 [1, 4): 2.5 s of 3 covered; c6 [4, 8): 3 of 4; c9: no episode, not named.
    m = tool.match_activities([ep], stretches)
    assert (m["stretches"], m["in_episode"], m["named"], m["not_named"]) == (3, 2, 2, "c9@10s")
    short = (Activity(1, "c1", "a", 1.5, 2.4, 0.9, 0.8), Activity(6, "c6", "b", 2.4, 8.5, 6.1, 0.8))
    m = tool.match_activities([dataclasses.replace(ep, activities=short)], stretches[:1])
    assert m["named"] == 0  # 0.9 s of a 3 s stretch
