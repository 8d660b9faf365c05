"""Tests for drivercam.cli.main: exit codes, one-line errors, usage errors, Ctrl-C and SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from onnx import TensorProto, helper
from support import media
from support.cli_runs import CLIP_FRAMES, error_lines, video_info

from drivercam.cli.main import main

# -- annotate ---------------------------------------------------------------------


def test_model_from_environment_variable(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DRIVERCAM_MODEL", str(files["model"]))
    code = main(["annotate", str(files["folder"]), "-o", str(tmp_path / "env.mp4"), "--max-frames", "2"])
    assert code == 0, capsys.readouterr().err


def test_python_dash_m_annotate_in_a_subprocess(files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "sub.mp4"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "drivercam",
            "annotate",
            str(files["clip"]),
            "-o",
            str(out),
            "--model",
            str(files["model"]),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"annotated {CLIP_FRAMES} frames")
    assert video_info(out)["frames"] == CLIP_FRAMES


def _wrong_shaped_model(path: Path) -> Path:
    """A valid ONNX file that breaks the contract: rank-2 input, one output."""
    graph = helper.make_graph(
        [helper.make_node("Identity", ["images"], ["probs"])],
        "wrong",
        inputs=[helper.make_tensor_value_info("images", TensorProto.FLOAT, ["N", 10])],
        outputs=[helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["N", 10])],
    )
    opsets = [helper.make_opsetid("", 17)]
    model = helper.make_model(graph, opset_imports=opsets, ir_version=helper.find_min_ir_version_for(opsets))
    path.write_bytes(model.SerializeToString())
    return path


def _text(path: Path) -> Path:
    path.write_text("this is not what you are looking for\n")
    return path


BAD_CASES = {
    "missing input": lambda f, t: ["annotate", str(t / "nope.mp4"), "-o", str(t / "o.mp4"), "--model", str(f["model"])],
    "not a video": lambda f, t: [
        "annotate",
        str(_text(t / "notes.mp4")),
        "-o",
        str(t / "o.mp4"),
        "--model",
        str(f["model"]),
    ],
    "missing model": lambda f, t: ["annotate", str(f["clip"]), "-o", str(t / "o.mp4"), "--model", str(t / "no.onnx")],
    "corrupt model": lambda f, t: [
        "annotate",
        str(f["clip"]),
        "-o",
        str(t / "o.mp4"),
        "--model",
        str(_text(t / "bad.onnx")),
    ],
    "wrong-shaped model": lambda f, t: ["info", str(_wrong_shaped_model(t / "wrong.onnx"))],
    "unwritable output": lambda f, t: [
        "annotate",
        str(f["clip"]),
        "-o",
        str(_text(t / "file") / "sub" / "o.mp4"),
        "--model",
        str(f["model"]),
    ],
    "unwritable predictions": lambda f, t: [
        "annotate",
        str(f["clip"]),
        "-o",
        str(t / "o.mp4"),
        "--predictions",
        str(_text(t / "file") / "p.jsonl"),
        "--model",
        str(f["model"]),
    ],
    "absent camera": lambda f, t: ["live", "--source", "97", "--no-window", "--model", str(f["model"])],
    "alpha out of range": lambda f, t: [
        "annotate",
        str(f["clip"]),
        "-o",
        str(t / "o.mp4"),
        "--alpha",
        "1.5",
        "--model",
        str(f["model"]),
    ],
    "unknown colormap": lambda f, t: [
        "annotate",
        str(f["clip"]),
        "-o",
        str(t / "o.mp4"),
        "--colormap",
        "rainbowish",
        "--model",
        str(f["model"]),
    ],
    "unknown cam class": lambda f, t: [
        "annotate",
        str(f["clip"]),
        "-o",
        str(t / "o.mp4"),
        "--cam-class",
        "yawning",
        "--model",
        str(f["model"]),
    ],
    "camera given to annotate": lambda f, t: ["annotate", "0", "-o", str(t / "o.mp4"), "--model", str(f["model"])],
    "unknown device": lambda f, t: ["info", str(f["model"]), "--device", "quantum"],
}


@pytest.mark.parametrize("case", list(BAD_CASES))
def test_bad_input_exits_1_with_one_line(
    case: str, files: dict[str, Path], tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    argv = BAD_CASES[case](files, tmp_path)
    start = time.monotonic()
    code = main(argv)
    elapsed = time.monotonic() - start
    captured = capfd.readouterr()  # file-descriptor level: native library chatter counts too
    lines = error_lines(captured.err)
    assert code == 1, captured.err
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("drivercam: error: ")
    assert "Traceback" not in captured.err
    assert elapsed < 10.0


def test_bad_input_with_verbose_shows_the_traceback(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["annotate", str(tmp_path / "nope.mp4"), "-o", str(tmp_path / "o.mp4"), "--model", str(files["model"]), "-v"]
    )
    err = capsys.readouterr().err
    assert code == 1
    assert "Traceback" in err
    assert err.strip().splitlines()[-1].startswith("drivercam: error: ")


def test_bad_input_in_a_subprocess_prints_one_line(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "drivercam",
            "annotate",
            str(tmp_path / "missing.mp4"),
            "-o",
            str(tmp_path / "o.mp4"),
            "--model",
            str(tmp_path / "missing.onnx"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert len(error_lines(proc.stderr)) == 1
    assert proc.stderr.startswith("drivercam: error: ")


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["annotate"],
        ["annotate", "x.mp4"],
        ["live", "--max-seconds", "soon"],
        ["frobnicate"],
        ["annotate", "x.mp4", "-o", "y.mp4", "--heatmap-style", "soft"],
        ["annotate", "x.mp4", "-o", "y.mp4", "--top-k", "many"],
        ["bench", "--fps", "fast"],
    ],
)
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert "usage:" in capsys.readouterr().err


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["annotate", "--help"]) == 0
    assert "--predictions" in capsys.readouterr().out


# -- Ctrl-C -------------------------------------------------------------------------------


@pytest.mark.skipif(sys.platform == "win32", reason="signal delivery to a child differs on Windows")
@pytest.mark.parametrize(("signum", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_ctrl_c_or_sigterm_closes_a_playable_mp4(
    files: dict[str, Path], tmp_path: Path, signum: int, status: int
) -> None:
    clip = media.write_video(tmp_path / "long.mp4", frames=150, fps=15)  # 10 s, paced in real time
    out = tmp_path / "interrupted.mp4"
    jsonl = tmp_path / "interrupted.jsonl"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "drivercam",
            "live",
            "--source",
            str(clip),
            "--no-window",
            "--model",
            str(files["model"]),
            "--output",
            str(out),
            "--predictions",
            str(jsonl),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (jsonl.exists() and jsonl.read_text().count("\n") >= 5):
            if proc.poll() is not None:
                pytest.fail(f"drivercam live ended before the interrupt: {proc.returncode} {proc.stderr.read()}")
            time.sleep(0.05)
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == status, err
    lines = error_lines(err)
    assert len(lines) == 1 and "interrupted" in lines[0]
    written = video_info(out)["frames"]
    assert written >= 5
    assert f"wrote {written} frames" in lines[0]


# -- real data ----------------------------------------------------------------------------


# -- one rule for bad option values ------------------------------------------------

OUT_OF_RANGE = {
    "live --fps 0": (["live", "--fps", "0", "--no-window"], "--fps must be a frame rate > 0, got '0'"),
    "annotate --fps 0": (["annotate", "x.mp4", "-o", "y.mp4", "--fps", "0"], "--fps must be a frame rate > 0"),
    "bench --fps 0": (["bench", "--fps", "0"], "--fps must be a frame rate > 0, got '0'"),
    "bench --warmup -1": (["bench", "--warmup", "-1"], "--warmup must be an integer >= 0, got '-1'"),
    "annotate --top-k 0": (["annotate", "x.mp4", "-o", "y.mp4", "--top-k", "0"], "--top-k must be an integer >= 1"),
    "live --smooth -1": (["live", "--smooth", "-1", "--no-window"], "--smooth must be a number of seconds >= 0"),
    "annotate --cam-smooth nan": (["annotate", "x.mp4", "-o", "y.mp4", "--cam-smooth", "nan"], "--cam-smooth must"),
    "annotate --alpha 1.5": (["annotate", "x.mp4", "-o", "y.mp4", "--alpha", "1.5"], "--alpha must be in [0, 1]"),
    "live --exit-threshold above enter": (
        ["live", "--exit-threshold", "0.9", "--no-window"],
        "--exit-threshold must be <= the enter threshold (0.5), got 0.9",
    ),
    "annotate --warning-s before onset": (
        ["annotate", "x.mp4", "-o", "y.mp4", "--warning-s", "0.5"],
        "--warning-s must be >= the onset time (1 s)",
    ),
    "live --cooldown-s 0": (
        ["live", "--cooldown-s", "0", "--no-window"],
        "--cooldown-s must be a number of seconds > 0",
    ),
}


@pytest.mark.parametrize("case", list(OUT_OF_RANGE))
def test_out_of_range_values_exit_1_naming_the_option_before_the_model_loads(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv, message = OUT_OF_RANGE[case]
    # The model does not exist and the input neither: the option is checked first.
    code = main([*argv, "--model", str(tmp_path / "missing.onnx")])
    lines = error_lines(capsys.readouterr().err)
    assert code == 1
    assert len(lines) == 1 and lines[0].startswith(f"drivercam: error: {message}"), lines


def test_option_errors_carry_the_option_value_and_expectation() -> None:
    from drivercam.cli.options import OptionError, number

    parse = number("--gain", expected="in [0, 2]", minimum=0, maximum=2)
    assert parse("1.5") == 1.5
    with pytest.raises(OptionError) as info:
        parse("3")
    assert (info.value.option, info.value.value, info.value.expected) == ("--gain", "3", "in [0, 2]")
    assert str(info.value) == "--gain must be in [0, 2], got '3'"


def test_a_bug_still_ends_in_one_line_and_exit_1(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from drivercam.cli import main as cli_main

    def broken(args: object) -> int:
        raise IndexError("list index out of range")

    monkeypatch.setitem(cli_main._COMMANDS, "info", broken)
    assert main(["info", str(files["model"])]) == 1
    lines = error_lines(capsys.readouterr().err)
    assert lines == [
        "drivercam: error: internal error (IndexError: list index out of range); please report it with the output of -v"
    ]
    assert main(["info", str(files["model"]), "-v"]) == 1
    assert "Traceback" in capsys.readouterr().err
