"""A two-node Ray cluster simulated on one machine: the chunks of one video land on both nodes."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.batch_runs import EXCERPT_FRAMES, assert_same_episodes, read_lines, video_folder

from drivercam.batch.engines import RayEngine
from drivercam.batch.inputs import expand_inputs
from drivercam.batch.runner import run_batch
from drivercam.batch.settings import BatchSettings
from drivercam.batch.tasks import WorkerConfig
from drivercam.model import OnnxClassifier

ray = pytest.importorskip("ray")
cluster_utils = pytest.importorskip("ray.cluster_utils")


@pytest.mark.timeout(240)
def test_two_nodes_share_the_work(excerpt: Path, reference: Path, bundled_model: Path, tmp_path: Path) -> None:
    cluster = cluster_utils.Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    try:
        cluster.add_node(num_cpus=1)
        ray.init(address=cluster.address, logging_level="ERROR")
        cluster.wait_for_nodes()
        nodes = {n["NodeID"] for n in ray.nodes() if n["Alive"]}
        assert len(nodes) == 2
        classifier = OnnxClassifier(bundled_model, warmup=False)
        # One CPU per actor and one CPU per node: each node holds one worker.
        with RayEngine(WorkerConfig(str(bundled_model), "cpu", 1), 2) as engine:
            outcome = run_batch(
                expand_inputs([str(excerpt)]),
                engine,
                BatchSettings(chunk_s=2.0),
                tmp_path / "out",
                labels=classifier.labels,
                class_ids=classifier.class_ids,
            )
    finally:
        ray.shutdown()
        cluster.shutdown()
    assert set(outcome.hosts) == nodes and all(frames > 0 for frames in outcome.hosts.values())
    assert sum(outcome.hosts.values()) == EXCERPT_FRAMES
    mine, theirs = video_folder(tmp_path / "out", excerpt.name), video_folder(reference, excerpt.name)
    assert len(read_lines(mine / "predictions.jsonl")) == EXCERPT_FRAMES
    assert_same_episodes(mine / "events.jsonl", theirs / "events.jsonl")
