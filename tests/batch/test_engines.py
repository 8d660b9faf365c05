"""Tests for drivercam.batch.engines: the local engine's worker processes, each with its own model."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from drivercam.batch.engines import LocalEngine
from drivercam.batch.tasks import WorkerConfig
from drivercam.errors import DrivercamError


def test_workers_load_the_model_once_and_a_dead_worker_ends_the_batch_with_one_line(small: dict[str, Path]) -> None:
    with LocalEngine(WorkerConfig(str(small["model"]), "cpu", 1), 2) as engine:
        labels = list(engine.map([("ready", None)] * 4))
        assert len(labels) == 4 and len(labels[0]) == 10
        pids = engine.pids()
        assert len(pids) == 2 and os.getpid() not in pids
        probes = list(engine.map([("probe", ("a", str(small["a"]))), ("probe", ("bad", str(small["bad"])))]))
        by_key = {p.key: p for p in probes}
        assert by_key["a"].probe is not None and by_key["a"].probe.frame_count == 30
        assert by_key["bad"].probe is None and "could not open" in str(by_key["bad"].error)
        assert engine.pids() == pids  # the same two processes served every call
        os.kill(pids[0], signal.SIGKILL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and Path(f"/proc/{pids[0]}").exists():
            time.sleep(0.02)  # until the pool has seen the death and reaped the process
        with pytest.raises(DrivercamError, match="worker process died .* run the same command again"):
            list(engine.map([("probe", ("a", str(small["a"])))] * 4))
