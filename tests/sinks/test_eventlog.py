"""Tests for drivercam.sinks.eventlog: the JSON Lines episode log with snapshots, written and read back."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from support.episode_signals import between, probs, run
from support.tiny_models import SHORT_LABELS

from drivercam.monitoring.episode_config import EpisodeConfig
from drivercam.monitoring.episodes import EpisodeTracker
from drivercam.sinks.eventlog import EventLog, read_event_log

LABELS = SHORT_LABELS
EU_HIGH = EpisodeConfig.from_preset("eu-high-speed")


# Hand-computed timings below use round numbers: warning at 3.5 s (the presets
# alert 0.5 s earlier, see test_config_presets_overrides_and_validation).
TIMING = EpisodeConfig(onset_s=1.0, warning_s=3.5, cooldown_s=3.0, release_s=1.0)


def _frame(value: int) -> np.ndarray:
    return np.full((48, 64, 3), value, np.uint8)


def test_event_log_schema_and_snapshots(tmp_path: Path) -> None:
    def mass(i: int) -> float:  # two episodes with a unique peak each
        if 30 <= i < 120:
            return 0.6 + 0.3 * (1 - abs(i - 70) / 50)  # peak at frame 70
        if 150 <= i < 200:
            return 0.8 if i != 180 else 0.97
        return 0.0

    tracker = EpisodeTracker(LABELS, TIMING)
    with EventLog(tmp_path / "events.jsonl", snapshot_dir=tmp_path / "snaps") as log:
        for i in range(240):
            events = tracker.update(i / 15, probs(mass(i), 4), i)
            rendered = _frame(i)  # brightness tells which frame was saved
            log.record(events, frame_index=i, image=rendered, peak_frame_index=tracker.peak_frame_index)
        log.record(tracker.finish())
        logged = list(log.episodes)

    lines = [json.loads(x) for x in (tmp_path / "events.jsonl").read_text().splitlines()]
    assert [r["type"] for r in lines] == ["alert", "episode", "episode"]
    episode_types = {
        "type": str,
        "id": int,
        "class_index": int,
        "label": str,
        "start_time_s": float,
        "end_time_s": float,
        "duration_s": float,
        "first_frame": int,
        "last_frame": int,
        "peak_confidence": float,
        "mean_confidence": float,
        "peak_frame_index": int,
        "peak_time_s": float,
        "alerts": int,
        "alert_times_s": list,
        "snapshot": str,
        "activities": list,
    }
    alert_types = {
        "type": str,
        "time_s": float,
        "frame_index": int,
        "episode_id": int,
        "class_index": int,
        "label": str,
        "elapsed_s": float,
        "confidence": float,
        "alert_number": int,
        "activity_class_index": int,
        "activity_label": str,
        "activity": dict,
        "activities": list,
    }
    for rec in lines:
        expected = alert_types if rec["type"] == "alert" else episode_types
        assert set(rec) == set(expected)
        for key, typ in expected.items():
            assert isinstance(rec[key], typ), (key, rec[key])
    activity_types = {
        "class_index": int,
        "class_id": str,
        "label": str,
        "start_time_s": float,
        "end_time_s": float,
        "duration_s": float,
        "mean_confidence": float,
    }
    for activity in [lines[0]["activity"], *(a for rec in lines for a in rec["activities"])]:
        assert set(activity) == set(activity_types)
        for key, typ in activity_types.items():
            assert isinstance(activity[key], typ), (key, activity[key])
    # One activity per episode here: class 4 all along, from the episode's start to its end.
    assert lines[0]["activity_label"] == "phone - left" and lines[0]["activity"]["class_id"] == "4"
    for rec in lines[1:]:
        (activity,) = rec["activities"]
        assert (activity["class_index"], activity["start_time_s"], activity["end_time_s"]) == (
            4,
            rec["start_time_s"],
            rec["end_time_s"],
        )
    ep1, ep2 = lines[1], lines[2]
    assert (ep1["id"], ep1["label"], ep1["peak_frame_index"], ep1["alerts"]) == (1, "phone - left", 70, 1)
    assert (ep2["id"], ep2["peak_frame_index"], ep2["alerts"]) == (2, 180, 0)
    assert ep1["peak_confidence"] == pytest.approx(0.9)
    for rec, peak in ((ep1, 70), (ep2, 180)):
        img = cv2.imread(str(tmp_path / rec["snapshot"]))
        assert img is not None and img.shape == (48, 64, 3)
        assert abs(float(img.mean()) - peak) < 2  # the peak frame, not a neighbour
    episodes, alerts = read_event_log(tmp_path / "events.jsonl")
    assert [e.id for e in episodes] == [1, 2] and len(alerts) == 1
    assert Path(episodes[0].snapshot or "").is_file()
    assert Path(logged[0].snapshot or "").is_file()
    assert dataclasses.replace(episodes[0], snapshot=None) == dataclasses.replace(logged[0], snapshot=None)
    assert Path(episodes[0].snapshot or "").samefile(logged[0].snapshot or "")


def test_event_log_without_snapshots_and_errors(tmp_path: Path) -> None:
    events, _ = run(between(1.0, 3.0), fps=15, duration_s=5.0)
    with EventLog(tmp_path / "e.jsonl") as log:
        log.record(events, frame_index=0, image=_frame(1), peak_frame_index=0)
    rec = json.loads((tmp_path / "e.jsonl").read_text())
    assert rec["type"] == "episode" and rec["snapshot"] is None
    from drivercam.errors import SinkError

    with pytest.raises(SinkError, match="missing"):
        EventLog(tmp_path / "missing" / "e.jsonl")
    with pytest.raises(SinkError, match="closed"):
        log.record(events)


# -- alert command ---------------------------------------------------------------
