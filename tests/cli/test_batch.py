"""Tests for drivercam.cli.batch: the progress display, and the options that fail before any work."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
from support import media
from support.cli_runs import error_lines

from drivercam.cli.batch import BatchDisplay
from drivercam.cli.main import main


class Ticks:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_display_draws_videos_frames_fps_and_eta_and_one_line_per_video() -> None:
    lines, bar, clock = io.StringIO(), io.StringIO(), Ticks()
    display = BatchDisplay(lines, bar, clock=clock, enabled=True)
    display.start(videos=4, done=1, frames=1000)
    clock.now = 2.0
    display.frames_done(200)  # 100 fps; 800 frames left: 8 s
    assert bar.getvalue().endswith("1/4 videos 200/1000 frames 100.0 fps ETA 00:08 ")
    display.video_done(
        {
            "path": "/d/a.mp4",
            "status": "ok",
            "frames": 200,
            "episodes": 2,
            "alerts": 3,
            "distracted_s": 5.0,
            "distracted_share": 0.375,
        }
    )
    display.video_done({"path": "/d/b.mp4", "status": "failed", "error": "could not open it"})
    assert lines.getvalue().splitlines() == [
        "ok a.mp4: 200 frames, 2 episodes, 3 alerts, 5.0 s distracted (38 %)",
        "failed b.mp4: could not open it",
    ]
    assert "3/4 videos" in bar.getvalue().rsplit("\r", 1)[-1]


def test_display_off_a_terminal_writes_only_the_lines() -> None:
    lines, bar = io.StringIO(), io.StringIO()
    display = BatchDisplay(lines, bar)
    display.start(videos=1, done=0, frames=10)
    display.frames_done(10)
    display.video_done({"path": "x.mp4", "status": "failed", "error": "bad"})
    display.finish()
    assert bar.getvalue() == "" and lines.getvalue() == "failed x.mp4: bad\n"


def test_engine_ray_without_ray_says_how_to_install_it(
    tmp_path: Path, tiny_model: object, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    clip = media.write_video(tmp_path / "c.mp4", frames=5)
    monkeypatch.setitem(sys.modules, "ray", None)  # what `import ray` meets when Ray is not installed
    code = main(["batch", str(clip), "-o", str(tmp_path / "out"), "--engine", "ray", "--model", str(tiny_model.path)])  # type: ignore[attr-defined]
    (line,) = error_lines(capsys.readouterr().err)
    assert code == 1
    assert line == (
        "drivercam: error: --engine ray needs Ray, which is not installed; "
        "install it with: pip install 'drivercam[ray]'"
    )


def test_bad_options_fail_before_any_work(
    tmp_path: Path, tiny_model: object, capsys: pytest.CaptureFixture[str]
) -> None:
    clip = media.write_video(tmp_path / "c.mp4", frames=5)
    base = ["batch", str(clip), "-o", str(tmp_path / "out"), "--model", str(tiny_model.path)]  # type: ignore[attr-defined]
    assert main([*base, "--address", "auto"]) == 1
    assert "--address is for --engine ray" in capsys.readouterr().err
    assert main([*base, "--smooth", "-1"]) == 1
    assert "--smooth must be" in capsys.readouterr().err
    # Out of range: exit 1 naming the option, as in every subcommand; not a number: a usage error.
    for option, value in (("--chunk-s", "0"), ("--workers", "0"), ("--sample-fps", "-1"), ("--gpus-per-worker", "-1")):
        assert main([*base, option, value]) == 1
        assert f"drivercam: error: {option} must be" in capsys.readouterr().err
    assert main([*base, "--workers", "two"]) == 2
    assert not (tmp_path / "out").exists()
