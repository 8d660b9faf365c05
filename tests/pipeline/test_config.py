"""Tests for drivercam.pipeline.config: settings are checked when they are made."""

from __future__ import annotations

import pytest
from support.pipeline_fakes import FakeClassifier, ListSource

from drivercam.pipeline import Pipeline

LABELS = ("safe", "texting", "phone")


def test_invalid_settings_are_rejected() -> None:
    with pytest.raises(ValueError, match="batch_size must be an int >= 1, got 0"):
        Pipeline(ListSource(1), FakeClassifier(), batch_size=0)
    with pytest.raises(ValueError, match="queue_size"):
        Pipeline(ListSource(1), FakeClassifier(), queue_size=0)
