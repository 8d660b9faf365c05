"""Tests of drivercam bench: statistics on fake clocks, JSON report, devices, tiny real runs."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path
from typing import Any

import av
import media
import numpy as np
import pytest
from fake_capture import FakeCapture
from tiny_models import TinyModel, make_tiny_model

from drivercam.bench import sysinfo
from drivercam.bench.report import build_report, format_table
from drivercam.bench.runner import BenchSettings, run_one, usable_devices
from drivercam.bench.synthetic import SyntheticSource, parse_size
from drivercam.bench.stats import STAGES, StageStats, percentile
from drivercam.bench.timing import StageTimer
from drivercam.cli.main import main
from drivercam.sources import CameraSource


class FakeClock:
    """Returns the given ticks one after another."""

    def __init__(self, ticks: list[float]) -> None:
        self.ticks = list(ticks)

    def __call__(self) -> float:
        return self.ticks.pop(0)


# -- statistics -------------------------------------------------------------------


def test_percentiles_are_exact_on_hand_computed_samples() -> None:
    samples = [float(v) for v in range(1, 102)]  # 1..101: rank q exactly hits value q + 1
    assert percentile(samples, 50) == 51.0
    assert percentile(samples, 90) == 91.0
    assert percentile(samples, 99) == 100.0
    assert percentile([4.0, 1.0, 3.0, 2.0], 50) == 2.5  # interpolates, order-independent
    assert percentile([10.0, 20.0], 90) == pytest.approx(19.0)
    assert percentile([7.0], 99) == 7.0
    rng = np.random.default_rng(0)
    values = list(rng.exponential(10.0, 37))
    for q in (0, 12.5, 50, 90, 95, 99, 100):
        assert percentile(values, q) == pytest.approx(float(np.percentile(values, q)), rel=1e-12)


def test_percentile_rejects_no_samples_and_bad_q() -> None:
    with pytest.raises(ValueError, match="no samples"):
        percentile([], 50)
    with pytest.raises(ValueError, match=r"\[0, 100\].*101"):
        percentile([1.0], 101)


def test_stage_timer_on_fake_ticks_gives_exact_stats_and_skips_warmup() -> None:
    # Stage "inference" takes 10, 1, 2, ..., 9 ms (the 10 ms first sample is the warm-up).
    durations = [0.010] + [k / 1000.0 for k in range(1, 10)]
    ticks: list[float] = []
    now = 100.0
    for d in durations:
        ticks += [now, now + d]
        now += 1.0
    timer = StageTimer(FakeClock(ticks))
    for _ in durations:
        with timer.measure("inference"):
            pass
    assert timer.samples("inference") == pytest.approx([d * 1000 for d in durations])
    stats = timer.summary(("inference", "encode"), skip=1)
    inf = stats["inference"]
    assert inf.count == 9
    assert inf.median_ms == pytest.approx(5.0)
    assert inf.p90_ms == pytest.approx(8.2)  # rank 0.9 * 8 = 7.2 -> 8 + 0.2 * (9 - 8)
    assert inf.p99_ms == pytest.approx(8.92)
    assert inf.min_ms == pytest.approx(1.0) and inf.max_ms == pytest.approx(9.0)
    assert stats["encode"] == StageStats(0, None, None, None, None, None, None, None)


def test_stage_timer_records_a_sample_when_the_block_raises() -> None:
    timer = StageTimer(FakeClock([1.0, 1.25]))
    with pytest.raises(RuntimeError):
        with timer.measure("render"):
            raise RuntimeError("boom")
    assert timer.samples("render") == [250.0]


def test_parse_size() -> None:
    assert parse_size("640x480") == (640, 480)
    assert parse_size("64X48") == (64, 48)
    for bad in ("640", "axb", "8x8", "640x"):
        with pytest.raises(ValueError, match="WIDTHxHEIGHT"):
            parse_size(bad)


# -- devices and machine ------------------------------------------------------------


def test_usable_devices_keeps_listed_providers_that_load() -> None:
    listed = ["TensorrtExecutionProvider", "CUDAExecutionProvider", "AzureExecutionProvider", "CPUExecutionProvider"]
    loads = {"CPUExecutionProvider", "CUDAExecutionProvider"}
    assert usable_devices(listed, lambda name: name in loads) == ["cpu", "cuda"]
    assert usable_devices(["CPUExecutionProvider"], lambda name: False) == []


def test_usable_devices_on_this_machine_includes_the_cpu() -> None:
    devices = usable_devices()
    assert "cpu" in devices
    assert all(d in ("cpu", "cuda", "tensorrt", "openvino", "coreml", "directml", "rocm") for d in devices)


def test_machine_info_parsers(tmp_path: Path) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: Example CPU @ 2.00GHz\n")
    assert sysinfo.cpu_model(cpuinfo) == "Example CPU @ 2.00GHz"
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       2097152 kB\nMemFree: 1 kB\n")
    assert sysinfo.memory_total_mb(meminfo) == 2048.0
    text = "NVIDIA H100 80GB HBM3, 550.54.15, 81559 MiB\n"
    assert sysinfo.parse_nvidia_smi(text) == [{"name": "NVIDIA H100 80GB HBM3", "driver": "550.54.15",
                                               "memory": "81559 MiB"}]


def test_gpus_asks_nvidia_smi_only_when_on_path() -> None:
    calls: list[list[str]] = []

    def fake_run(cmd: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        calls.append(cmd)
        assert kwargs["timeout"] == 10.0
        return subprocess.CompletedProcess(cmd, 0, "GPU A, 535.1, 24 GiB\n", "")

    assert sysinfo.gpus(which=lambda name: None, run=fake_run) == []
    assert calls == []
    found = sysinfo.gpus(which=lambda name: "/usr/bin/nvidia-smi", run=fake_run)
    assert found == [{"name": "GPU A", "driver": "535.1", "memory": "24 GiB"}]
    assert calls[0][0] == "/usr/bin/nvidia-smi"


# -- real runs on a tiny model ------------------------------------------------------


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> TinyModel:
    return make_tiny_model(tmp_path_factory.mktemp("bench") / "tiny.onnx")


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
    result = run_one(tiny.path, "cpu", lambda: SyntheticSource(64, 48, fps=200.0, live=True),
                           settings, pace=True)
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


def test_cli_bench_writes_table_and_json_schema(tiny: TinyModel, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    second = make_tiny_model(tmp_path / "tiny_b.onnx", seed=1)
    out = tmp_path / "bench.json"
    code = main(["bench", "--synthetic", "64x48", "--frames", "4", "--warmup", "1", "--model", str(tiny.path),
                 "--model", str(second.path), "--device", "all", "--threads", "1", "--json", str(out)])
    assert code == 0
    table = capsys.readouterr().out
    assert "tiny.onnx @ cpu" in table and "tiny_b.onnx @ cpu" in table
    assert "end-to-end fps" in table and "inference med/p90/p99" in table
    report = json.loads(out.read_text())
    assert report["schema"] == "drivercam-bench/1"
    assert set(report) >= {"created_utc", "settings", "source", "machine", "libraries", "runs"}
    assert report["source"] == {"kind": "synthetic", "width": 64, "height": 48, "fps": 30.0, "live": False}
    assert report["settings"]["frames"] == 4 and report["settings"]["threads"] == 1
    assert report["machine"]["cores"] >= 1 and "cpu" in report["machine"]
    assert "numpy" in report["libraries"] and "av" in report["libraries"]
    cpu_runs = [r for r in report["runs"] if r["device"] == "cpu"]  # plus a column per GPU provider, if any
    assert [r["model_name"] for r in cpu_runs] == ["tiny.onnx", "tiny_b.onnx"]
    for run in cpu_runs:
        assert run["providers"] == ["CPUExecutionProvider"] and run["frames"] == 4
        assert set(run["first_run"]) == {"session_create_ms", "first_inference_ms"}
        assert set(run["stages"]["inference"]) == {"count", "median_ms", "p90_ms", "p95_ms", "p99_ms", "mean_ms",
                                                   "min_ms", "max_ms"}
    assert cpu_runs[0]["model_sha256"] != cpu_runs[1]["model_sha256"]


def test_cli_bench_on_a_video_file(tiny: TinyModel, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    clip = media.write_video(tmp_path / "clip.mp4", frames=10)
    out = tmp_path / "bench.json"
    code = main(["bench", "--source", str(clip), "--frames", "50", "--warmup", "2", "--model", str(tiny.path),
                 "--no-encode", "--json", str(out)])
    assert code == 0
    run = json.loads(out.read_text())["runs"][0]
    assert run["frames"] == 8  # the clip ends before --frames
    assert run["stages"]["capture"]["count"] >= 8
    assert "encode" not in run["stages"]


def test_cli_bench_errors_are_one_line(tiny: TinyModel, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--synthetic", "64", "--model", str(tiny.path)]) == 2
    assert "WIDTHxHEIGHT" in capsys.readouterr().err
    assert main(["bench", "--synthetic", "64x48", "--model", str(tmp_path / "missing.onnx")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "missing.onnx" in err[0]


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
