"""Media files made once for the command-line tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import media
from support.cli_runs import CLIP_FRAMES
from support.tiny_models import make_tiny_model


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A tiny model, a 24-frame clip with audio and a folder of 12 images, shared by the module."""
    root = tmp_path_factory.mktemp("cli")
    model = make_tiny_model(root / "tiny.onnx")
    clip = media.write_video(root / "clip.mp4", frames=CLIP_FRAMES, fps=15, audio=True, faststart=True)
    folder = root / "images"
    media.write_image_folder(folder, count=12)
    return {"root": root, "model": model.path, "clip": clip, "folder": folder}
