"""Tests for drivercam.monitoring.session: smoothing, episodes, alerts, event log and report for a render loop."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from support.report_pages import Collector
from support.tiny_models import SHORT_LABELS

from drivercam.cli.options import OptionError, add_episode_arguments, session_from_args
from drivercam.monitoring.episode_config import EpisodeConfig
from drivercam.monitoring.session import RunSession
from drivercam.render.alert import draw_alert
from drivercam.types import Frame, Prediction, Result

LABELS = SHORT_LABELS
FPS = 15
DURATION_S = 30.0
# Activity every 5 s, like the labelled clips: safe, texting, safe, drinking, radio, safe.
SCRIPT = (0, 1, 0, 6, 5, 0)


def _result(i: int, t: float, probs: np.ndarray, rng: np.random.Generator) -> Result:
    frame = Frame(index=i, image=np.full((48, 64, 3), 90, np.uint8), time_s=t)
    cams = rng.normal(size=(len(LABELS), 3, 4)).astype(np.float32)
    return Result(
        frame=frame, prediction=Prediction(probs=probs.astype(np.float32), cams=cams, labels=LABELS), inference_ms=1.0
    )


@pytest.mark.timeout(60)
def test_run_recorder_smooths_alerts_logs_and_reports(tmp_path: Path) -> None:
    got = tmp_path / "alerts.jsonl"
    sink = tmp_path / "sink.py"
    sink.write_text(f"import sys\nopen({str(got)!r}, 'a').write(sys.stdin.read() + '\\n')\n")
    rng = np.random.default_rng(0)
    rec = RunSession(
        LABELS,
        events_path=tmp_path / "events.jsonl",
        snapshot_dir=tmp_path / "snaps",
        report_path=tmp_path / "run.html",
        on_alert=f'"{sys.executable}" "{sink}"',
        subtitle="synthetic",
        config=EpisodeConfig(onset_s=1.0, warning_s=3.5, cooldown_s=3.0, release_s=1.0),
    )
    red_from: float | None = None
    with rec:
        for i in range(12 * FPS):
            t = i / FPS
            p = np.full(len(LABELS), 0.02)
            p[6 if 2.0 <= t < 8.0 else 0] = 0.82
            result = _result(i, t, p, rng)
            shown = rec.observe(result)
            assert shown.frame is result.frame
            if i == 30:  # first drinking frame: smoothing holds the label back
                assert shown.prediction.label == "safe driving" and result.prediction.label == "drinking"
                assert not np.allclose(shown.prediction.cams, result.prediction.cams)
            drawn = shown.frame.image.copy()
            out = rec.annotate(drawn, i)
            assert (drawn == 90).all()  # annotate never draws into its input
            if (out[0, 0] == (0, 0, 255)).all() and red_from is None:
                red_from = t
        summary = rec.finish()
    assert summary is not None and summary.startswith("1 distraction episode, 1 alert")
    (ep,) = rec.episodes
    assert ep.label == "drinking" and ep.alerts == 1
    assert [c for _, c in rec.timeline] == [0, 6, 0]  # only the changes are kept
    # The alert is drawn from the frame it fires on, and that frame is the one logged and sent.
    assert red_from == pytest.approx(ep.alert_times_s[0])
    records = [json.loads(x) for x in (tmp_path / "events.jsonl").read_text().splitlines()]
    assert [r["type"] for r in records] == ["alert", "episode"]
    assert records[0]["time_s"] == pytest.approx(red_from)
    snap = cv2.imread(str(tmp_path / records[1]["snapshot"]))
    assert snap is not None and snap.shape == (48, 64, 3)
    sent = [json.loads(x) for x in got.read_text().splitlines()]
    assert [s["type"] for s in sent] == ["alert"] and sent[0]["label"] == "drinking"
    parsed = Collector()
    parsed.feed((tmp_path / "run.html").read_text(encoding="utf-8"))
    assert len(parsed.find("rect", "episode")) == 1 and len(parsed.find("img", "snap")) == 1
    assert "synthetic" in " ".join(parsed.text)


def test_alert_banner_names_the_current_activity_at_the_top(tmp_path: Path) -> None:
    # Drinking for 4 s, then texting: one episode (mostly drinking), alerting while texting.
    rec = RunSession(
        LABELS,
        config=EpisodeConfig(onset_s=1.0, warning_s=5.0, cooldown_s=3.0, release_s=1.0),
        events_path=tmp_path / "events.jsonl",
    )
    rng = np.random.default_rng(2)
    checked = 0
    with rec:
        for i in range(8 * FPS):
            t = i / FPS
            p = np.full(len(LABELS), 0.02)
            p[6 if t < 4.0 else 1 if t < 7.0 else 0] = 0.82
            shown = rec.observe(_result(i, t, p, rng))
            image = shown.frame.image.copy()
            out = rec.annotate(image, i)
            if rec.tracker.alerting and 6.0 <= t < 7.0:
                episode = rec.tracker.current
                assert episode is not None and episode.label == LABELS[6]
                expected = draw_alert(image, label=LABELS[1], elapsed_s=episode.duration_s, position="top")
                np.testing.assert_array_equal(out, expected)
                checked += 1
        rec.finish()
    assert checked > 0
    # The alert event names the same activity as the banner, since when, and the episode's activities.
    records = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]
    (alert,) = [r for r in records if r["type"] == "alert"]
    assert (alert["label"], alert["activity_label"]) == ("drinking", "texting - right")
    assert 4.0 < alert["activity"]["start_time_s"] < 4.5 and alert["time_s"] == pytest.approx(5.0)
    (episode,) = [r for r in records if r["type"] == "episode"]
    assert [a["label"] for a in episode["activities"]] == ["drinking", "texting - right"]


def test_run_recorder_without_outputs_and_option_errors(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    rec = RunSession(LABELS, probs_tau_s=0.0, cam_tau_s=0.0)
    result = _result(0, 0.0, np.eye(len(LABELS))[3], rng)
    shown = rec.observe(result)
    np.testing.assert_array_equal(shown.prediction.probs, result.prediction.probs)
    # No outputs asked for: the summary still comes back, once (one frame, no time passed).
    assert rec.finish() == "0 distraction episodes, 0 alerts" and rec.finish() is None
    with pytest.raises(ValueError, match="--events"):
        RunSession(LABELS, snapshot_dir=tmp_path / "s")

    parser = argparse.ArgumentParser()
    add_episode_arguments(parser)
    ids = [f"c{i}" for i in range(len(LABELS))]
    args = parser.parse_args(["--preset", "eu-low-speed", "--cooldown-s", "2", "--distraction-classes", "c1,2,C3"])
    rec = session_from_args(args, LABELS, ids)
    assert (rec.tracker.config.warning_s, rec.tracker.config.cooldown_s) == (5.5, 2.0)
    assert rec.tracker.config.distraction_classes == (1, 2, 3)
    assert rec.tracker.config.min_activity_s == 1.0 and rec.tracker.class_ids == tuple(ids)
    rec = session_from_args(parser.parse_args(["--min-activity-s", "2.5"]), LABELS, ids)
    assert rec.tracker.config.min_activity_s == 2.5
    for argv, option in (
        (["--min-activity-s", "-1"], "--min-activity-s"),  # found while parsing
        (["--warning-s", "0.5"], "--warning-s"),
        (["--smooth", "-1"], "--smooth"),  # found while parsing
        (["--distraction-classes", "c12"], "--distraction-classes"),
    ):
        with pytest.raises(OptionError) as info:
            session_from_args(parser.parse_args(argv), LABELS, ids)
        assert info.value.option == option


# -- the command line -------------------------------------------------------------------------


def test_a_session_without_pictures_logs_the_same_events(tmp_path: Path) -> None:
    # Distracted from 1 s to 6 s at 10 fps: one episode with alerts.
    rng = np.random.default_rng(3)
    results = [_result(i, i / 10, np.eye(len(LABELS))[2 if 10 <= i < 60 else 0] * 0.9 + 0.01, rng) for i in range(80)]
    logs = {}
    for name, with_pictures in (("drawn", True), ("blind", False)):
        path = tmp_path / f"{name}.jsonl"
        session = RunSession(LABELS, events_path=path)
        assert not session.needs_pictures
        for result in results:
            shown = session.observe(result)
            out = session.annotate(shown.frame.image if with_pictures else None, result.frame.index)
            assert (out is None) == (not with_pictures)
        session.finish()
        logs[name] = [json.loads(line) for line in path.read_text().splitlines()]
    assert logs["drawn"] == logs["blind"]
    kinds = [r["type"] for r in logs["blind"]]
    assert kinds.count("episode") == 1 and kinds.count("alert") >= 1
    assert RunSession(LABELS, events_path=tmp_path / "s.jsonl", snapshot_dir=tmp_path / "snaps").needs_pictures
    assert RunSession(LABELS, report_path=tmp_path / "r.html").needs_pictures
