"""``drivercam batch --engine ray`` on a local Ray instance of 2 CPUs: same results as the local engine, and a
worker killed mid-batch is restarted by Ray with its call retried, the results still exact."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from support.batch_runs import EXCERPT_FRAMES, assert_same_episodes, read_csv, read_lines, video_folder

from drivercam.batch.engines import RayEngine
from drivercam.batch.inputs import expand_inputs
from drivercam.batch.runner import run_batch
from drivercam.batch.settings import BatchSettings
from drivercam.batch.tasks import WorkerConfig
from drivercam.cli.main import main
from drivercam.model import OnnxClassifier

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module", autouse=True)
def ray_instance() -> Iterator[None]:
    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR")
    yield
    ray.shutdown()


def _probs(path: Path) -> np.ndarray:
    return np.array([list(r["probs"].values()) for r in read_lines(path)])  # type: ignore[union-attr]


@pytest.mark.timeout(180)
def test_ray_engine_equals_the_local_engine(
    excerpt: Path, reference: Path, bundled_model: Path, small: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    args = ["batch", str(excerpt), str(small["bad"]), "-o", str(out), "--engine", "ray", "--chunk-s", "4"]
    assert main([*args, "--workers", "2", "--model", str(bundled_model)]) == 1  # the corrupt one fails
    rows = read_csv(out / "summary.csv")
    assert [r["status"] for r in rows] == ["ok", "failed"] and rows[0]["frames"] == str(EXCERPT_FRAMES)
    mine, theirs = video_folder(out, excerpt.name), video_folder(reference, excerpt.name)
    assert [r["class_index"] for r in read_lines(mine / "predictions.jsonl")] == [
        r["class_index"] for r in read_lines(theirs / "predictions.jsonl")
    ]
    np.testing.assert_allclose(_probs(mine / "predictions.jsonl"), _probs(theirs / "predictions.jsonl"), atol=1e-4)
    assert_same_episodes(mine / "events.jsonl", theirs / "events.jsonl")

    def whole_fields(path: Path) -> list[tuple[str, ...]]:
        return [(r["episode"], r["first_frame"], r["last_frame"], r["class_id"], r["alerts"]) for r in read_csv(path)]

    assert whole_fields(out / "episodes.csv") == whole_fields(reference / "episodes.csv")


class _KillOnce:
    """Progress that SIGKILLs one Ray worker process once the first chunk is back."""

    def __init__(self, pid: int) -> None:
        self.pid, self.killed = pid, False

    def start(self, **_: Any) -> None:
        pass

    def frames_done(self, frames: int) -> None:
        if not self.killed:
            os.kill(self.pid, signal.SIGKILL)
            self.killed = True

    def video_done(self, row: dict[str, Any]) -> None:
        pass


@pytest.mark.timeout(180)
def test_a_worker_killed_mid_batch_is_restarted_and_results_stay_exact(
    excerpt: Path, reference: Path, bundled_model: Path, tmp_path: Path
) -> None:
    classifier = OnnxClassifier(bundled_model, warmup=False)
    with RayEngine(WorkerConfig(str(bundled_model), "cpu", 1), 2) as engine:
        victim = engine.actors[0]
        pid = ray.get(victim.pid.remote())
        progress = _KillOnce(pid)
        outcome = run_batch(
            expand_inputs([str(excerpt)]),
            engine,
            BatchSettings(chunk_s=2.0),
            tmp_path / "out",
            labels=classifier.labels,
            class_ids=classifier.class_ids,
            progress=progress,
        )
        assert progress.killed
        assert ray.get(victim.pid.remote()) != pid  # Ray started the actor again
    assert outcome.failed == 0 and outcome.frames == EXCERPT_FRAMES
    mine, theirs = video_folder(tmp_path / "out", excerpt.name), video_folder(reference, excerpt.name)
    np.testing.assert_allclose(_probs(mine / "predictions.jsonl"), _probs(theirs / "predictions.jsonl"), atol=1e-4)
    assert len(read_lines(mine / "predictions.jsonl")) == EXCERPT_FRAMES
    assert_same_episodes(mine / "events.jsonl", theirs / "events.jsonl")
