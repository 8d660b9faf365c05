"""Tests for drivercam.cli.bench: the table and JSON a bench run writes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support import media
from support.tiny_models import TinyModel, make_tiny_model

from drivercam.cli.main import main

# -- statistics -------------------------------------------------------------------


def test_cli_bench_writes_table_and_json_schema(
    tiny: TinyModel, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    second = make_tiny_model(tmp_path / "tiny_b.onnx", seed=1)
    out = tmp_path / "bench.json"
    code = main(
        [
            "bench",
            "--synthetic",
            "64x48",
            "--frames",
            "4",
            "--warmup",
            "1",
            "--model",
            str(tiny.path),
            "--model",
            str(second.path),
            "--device",
            "all",
            "--threads",
            "1",
            "--json",
            str(out),
        ]
    )
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
        assert set(run["stages"]["inference"]) == {
            "count",
            "median_ms",
            "p90_ms",
            "p95_ms",
            "p99_ms",
            "mean_ms",
            "min_ms",
            "max_ms",
        }
    assert cpu_runs[0]["model_sha256"] != cpu_runs[1]["model_sha256"]


def test_cli_bench_on_a_video_file(tiny: TinyModel, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    clip = media.write_video(tmp_path / "clip.mp4", frames=10)
    out = tmp_path / "bench.json"
    code = main(
        [
            "bench",
            "--source",
            str(clip),
            "--frames",
            "50",
            "--warmup",
            "2",
            "--model",
            str(tiny.path),
            "--no-encode",
            "--json",
            str(out),
        ]
    )
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
