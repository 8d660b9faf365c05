"""Shared fixtures: a tiny contract model, and the real data folder when present."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.tiny_models import TinyModel, make_tiny_model

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def tiny_model(tmp_path: Path) -> TinyModel:
    """A 10-class BGR 48x64 stride-16 model obeying docs/model-contract.md."""
    return make_tiny_model(tmp_path / "tiny.onnx")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> TinyModel:
    """The same tiny model, made once per test module."""
    return make_tiny_model(tmp_path_factory.mktemp("tiny") / "tiny.onnx")


@pytest.fixture
def data_dir() -> Path:
    """The real data folder: $DRIVERCAM_DATA, else ../shared/data beside the repo."""
    env = os.environ.get("DRIVERCAM_DATA")
    path = Path(env) if env else REPO_ROOT.parent / "shared" / "data"
    if not path.is_dir():
        pytest.skip(f"real data folder {path} is absent; set DRIVERCAM_DATA to run this test")
    return path


@pytest.fixture(autouse=True)
def _restore_package_logger() -> Iterator[None]:
    """``cli.main`` configures the ``drivercam`` logger for a process; tests run it
    in-process, so put the logger back afterwards for ``caplog`` in later tests."""
    package = logging.getLogger("drivercam")
    saved = (list(package.handlers), package.propagate, package.level)
    yield
    package.handlers[:] = saved[0]
    package.propagate, package.level = saved[1], saved[2]


@pytest.fixture
def no_thread_leak() -> Iterator[None]:
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:
        leaked = [t for t in threading.enumerate() if t not in before and t.is_alive()]
        if not leaked:
            return
        time.sleep(0.01)
    raise AssertionError(f"threads outlived the pipeline: {leaked}")
