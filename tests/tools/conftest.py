"""Fixtures of the tools/ tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def data_dir(data_dir: Path) -> Path:
    """The top conftest's data folder, when it holds the labelled photos (the tools/ tests need them)."""
    if not (data_dir / "statefarm" / "labels.csv").is_file():
        pytest.skip(f"real in-cabin photos not found at {data_dir}/statefarm (set DRIVERCAM_DATA)")
    return data_dir
