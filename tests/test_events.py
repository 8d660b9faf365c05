"""Tests for drivercam.events: time per class from a timeline."""

from __future__ import annotations

import numpy as np
import pytest
from support.tiny_models import SHORT_LABELS

from drivercam.events import class_durations
from drivercam.monitoring.episodes import EpisodeConfig

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
