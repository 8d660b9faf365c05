"""Tests for drivercam.cli.live, end to end on files played as cameras and on a virtual display."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support import media
from support.cli_runs import error_lines, read_jsonl, video_info

from drivercam.cli.main import main
from drivercam.sinks.window import system_font_dir

# -- annotate ---------------------------------------------------------------------


def test_live_plays_a_file_as_a_camera_for_max_seconds(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clip = media.write_video(tmp_path / "long.mp4", frames=45, fps=15)  # 3 s
    jsonl = tmp_path / "live.jsonl"
    out = tmp_path / "live.mp4"
    start = time.monotonic()
    code = main(
        [
            "live",
            "--source",
            str(clip),
            "--no-window",
            "--max-seconds",
            "1",
            "--model",
            str(files["model"]),
            "--predictions",
            str(jsonl),
            "--output",
            str(out),
        ]
    )
    elapsed = time.monotonic() - start
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert elapsed > 0.9  # paced in real time (the test's timeout catches a run that does not stop)
    assert captured.out.startswith("showed ")
    assert "distraction episode" in captured.out.splitlines()[1]  # the summary, without --events or --report
    indices = [r["frame"] for r in read_jsonl(jsonl)]
    assert 5 <= len(indices) <= 20
    assert indices == sorted(set(indices))
    assert video_info(out)["frames"] == len(indices)
    assert b"moof" in out.read_bytes()  # live recordings are fragmented by default


def test_live_from_a_truncated_file_reports_it_after_the_frames(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    full = media.write_video(tmp_path / "full.mp4", frames=30, fps=30, faststart=True)
    cut = media.truncated_copy(full, tmp_path / "cut.mp4", keep=0.5)
    out = tmp_path / "live_cut.mp4"
    code = main(["live", "--source", str(cut), "--no-window", "--output", str(out), "--model", str(files["model"])])
    err = error_lines(capsys.readouterr().err)
    assert code == 1
    assert len(err) == 1 and ("truncated" in err[0] or "decoded" in err[0])
    written = video_info(out)["frames"]
    assert written > 0 and f"wrote {written} frames" in err[0]


def test_live_shows_its_window_on_a_virtual_display(files: dict[str, Path], tmp_path: Path) -> None:
    """The whole window path (GUI probe, imshow, waitKey) on a real X server: Xvfb."""
    import shutil

    xvfb_run = shutil.which("xvfb-run")
    if xvfb_run is None:
        pytest.skip("xvfb-run is not installed (apt-get install xvfb); the window path needs an X display")
    clip = media.write_video(tmp_path / "clip.mp4", frames=30, fps=15)
    jsonl = tmp_path / "window.jsonl"
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    proc = subprocess.run(
        [
            xvfb_run,
            "-a",
            sys.executable,
            "-m",
            "drivercam",
            "live",
            "--source",
            str(clip),
            "--max-seconds",
            "1",
            "--model",
            str(files["model"]),
            "--predictions",
            str(jsonl),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "no display" not in proc.stderr and "--no-window" not in proc.stderr
    if system_font_dir() is not None:  # Qt found fonts: no warnings about OpenCV's missing font folder
        assert "QFontDatabase" not in proc.stderr, proc.stderr
    shown = int(proc.stdout.split()[1])  # "showed N frames in ..."
    assert proc.stdout.startswith("showed ") and shown > 0
    assert len(read_jsonl(jsonl)) == shown


def test_live_with_a_roi_records_the_full_frame(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clip = media.write_video(tmp_path / "wide.mp4", frames=8, fps=15, width=128, height=48)
    out = tmp_path / "live.mp4"
    argv = ["live", "--source", str(clip), "--no-window", "--roi", "0.25,0,0.5,1", "--output", str(out)]
    code = main([*argv, "--model", str(files["model"])])
    assert code == 0, capsys.readouterr().err
    info = video_info(out)
    assert info["size"] == (128, 48) and 1 <= info["frames"] <= 8
