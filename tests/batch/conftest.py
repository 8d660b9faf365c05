"""Fixtures of the batch tests: a tiny model and videos, and a 20 s excerpt of a real clip with its reference run."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from support import media
from support.batch_runs import real_data_dir, write_excerpt
from support.tiny_models import make_tiny_model

from drivercam.model import default_model_path


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A tiny model, two tiny videos (30 and 45 frames) and an unreadable 'video'."""
    root = tmp_path_factory.mktemp("small")
    model = make_tiny_model(root / "tiny.onnx")
    (root / "trips" / "day2").mkdir(parents=True)
    a = media.write_video(root / "trips" / "a.mp4", frames=30, fps=15)
    b = media.write_video(root / "trips" / "day2" / "b.mp4", frames=45, fps=15)
    bad = root / "bad.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 8)
    return {"root": root, "model": model.path, "a": a, "b": b, "bad": bad}


@pytest.fixture(scope="session")
def excerpt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first 20 s of a real in-cabin clip, re-encoded into a temporary folder (skips without the data)."""
    data = real_data_dir()
    if data is None:
        pytest.skip("real data folder is absent; set DRIVERCAM_DATA to run this test")
    return write_excerpt(data / "clips" / "cabin_p024.mp4", tmp_path_factory.mktemp("excerpt") / "cabin_p024.mp4")


@pytest.fixture(scope="session")
def bundled_model() -> Path:
    return default_model_path()


@pytest.fixture(scope="session")
def reference(tmp_path_factory: pytest.TempPathFactory, excerpt: Path, bundled_model: Path) -> Path:
    """The excerpt through the local engine in one chunk with one worker: what every other run must equal."""
    from drivercam.cli.main import main

    out = tmp_path_factory.mktemp("reference")
    # main() configures the package logger for a process; a session fixture runs before the
    # autouse fixture that puts it back after each test, so put it back here.
    package = logging.getLogger("drivercam")
    saved = (list(package.handlers), package.propagate, package.level)
    try:
        code = main(["batch", str(excerpt), "-o", str(out), "--workers", "1", "--model", str(bundled_model)])
    finally:
        package.handlers[:] = saved[0]
        package.propagate, package.level = saved[1], saved[2]
    assert code == 0
    return out
