"""Tests for drivercam.episodes: the episode state machine, event log, summary and alert command."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest
from tiny_models import SHORT_LABELS

from drivercam.events import Episode, Event, class_durations
from drivercam.monitoring.alert_command import AlertCommand
from drivercam.monitoring.episodes import EpisodeConfig, EpisodeTracker
from drivercam.monitoring.smoothing import ProbabilitySmoother
from drivercam.monitoring.summary import summarize
from drivercam.sinks.eventlog import EventLog, read_event_log

LABELS = SHORT_LABELS
EU_HIGH = EpisodeConfig.from_preset("eu-high-speed")


def probs(mass: float, cls: int = 1) -> np.ndarray:
    """Class ``cls`` holds ``mass``, safe driving the rest."""
    p = np.zeros(len(LABELS))
    p[cls] = mass
    p[0] += 1.0 - mass
    return p


# Hand-computed timings below use round numbers: warning at 3.5 s (the presets
# alert 0.5 s earlier, see test_config_presets_overrides_and_validation).
TIMING = EpisodeConfig(onset_s=1.0, warning_s=3.5, cooldown_s=3.0, release_s=1.0)


def run(
    signal: Callable[[float], np.ndarray],
    *,
    fps: float,
    duration_s: float,
    config: EpisodeConfig = TIMING,
    smooth_tau_s: float | None = None,
) -> tuple[list[Event], EpisodeTracker]:
    """Feed ``signal(t)`` at ``fps`` for ``duration_s``; returns every event, finish included."""
    tracker = EpisodeTracker(LABELS, config)
    smoother = ProbabilitySmoother(smooth_tau_s) if smooth_tau_s is not None else None
    events: list[Event] = []
    for i in range(round(duration_s * fps)):
        t = i / fps
        p = signal(t)
        if smoother is not None:
            p = smoother.update(t, p)
        events += tracker.update(t, p, i)
    events += tracker.finish()
    return events, tracker


def between(a: float, b: float, inside: float = 0.9, outside: float = 0.05, cls: int = 1) -> Callable[[float], np.ndarray]:
    return lambda t: probs(inside if a - 1e-9 <= t < b - 1e-9 else outside, cls)


def test_episode_start_alerts_and_end_at_exact_times() -> None:
    # Distracted for t in [2, 10) at 15 fps: onset 1 s, warning 3.5 s, cooldown 3 s, release 1 s.
    cfg = EpisodeConfig(onset_s=1.0, warning_s=3.5, cooldown_s=3.0, release_s=1.0)
    events, tracker = run(between(2.0, 10.0), fps=15, duration_s=14.0, config=cfg)
    assert [e.kind for e in events] == ["episode_start", "alert", "alert", "episode_end"]
    start, a1, a2, end = events
    assert (start.frame_index, start.time_s) == (45, pytest.approx(3.0))
    assert start.episode.start_time_s == pytest.approx(2.0)
    assert start.episode.first_frame == 30
    # First frame with age >= 3.5 s is frame 83 (age 3.533 s); next due at age 6.5 s -> frame 128.
    assert (a1.frame_index, a1.alert_number, a1.elapsed_s) == (83, 1, pytest.approx(53 / 15))
    assert (a2.frame_index, a2.alert_number) == (128, 2)
    assert (end.frame_index, end.time_s) == (165, pytest.approx(11.0))
    ep = end.episode
    assert ep.id == 1 and ep.class_index == 1 and ep.label == "texting - right"
    assert ep.start_time_s == pytest.approx(2.0)
    assert ep.end_time_s == pytest.approx(10.0)
    assert ep.duration_s == pytest.approx(8.0)
    assert (ep.first_frame, ep.last_frame) == (30, 149)
    assert ep.alerts == 2
    assert ep.alert_times_s == pytest.approx((83 / 15, 128 / 15))
    assert ep.peak_confidence == pytest.approx(0.9)
    assert ep.mean_confidence == pytest.approx(0.9)
    assert (ep.peak_frame_index, ep.peak_time_s) == (30, pytest.approx(2.0))
    assert tracker.episodes == [ep]


def test_too_short_distraction_is_not_an_episode() -> None:
    events, tracker = run(between(2.0, 2.9), fps=15, duration_s=5.0)
    assert events == [] and tracker.episodes == []


def test_short_safe_blip_does_not_end_an_episode() -> None:
    def signal(t: float) -> np.ndarray:
        if 6.0 <= t < 6.6:  # 0.6 s blip, shorter than release_s = 1 s
            return probs(0.1)
        return between(2.0, 10.0)(t)

    events, _ = run(signal, fps=15, duration_s=14.0)
    ends = [e for e in events if e.kind == "episode_end"]
    assert len(ends) == 1
    assert ends[0].episode.start_time_s == pytest.approx(2.0)
    assert ends[0].episode.end_time_s == pytest.approx(10.0)
    # Blip frames count towards the mean but not the peak.
    assert ends[0].episode.mean_confidence == pytest.approx((111 * 0.9 + 9 * 0.1) / 120)


def test_long_safe_gap_splits_episodes() -> None:
    def signal(t: float) -> np.ndarray:
        return probs(0.9 if (2.0 <= t < 5.0 or 6.2 <= t < 9.0) else 0.05)

    events, tracker = run(signal, fps=15, duration_s=12.0)
    assert [(e.id, round(e.start_time_s, 3), round(e.end_time_s, 3)) for e in tracker.episodes] == [
        (1, 2.0, 5.0),
        (2, 6.2, 9.0),
    ]


def test_hysteresis_band_keeps_episode_open() -> None:
    # 0.4 is below enter (0.5) but above exit (0.35): it sustains but cannot start an episode.
    def signal(t: float) -> np.ndarray:
        if 2.0 <= t < 4.0:
            return probs(0.9)
        return probs(0.4 if t < 8.0 else 0.05)

    _, tracker = run(signal, fps=15, duration_s=12.0)
    assert len(tracker.episodes) == 1
    assert tracker.episodes[0].end_time_s == pytest.approx(8.0)
    _, tracker = run(lambda t: probs(0.4), fps=15, duration_s=5.0)
    assert tracker.episodes == []


def test_alert_due_during_a_blip_fires_on_the_next_distracted_frame() -> None:
    def signal(t: float) -> np.ndarray:
        if 5.4 <= t < 5.8:  # covers the first deadline at 5.5 s
            return probs(0.1)
        return between(2.0, 10.0)(t)

    events, _ = run(signal, fps=30, duration_s=12.0)
    alerts = [e.time_s for e in events if e.kind == "alert"]
    assert alerts == pytest.approx([5.8, 8.5])


def test_alerts_repeat_every_cooldown() -> None:
    events, _ = run(between(2.0, 30.0), fps=30, duration_s=32.0)
    alerts = [e for e in events if e.kind == "alert"]
    times = np.array([e.time_s for e in alerts])
    assert times[0] == pytest.approx(5.5)
    np.testing.assert_allclose(np.diff(times), 3.0, atol=1e-9)
    assert len(alerts) == 9  # 5.5, 8.5, ..., 29.5
    assert [e.alert_number for e in alerts] == list(range(1, 10))


def test_low_speed_preset_warns_later() -> None:
    cfg = EpisodeConfig.from_preset("eu-low-speed")
    events, _ = run(between(2.0, 10.0), fps=30, duration_s=12.0, config=cfg)
    assert [e.time_s for e in events if e.kind == "alert"] == pytest.approx([7.5])  # 2.0 + 5.5
    events, _ = run(between(2.0, 10.0), fps=30, duration_s=12.0, config=EpisodeConfig.from_preset("eu-high-speed"))
    assert [e.time_s for e in events if e.kind == "alert"] == pytest.approx([5.0, 8.0])  # 2.0 + 3.0, + 3.0


def _signature(events: list[Event]) -> list[tuple[object, ...]]:
    return [
        (e.kind, round(e.time_s, 6), e.episode.id, e.episode.class_index, round(e.episode.start_time_s, 6),
         round(e.episode.end_time_s, 6), e.episode.alerts)
        for e in events
    ]


def _activity(t: float) -> np.ndarray:
    # Changes on the 1/15 s grid: texting 1.0-6.0 s, a 0.4 s glance back, phone 6.4-12.0 s, radio 20-22 s.
    if 1.0 <= t < 6.0:
        return probs(0.95, 1)
    if 6.4 <= t < 12.0:
        return probs(0.8, 2)
    if 20.0 <= t < 22.0:
        return probs(0.9, 5)
    return probs(0.02, 1)


def test_same_events_at_15_and_30_fps() -> None:
    cfg = EpisodeConfig(onset_s=1.0, warning_s=3.2, cooldown_s=2.0, release_s=0.8)
    e15, _ = run(_activity, fps=15, duration_s=25.0, config=cfg)
    e30, _ = run(_activity, fps=30, duration_s=25.0, config=cfg)
    assert _signature(e15) == _signature(e30)
    assert [2 * e.frame_index for e in e15] == [e.frame_index for e in e30]
    assert [e.kind for e in e15].count("episode_start") == 2


def test_nearly_same_events_at_15_and_30_fps_after_smoothing() -> None:
    # Smoothing moves threshold crossings by a fraction of a frame; events agree to one 15 fps frame.
    e15, _ = run(_activity, fps=15, duration_s=25.0, smooth_tau_s=0.5)
    e30, _ = run(_activity, fps=30, duration_s=25.0, smooth_tau_s=0.5)
    assert [(e.kind, e.episode.id) for e in e15] == [(e.kind, e.episode.id) for e in e30]
    for a, b in zip(e15, e30):
        assert abs(a.time_s - b.time_s) <= 1 / 15 + 1e-9
        assert abs(a.episode.start_time_s - b.episode.start_time_s) <= 1 / 15 + 1e-9
    assert [e.kind for e in e15].count("episode_start") == 2


def test_distraction_mass_keeps_wavering_classes_in_one_episode() -> None:
    def signal(t: float) -> np.ndarray:
        p = np.zeros(len(LABELS))
        if 1.0 <= t < 6.0:
            i = round(t * 15)
            p[1], p[2] = (0.5, 0.4) if i % 3 else (0.35, 0.55)  # class 1 wins 2 frames in 3
            p[0] = 0.1
        else:
            p[0] = 1.0
        return p

    _, tracker = run(signal, fps=15, duration_s=8.0)
    assert len(tracker.episodes) == 1
    assert tracker.episodes[0].class_index == 1
    assert tracker.episodes[0].peak_confidence == pytest.approx(0.9)


def test_configurable_distraction_classes() -> None:
    cfg = EpisodeConfig(distraction_classes=(1, 2, 3, 4, 5, 6, 7, 8))  # passenger talk is fine
    _, tracker = run(between(1.0, 6.0, cls=9), fps=15, duration_s=8.0, config=cfg)
    assert tracker.episodes == []
    _, tracker = run(between(1.0, 6.0, cls=9), fps=15, duration_s=8.0)
    assert [e.label for e in tracker.episodes] == ["talking to passenger"]
    with pytest.raises(ValueError, match="out of range"):
        EpisodeTracker(LABELS[:5], cfg)


def test_finish_closes_open_episode() -> None:
    tracker = EpisodeTracker(LABELS)
    for i in range(60):
        tracker.update(i / 15, probs(0.9), i)
    assert tracker.current is not None and tracker.current.duration_s == pytest.approx(59 / 15)
    (end,) = tracker.finish(4.0)
    assert end.kind == "episode_end"
    assert end.episode.end_time_s == pytest.approx(4.0)
    assert end.episode.last_frame == 59
    assert tracker.current is None and tracker.finish() == []


def test_finish_during_release_ends_at_first_safe_frame() -> None:
    tracker = EpisodeTracker(LABELS)
    for i in range(60):
        tracker.update(i / 15, probs(0.9 if i < 45 else 0.0), i)
    (end,) = tracker.finish()
    assert end.episode.end_time_s == pytest.approx(3.0)
    assert end.episode.last_frame == 44


def test_alerting_flag_follows_alert_and_blip() -> None:
    tracker = EpisodeTracker(LABELS, EpisodeConfig(onset_s=0.0, warning_s=0.0, release_s=1.0))
    assert not tracker.alerting
    (start, alert) = tracker.update(0.0, probs(0.9), 0)
    assert (start.kind, alert.kind) == ("episode_start", "alert")
    assert tracker.alerting and tracker.peak_frame_index == 0
    tracker.update(0.1, probs(0.0), 1)
    assert not tracker.alerting and tracker.current is not None


def test_time_going_back_is_an_error() -> None:
    tracker = EpisodeTracker(LABELS)
    tracker.update(1.0, probs(0.9), 0)
    with pytest.raises(ValueError, match="finish"):
        tracker.update(0.5, probs(0.9), 1)
    with pytest.raises(ValueError, match=r"shape \(10,\)"):
        tracker.update(2.0, np.ones(3) / 3, 2)


def test_config_presets_overrides_and_validation() -> None:
    assert EpisodeConfig() == EU_HIGH
    # The rule's 3.5 s and 6 s, less a 0.5 s margin for smoothing and detection delay.
    assert EU_HIGH.warning_s == 3.0
    low = EpisodeConfig.from_preset("eu-low-speed", cooldown_s=2.0, release_s=None)
    assert (low.warning_s, low.cooldown_s, low.release_s) == (5.5, 2.0, 1.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        low.warning_s = 1.0  # type: ignore[misc]
    with pytest.raises(ValueError, match="unknown episode preset 'eu-fast'"):
        EpisodeConfig.from_preset("eu-fast")
    with pytest.raises(TypeError, match="warn_s"):
        EpisodeConfig.from_preset(warn_s=2.0)
    with pytest.raises(ValueError, match="warning_s"):
        EpisodeConfig(onset_s=4.0, warning_s=3.5)
    with pytest.raises(ValueError, match="exit_threshold"):
        EpisodeConfig(enter_threshold=0.5, exit_threshold=0.6)
    with pytest.raises(ValueError, match="cooldown_s"):
        EpisodeConfig(cooldown_s=0.0)
    with pytest.raises(ValueError, match="release_s"):
        EpisodeConfig(release_s=-1.0)
    with pytest.raises(ValueError, match="distraction_classes"):
        EpisodeConfig(distraction_classes=())


# -- summary ----------------------------------------------------------------


def test_class_durations_hand_computed() -> None:
    timeline = [(0.0, 0), (1.0, 1), (1.5, 1), (3.0, 0)]
    np.testing.assert_allclose(class_durations(timeline, 3, duration_s=4.0), [2.0, 2.0, 0.0])
    # Without a duration the last sample lasts one median frame period (1.0 s here).
    np.testing.assert_allclose(class_durations(timeline, 3), [2.0, 2.0, 0.0])
    with pytest.raises(ValueError, match="0..2"):
        class_durations([(0.0, 3)], 3)


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
        "type": str, "id": int, "class_index": int, "label": str, "start_time_s": float, "end_time_s": float,
        "duration_s": float, "first_frame": int, "last_frame": int, "peak_confidence": float,
        "mean_confidence": float, "peak_frame_index": int, "peak_time_s": float, "alerts": int,
        "alert_times_s": list, "snapshot": str,
    }
    alert_types = {
        "type": str, "time_s": float, "frame_index": int, "episode_id": int, "class_index": int, "label": str,
        "elapsed_s": float, "confidence": float, "alert_number": int,
    }
    for rec in lines:
        expected = alert_types if rec["type"] == "alert" else episode_types
        assert set(rec) == set(expected)
        for key, typ in expected.items():
            assert isinstance(rec[key], typ), (key, rec[key])
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


def _alert_events(n: int) -> list[Event]:
    events, _ = run(between(0.0, 3.5 + 3.0 * (n - 1) + 0.1), fps=15, duration_s=4.0 + 3.0 * n)
    alerts = [e for e in events if e.kind == "alert"]
    assert len(alerts) == n
    return events


def _py(code: str, tmp_path: Path, name: str) -> str:
    script = tmp_path / f"{name}.py"
    script.write_text(code)
    return f'"{sys.executable}" "{script}"'


@pytest.mark.timeout(30)
def test_alert_command_receives_event_json_on_stdin(tmp_path: Path) -> None:
    out = tmp_path / "got.jsonl"
    cmd = _py(f"import sys\nopen({str(out)!r}, 'a').write(sys.stdin.read() + '\\n')\n", tmp_path, "sink")
    events = _alert_events(2)
    with AlertCommand(cmd, timeout_s=10.0) as command:
        command.send(events)  # starts/ends are filtered out
    got = [json.loads(x) for x in out.read_text().splitlines()]
    assert [g["type"] for g in got] == ["alert", "alert"]
    assert [g["alert_number"] for g in got] == [1, 2]
    assert command.succeeded == 2 and command.failed == 0


@pytest.mark.timeout(30)
@pytest.mark.skipif(os.name != "posix", reason="process groups are POSIX")
def test_alert_command_kill_reaches_the_process_the_shell_started(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    child = _py(f"import os, time\nopen({str(pid_file)!r}, 'w').write(str(os.getpid()))\ntime.sleep(30)\n", tmp_path, "child")
    command = AlertCommand(f"{child}; true", timeout_s=10.0)  # a shell that does not exec the child
    command.send(_alert_events(1))
    deadline = time.monotonic() + 10
    while not (pid_file.exists() and pid_file.read_text()) and time.monotonic() < deadline:
        time.sleep(0.05)
    command.close(timeout_s=0.2)  # still running: killed
    pid = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        # A killed child stays a zombie until its parent reaps it; that is gone too.
        stat = Path(f"/proc/{pid}/stat")
        if stat.exists() and stat.read_text().split()[2] == "Z":
            break
        time.sleep(0.05)
    else:
        pytest.fail(f"the command's child {pid} outlived the kill")


def test_alert_command_never_blocks_and_failures_are_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    slow = _py("import time\ntime.sleep(20)\n", tmp_path, "slow")
    events = _alert_events(3)
    command = AlertCommand(slow, timeout_s=0.5, max_pending=1)
    t0 = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="drivercam.alerts"):
        command.send(events)
        sent_in = time.monotonic() - t0
        command.close()
    assert sent_in < 0.2
    assert time.monotonic() - t0 < 6.0  # killed at its timeout, not after 20 s
    assert command.failed >= 1 and command.dropped >= 1
    assert "killed" in caplog.text

    # A command that would outlive the program is killed at close.
    caplog.clear()
    hung = AlertCommand(slow, timeout_s=60.0)
    t0 = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="drivercam.alerts"):
        hung.send(events)
        time.sleep(0.3)  # let it start
        hung.close(timeout_s=0.5)
    assert time.monotonic() - t0 < 5.0
    assert hung._proc is not None and hung._proc.poll() is not None
    assert "still busy at exit" in caplog.text

    caplog.clear()
    failing = _py("import sys\nsys.stderr.write('no speaker\\n')\nsys.exit(3)\n", tmp_path, "fail")
    with caplog.at_level(logging.WARNING, logger="drivercam.alerts"):
        with AlertCommand(failing, timeout_s=5.0) as command:
            command.send(events[:2])
    assert command.failed == 1 and command.succeeded == 0
    assert "exited with 3: no speaker" in caplog.text
    with pytest.raises(ValueError, match="command"):
        AlertCommand("  ")


# -- alert overlay ------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(48, 64, 3), (480, 640, 3), (720, 1280, 3)])
def test_draw_alert_border_banner_and_input_untouched(shape: tuple[int, int, int]) -> None:
    from drivercam.render.alert import ALERT_RED, draw_alert, format_alert

    img = np.random.default_rng(0).integers(0, 120, size=shape, dtype=np.uint8)  # never pure red
    before = img.copy()
    out = draw_alert(img, label="texting - right", elapsed_s=4.24)
    np.testing.assert_array_equal(img, before)
    assert out.shape == img.shape and out.dtype == np.uint8 and out is not img
    h, w = shape[:2]
    border = max(3, round(0.015 * min(h, w)))
    red = np.array(ALERT_RED, np.uint8)
    for edge in (out[:border], out[-border:], out[:, :border], out[:, -border:]):
        assert (edge == red).all()
    # The banner along the bottom is mostly red, with white text in it.
    banner = out[h - border - 3 : h - border, border:-border]
    assert (banner[..., 2] >= 200).mean() > 0.6 and (banner[..., 0] <= 40).mean() > 0.6
    inner = out[:, border:-border].astype(int)
    banner_rows = ((inner == (0, 0, 210)).all(axis=2).mean(axis=1) > 0.3).nonzero()[0]
    assert banner_rows.min() > h // 2
    assert (inner[banner_rows, :, 0] > 80).any(), "no white text drawn"  # banner red has no blue
    # The picture itself is untouched above the banner.
    np.testing.assert_array_equal(out[border : h // 3, border:-border], img[border : h // 3, border:-border])
    assert format_alert("texting - right", 4.24) == "DISTRACTED: texting - right 4.2 s"


def test_draw_alert_text_changes_with_elapsed_and_top_position() -> None:
    from drivercam.render.alert import draw_alert

    img = np.zeros((240, 320, 3), np.uint8)
    a = draw_alert(img, label="drinking", elapsed_s=4.2)
    b = draw_alert(img, label="drinking", elapsed_s=9.9)
    assert not np.array_equal(a, b)
    top = draw_alert(img, label="drinking", elapsed_s=4.2, position="top")
    assert (top[10, 20:300, 2] >= 200).all() and (top[200, 20:300] == 0).all()
    long = draw_alert(img, label="talking on the phone - right hand, " * 5, elapsed_s=1.0)
    assert long.shape == img.shape
    with pytest.raises(ValueError, match="uint8"):
        draw_alert(img.astype(np.float32), label="x", elapsed_s=1.0)
    with pytest.raises(ValueError, match="elapsed_s"):
        draw_alert(img, label="x", elapsed_s=float("nan"))
    with pytest.raises(ValueError, match="position"):
        draw_alert(img, label="x", elapsed_s=1.0, position="left")


# -- tools/eval_smoothing.py metrics ---------------------------------------------------


def test_eval_smoothing_span_matching(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    path = Path(__file__).resolve().parent.parent / "tools" / "eval_smoothing.py"
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
