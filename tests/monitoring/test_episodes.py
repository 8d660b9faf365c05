"""Tests for drivercam.monitoring.episodes: the episode state machine, its timing and presets."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from support.episode_signals import LABELS, TIMING, between, probs, run

from drivercam.events import Event
from drivercam.monitoring.episode_config import EpisodeConfig
from drivercam.monitoring.episodes import EpisodeTracker

# Hand-computed timings below use round numbers: warning at 3.5 s (the presets
# alert 0.5 s earlier, see test_config_presets_overrides_and_validation).


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
        (
            e.kind,
            round(e.time_s, 6),
            e.episode.id,
            e.episode.class_index,
            round(e.episode.start_time_s, 6),
            round(e.episode.end_time_s, 6),
            e.episode.alerts,
        )
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


# -- activities ---------------------------------------------------------------


def _back_to_back(t: float) -> np.ndarray:
    # Texting right, 0.4 s of drinking, texting left, the radio; safe from 9.6 s.
    for a, b, cls in ((1.0, 4.0, 1), (4.0, 4.4, 6), (4.4, 8.0, 3), (8.0, 9.6, 5)):
        if a - 1e-9 <= t < b - 1e-9:
            return probs(0.9, cls)
    return probs(0.0)


def test_episode_activities_and_alerts_name_what_the_driver_does() -> None:
    cfg = dataclasses.replace(TIMING, cooldown_s=4.0)
    tracker = EpisodeTracker(LABELS, cfg, class_ids=[f"c{i}" for i in range(len(LABELS))])
    events: list[Event] = []
    for i in range(12 * 15):
        events += tracker.update(i / 15, _back_to_back(i / 15), i)
        if i == 130:
            now = tracker.current_activity
            assert now is not None and (now.label, now.start_time_s) == ("operating the radio", pytest.approx(8.0))
            assert now.end_time_s == pytest.approx(130 / 15)
            current = tracker.current
            assert current is not None and tracker.elapsed_s == pytest.approx(current.duration_s)
    assert tracker.current_activity is None and tracker.elapsed_s is None
    (ep,) = tracker.episodes
    # The 0.4 s of drinking (frames 60-65) joins the longer neighbour, texting left.
    got = [(a.class_index, a.class_id, a.start_time_s, a.end_time_s) for a in ep.activities]
    assert got == [
        (1, "c1", pytest.approx(1.0), pytest.approx(4.0)),
        (3, "c3", pytest.approx(4.0), pytest.approx(8.0)),
        (5, "c5", pytest.approx(8.0), pytest.approx(9.6)),
    ]
    assert [a.duration_s for a in ep.activities] == pytest.approx([3.0, 4.0, 1.6])
    # 54 of texting left's 60 frames hold 0.9 for it, the drinking frames 0.
    assert [a.mean_confidence for a in ep.activities] == pytest.approx([0.9, 54 * 0.9 / 60, 0.9])
    assert (ep.class_index, ep.label) == (3, "texting - left")  # the activity with the most time
    # Alerts at ages 3.53 s (frame 68) and 7.53 s (frame 128): what the driver does then, unmerged.
    alerts = [e for e in events if e.kind == "alert"]
    assert [e.frame_index for e in alerts] == [68, 128]
    assert [(e.activity.label, e.activity.start_time_s) for e in alerts if e.activity] == [
        ("texting - left", pytest.approx(4.4)),
        ("operating the radio", pytest.approx(8.0)),
    ]
    record = alerts[1].to_dict()
    assert (record["activity_class_index"], record["activity_label"]) == (5, "operating the radio")
    assert record["activity"]["class_id"] == "c5" and record["activity"]["end_time_s"] == pytest.approx(128 / 15)
    # The episode as it stands: the radio's 0.53 s so far is still merged into texting left.
    assert [a["class_index"] for a in record["activities"]] == [1, 3]
    with pytest.raises(ValueError, match="class ids"):
        EpisodeTracker(LABELS, class_ids=["c0"])


def test_activities_tile_each_episode_through_blips_and_flicker() -> None:
    rng = np.random.default_rng(3)
    noise = rng.dirichlet(np.ones(len(LABELS)), size=40 * 15) * 0.3

    def signal(t: float) -> np.ndarray:
        i = round(t * 15)
        blip = 12.0 <= t < 12.5 or 30.0 <= t < 35.0
        p = probs(0.0 if blip else 0.7, 1 + int(t // 3) % 9) * 0.7 + noise[i]
        return p / p.sum()

    _, tracker = run(signal, fps=15, duration_s=40.0, smooth_tau_s=0.5)
    assert len(tracker.episodes) == 2 and len(tracker.episodes[0].activities) >= 5
    for ep in tracker.episodes:
        acts = ep.activities
        assert acts[0].start_time_s == ep.start_time_s and acts[-1].end_time_s == ep.end_time_s
        for a, b in zip(acts, acts[1:]):
            assert a.end_time_s == b.start_time_s and a.class_index != b.class_index
        assert all(a.duration_s >= 1.0 - 1e-6 for a in acts)
        seconds = {c: sum(a.duration_s for a in acts if a.class_index == c) for c in {a.class_index for a in acts}}
        assert seconds[ep.class_index] == max(seconds.values())
