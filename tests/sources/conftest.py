"""A short clip made once for the source tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import media


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("clip")
    return media.write_video(folder / "clip.mp4", frames=30, fps=15, audio=True, faststart=True)
