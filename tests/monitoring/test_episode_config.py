"""Tests for drivercam.monitoring.episode_config: presets, overrides and checks of the episode rule's settings."""

from __future__ import annotations

import dataclasses

import pytest

from drivercam.monitoring.episode_config import EpisodeConfig

EU_HIGH = EpisodeConfig.from_preset("eu-high-speed")


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


def test_min_activity_s_is_validated() -> None:
    assert EpisodeConfig().min_activity_s == 1.0
    with pytest.raises(ValueError, match="min_activity_s"):
        EpisodeConfig(min_activity_s=-0.5)
    with pytest.raises(TypeError, match="min_activity_s"):
        EpisodeConfig(min_activity_s="1")  # type: ignore[arg-type]
