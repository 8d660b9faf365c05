"""Tests for drivercam.bench.runner: tiny real runs of the pipeline, timed stage by stage."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import av
import pytest
from support.fake_capture import FakeCapture
from support.tiny_models import TinyModel

from drivercam.bench.report import build_report, format_table
from drivercam.bench.runner import BenchSettings, inference_cpu_ms_per_frame, run_one, usable_devices
from drivercam.bench.stats import STAGES
from drivercam.bench.synthetic import SyntheticSource
from drivercam.model import OnnxClassifier
from drivercam.sources import CameraSource

# -- statistics -------------------------------------------------------------------


def test_usable_devices_keeps_listed_providers_that_load() -> None:
    listed = ["TensorrtExecutionProvider", "CUDAExecutionProvider", "AzureExecutionProvider", "CPUExecutionProvider"]
    loads = {"CPUExecutionProvider", "CUDAExecutionProvider"}
    assert usable_devices(listed, lambda name: name in loads) == ["cpu", "cuda"]
    assert usable_devices(["CPUExecutionProvider"], lambda name: False) == []


def test_usable_devices_on_this_machine_includes_the_cpu() -> None:
    devices = usable_devices()
    assert "cpu" in devices
    assert all(d in ("cpu", "cuda", "tensorrt", "openvino", "coreml", "directml", "rocm") for d in devices)


def test_run_one_on_synthetic_frames_times_every_stage(tiny: TinyModel, tmp_path: Path) -> None:
    out = tmp_path / "kept.mp4"
    settings = BenchSettings(frames=6, warmup=2, threads=1, workers=2, output=out)
    result = run_one(tiny.path, "cpu", lambda: SyntheticSource(64, 48, frames=8), settings)
    assert result["frames"] == 6
    assert (result["workers"], result["threads_per_worker"]) == (2, 1)
    assert result["providers"] == ["CPUExecutionProvider"]
    assert set(result["stages"]) == set(STAGES)
    for stage in ("preprocess", "inference", "cam", "render", "encode"):
        stats = result["stages"][stage]
        assert stats["count"] == 6, stage
        assert 0 <= stats["min_ms"] <= stats["median_ms"] <= stats["p90_ms"] <= stats["p99_ms"] <= stats["max_ms"]
    assert result["fps"] > 0
    assert result["live"] is False and result["frame_age"] is None and result["dropped"] == 0
    assert result["model_sha256"] == hashlib.sha256(tiny.path.read_bytes()).hexdigest()
    with av.open(str(out)) as container:  # the kept video holds every frame, warm-up included
        assert sum(1 for _ in container.decode(video=0)) == 8


def test_run_one_reports_cpu_per_frame_of_the_run_and_of_the_model_alone(tiny: TinyModel) -> None:
    # CPU clock readings: at the start, when the warm-up ends, at the end of the run,
    # then around the model-alone loop (6 frames, one per call).
    readings = iter([0.0, 1.0, 4.0, 10.0, 10.6])
    settings = BenchSettings(frames=6, warmup=2, threads=1, workers=1, encode=False)
    result = run_one(
        tiny.path, "cpu", lambda: SyntheticSource(64, 48, frames=8), settings, cpu_clock=lambda: next(readings)
    )
    cpu = result["cpu"]
    assert cpu["run_ms_per_frame"] == pytest.approx(3000.0 / 6)
    assert cpu["inference_only_ms_per_frame"] == pytest.approx(600.0 / 6)
    assert cpu["ratio"] == pytest.approx(5.0)
    table = format_table(build_report([result], settings, {"kind": "synthetic"}, {}))
    assert "CPU ratio run / model" in table and "5.00" in table


def test_inference_cpu_is_measured_on_the_real_model(tiny: TinyModel) -> None:
    classifier = OnnxClassifier(tiny.path, device="cpu", intra_op_threads=1)
    ms = inference_cpu_ms_per_frame(classifier, 20)
    assert ms is not None and ms > 0
    assert inference_cpu_ms_per_frame(classifier, 0) is None


def test_run_one_batched_skips_warmup_frames_and_warmup_batches(tiny: TinyModel) -> None:
    settings = BenchSettings(frames=6, warmup=2, threads=1, workers=1, batch_size=2, encode=False)
    result = run_one(tiny.path, "cpu", lambda: SyntheticSource(64, 48, frames=8), settings)
    assert result["frames"] == 6
    assert result["stages"]["preprocess"]["count"] == 6  # one per frame, on the capture thread
    # One per batch of 1 or 2 frames (whatever was queued): 4 to 8 batches, the first one warm-up.
    assert 3 <= result["stages"]["inference"]["count"] <= 7
    table = format_table(build_report([result], settings, {"kind": "synthetic"}, {}))
    assert "inference (per 2) med/p90/p99" in table and "preprocess med/p90/p99" in table


def test_run_one_live_reports_frame_age_and_drops(tiny: TinyModel) -> None:
    settings = BenchSettings(frames=12, warmup=1, encode=False)
    result = run_one(tiny.path, "cpu", lambda: SyntheticSource(64, 48, fps=200.0, live=True), settings, pace=True)
    assert result["live"] is True
    assert "encode" not in result["stages"]
    assert result["frame_age"]["count"] == 12
    assert result["frame_age"]["min_ms"] > 0
    _assert_live_window_accounting(result)


def _assert_live_window_accounting(result: dict[str, Any]) -> None:
    """Frames read in the measured window are shown, dropped or in flight.

    Shown frames may also have been read just before the window opened. At
    most five frames are in flight on the live policy: one between read and
    put, one in the frames queue, one in inference, two in the results queue.
    """
    in_flight = 5
    kept = result["frames_read"] - result["dropped"]
    assert result["dropped"] >= 0
    assert result["frames"] - in_flight <= kept <= result["frames"] + in_flight


def test_run_one_on_a_camera_is_live_and_releases_it(tiny: TinyModel) -> None:
    cameras: list[FakeCapture] = []

    def factory(*args: object) -> FakeCapture:
        # An endless 64x48 camera delivering a frame every 2 ms.
        cameras.append(FakeCapture(frames=None, fps=500.0, width=64, height=48, period_s=0.002))
        return cameras[-1]

    settings = BenchSettings(frames=12, warmup=1, encode=False)
    result = run_one(tiny.path, "cpu", lambda: CameraSource(0, capture_factory=factory), settings)
    assert result["live"] is True
    assert result["frames"] == 12 and result["frame_age"]["count"] == 12
    assert result["stages"]["capture"]["count"] >= 12
    _assert_live_window_accounting(result)
    assert cameras and all(camera.released for camera in cameras)
