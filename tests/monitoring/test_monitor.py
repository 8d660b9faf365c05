"""Tests for drivercam.monitoring.monitor: the few-lines API over real clips, cameras and models."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import media
from support.fake_capture import FakeCapture
from support.pipeline_fakes import FakeClassifier
from support.tiny_models import TinyModel

from drivercam.errors import ModelError
from drivercam.model import OnnxClassifier
from drivercam.monitoring.monitor import Monitor
from drivercam.pipeline.workers import plan_workers
from drivercam.sources import CameraSource, open_source

LABELS = ("safe", "texting", "phone")


def test_monitor_runs_a_clip_in_a_few_lines(tiny_model: TinyModel, tmp_path: Path, no_thread_leak: None) -> None:
    clip = media.write_video(tmp_path / "clip.mp4", frames=12, fps=15)
    with Monitor(clip, model=tiny_model.path, device="cpu", threads=1) as monitor:
        assert monitor.labels == tiny_model.labels
        results = list(monitor)
        assert monitor.stats.frames_delivered == 12
    assert [r.frame.index for r in results] == list(range(12))
    assert all(r.prediction.cams.shape == (10, 3, 4) for r in results)


def test_monitor_closes_the_source_when_the_model_fails(tmp_path: Path) -> None:
    clip = media.write_video(tmp_path / "clip.mp4", frames=3, fps=15)
    source = open_source(clip)
    with pytest.raises(ModelError):
        Monitor(source, model=tmp_path / "missing.onnx")
    assert source.read() is None  # closed: nothing more is decoded


def test_monitor_on_a_camera_keeps_the_newest_frames(no_thread_leak: None) -> None:
    captures: list[FakeCapture] = []

    def factory(*args: object) -> FakeCapture:
        # An endless 200 fps camera whose pixels count frames.
        captures.append(FakeCapture(frames=None, width=8, height=6, period_s=0.005, counting=True))
        return captures[-1]

    camera = CameraSource(0, capture_factory=factory)
    with Monitor(camera, model=FakeClassifier(delay_s=0.03)) as monitor:
        results = []
        for result in monitor:
            results.append(result)
            if len(results) == 8:
                break
        stats = monitor.stats
    indices = [r.frame.index for r in results]
    assert indices == sorted(set(indices))
    assert stats.dropped > 0
    # Each prediction was computed on its own frame: the fake scores the pixel value.
    assert all(r.prediction.class_index == int(r.frame.image[0, 0, 0]) % 3 for r in results)
    assert captures and captures[0].released


def test_monitor_plans_inference_threads_for_files_and_cameras(tiny_model: TinyModel, tmp_path: Path) -> None:
    clip = media.write_video(tmp_path / "clip.mp4", frames=4, fps=15)
    expected_workers, _ = plan_workers(live=False, on_cpu=True)
    with Monitor(clip, model=tiny_model.path, device="cpu") as monitor:
        assert monitor.pipeline.workers == expected_workers
        assert len(list(monitor)) == 4
    with Monitor(clip, model=tiny_model.path, device="cpu", workers=3, threads=1) as monitor:
        assert monitor.pipeline.workers == 3
        assert [r.frame.index for r in monitor] == [0, 1, 2, 3]
    with Monitor(clip, model=tiny_model.path, device="cpu", live=True, workers=3) as monitor:
        assert monitor.pipeline.workers == 1
    built = OnnxClassifier(tiny_model.path, device="cpu")
    with Monitor(clip, model=built) as monitor:
        assert monitor.pipeline.workers == 1  # a built classifier keeps its own threads


def test_monitor_with_a_roi_runs_the_model_on_the_region(tiny_model: TinyModel, tmp_path: Path) -> None:
    clip = media.write_video(tmp_path / "wide.mp4", frames=3, fps=15, width=128, height=48)
    with Monitor(clip, model=tiny_model.path, device="cpu", threads=1, roi="0.25,0,0.5,1") as monitor:
        assert monitor.roi is not None and monitor.roi.box(128, 48) == (32, 0, 96, 48)
        results = list(monitor)
    classifier = OnnxClassifier(tiny_model.path, device="cpu")
    probs, _ = classifier([results[0].frame.image[:, 32:96]])
    assert results[0].frame.image.shape == (48, 128, 3)  # the result keeps the full frame
    assert results[0].prediction.probs == pytest.approx(probs[0], abs=1e-5)


def test_monitor_refuses_a_roi_outside_the_frame_before_the_model_loads(tmp_path: Path) -> None:
    clip = media.write_video(tmp_path / "clip.mp4", frames=3, fps=15)
    with pytest.raises(ValueError, match="outside the 64x48 frame"):
        Monitor(clip, model=tmp_path / "missing.onnx", roi="100,0,50,40")
