"""Tests for drivercam.events: time per class from a timeline."""

from __future__ import annotations

import json

import numpy as np
import pytest
from support.tiny_models import SHORT_LABELS

from drivercam.events import Activity, Episode, activity_durations, class_durations
from drivercam.monitoring.episode_config import EpisodeConfig

LABELS = SHORT_LABELS
EU_HIGH = EpisodeConfig.from_preset("eu-high-speed")


# Hand-computed timings below use round numbers: warning at 3.5 s (the presets
# alert 0.5 s earlier, see test_config_presets_overrides_and_validation).
TIMING = EpisodeConfig(onset_s=1.0, warning_s=3.5, cooldown_s=3.0, release_s=1.0)


def test_class_durations_hand_computed() -> None:
    timeline = [(0.0, 0), (1.0, 1), (1.5, 1), (3.0, 0)]
    np.testing.assert_allclose(class_durations(timeline, 3, duration_s=4.0), [2.0, 2.0, 0.0])
    # Without a duration the last sample lasts one median frame period (1.0 s here).
    np.testing.assert_allclose(class_durations(timeline, 3), [2.0, 2.0, 0.0])
    with pytest.raises(ValueError, match="0..2"):
        class_durations([(0.0, 3)], 3)


def _activity(c: int, a: float, b: float) -> Activity:
    return Activity(c, f"c{c}", LABELS[c], a, b, b - a, 0.8)


def _episode(id_: int, *activities: Activity) -> Episode:
    start, end = activities[0].start_time_s, activities[-1].end_time_s
    return Episode(
        id=id_,
        class_index=activities[0].class_index,
        label=activities[0].label,
        start_time_s=start,
        end_time_s=end,
        duration_s=end - start,
        first_frame=0,
        last_frame=10,
        peak_confidence=0.9,
        mean_confidence=0.8,
        peak_frame_index=3,
        peak_time_s=start,
        alerts=1,
        alert_times_s=(start + 3.0,),
        activities=activities,
    )


def test_episode_round_trips_through_its_dict_with_activities() -> None:
    ep = _episode(1, _activity(6, 2.0, 5.5), _activity(5, 5.5, 7.0))
    record = json.loads(json.dumps(ep.to_dict()))
    assert record["activities"][1] == {
        "class_index": 5,
        "class_id": "c5",
        "label": "operating the radio",
        "start_time_s": 5.5,
        "end_time_s": 7.0,
        "duration_s": 1.5,
        "mean_confidence": 0.8,
    }
    assert Episode.from_dict(record) == ep
    # A log written before episodes had activities still reads, with none.
    del record["activities"]
    assert Episode.from_dict(record).activities == ()


def test_activity_durations_sum_per_class_over_episodes() -> None:
    episodes = [
        _episode(1, _activity(6, 2.0, 5.5), _activity(5, 5.5, 7.0)),
        _episode(2, _activity(5, 10.0, 11.0), _activity(1, 11.0, 15.0), _activity(6, 15.0, 16.0)),
    ]
    np.testing.assert_allclose(activity_durations(episodes, 10), [0, 4.0, 0, 0, 0, 2.5, 4.5, 0, 0, 0])
    with pytest.raises(ValueError, match="episode 1"):
        activity_durations(episodes, 6)


def test_activity_is_validated() -> None:
    with pytest.raises(ValueError, match="before it starts"):
        _activity(1, 3.0, 2.0)
    with pytest.raises(ValueError, match="class_index"):
        Activity(-1, "x", "x", 0.0, 1.0, 1.0, 0.5)
