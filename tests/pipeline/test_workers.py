"""Tests for drivercam.pipeline.workers: how many inference threads a run gets."""

from __future__ import annotations

import pytest

from drivercam.pipeline.workers import plan_workers

LABELS = ("safe", "texting", "phone")


@pytest.mark.parametrize(
    "kwargs, expected",
    [
        ({"live": False, "on_cpu": True, "cores": 2}, (2, 1)),
        ({"live": False, "on_cpu": True, "cores": 16}, (2, 8)),
        ({"live": False, "on_cpu": True, "cores": 1}, (1, None)),
        ({"live": True, "on_cpu": True, "cores": 8}, (1, None)),
        ({"live": False, "on_cpu": False, "cores": 8}, (1, None)),
        ({"live": False, "on_cpu": True, "cores": 8, "threads": 3}, (2, 3)),
        ({"live": False, "on_cpu": True, "cores": 8, "workers": 4}, (4, 2)),
        ({"live": False, "on_cpu": True, "cores": 2, "workers": 3}, (3, 1)),
        ({"live": True, "on_cpu": True, "cores": 8, "workers": 1, "threads": 2}, (1, 2)),
    ],
)
def test_plan_workers(kwargs: dict, expected: tuple[int, int | None]) -> None:
    assert plan_workers(**kwargs) == expected
