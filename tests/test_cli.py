"""End-to-end tests of the drivercam command line, on tiny real models and clips."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import av
import media
import pytest
from onnx import TensorProto, helper
from tiny_models import STATEFARM_LABELS, TinyModel, make_tiny_model

from drivercam.cli.main import main
from drivercam.sinks.window import system_font_dir

REPO_ROOT = Path(__file__).resolve().parent.parent
CLIP_FRAMES = 24


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A tiny model, a 24-frame clip with audio and a folder of 12 images, shared by the module."""
    root = tmp_path_factory.mktemp("cli")
    model = make_tiny_model(root / "tiny.onnx")
    clip = media.write_video(root / "clip.mp4", frames=CLIP_FRAMES, fps=15, audio=True, faststart=True)
    folder = root / "images"
    media.write_image_folder(folder, count=12)
    return {"root": root, "model": model.path, "clip": clip, "folder": folder}


def _video_info(path: Path) -> dict[str, object]:
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        audio = container.streams.audio[0] if container.streams.audio else None
        frames = [f for f in container.decode(video=0)]
        return {
            "codec": video.codec_context.name,
            "pix_fmt": video.codec_context.pix_fmt,
            "size": (video.codec_context.width, video.codec_context.height),
            "frames": len(frames),
            "times": [float(f.time) for f in frames],
            "audio": audio.codec_context.name if audio is not None else None,
        }


def _read_jsonl(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.strip()]


# -- annotate ---------------------------------------------------------------------


def test_annotate_clip_keeps_frames_timing_and_audio(files: dict[str, Path], tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out.mp4"
    jsonl = tmp_path / "pred.jsonl"
    code = main(["annotate", str(files["clip"]), "-o", str(out), "--predictions", str(jsonl),
                 "--model", str(files["model"])])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert captured.err == ""  # not a TTY: no progress bar
    summary = captured.out.strip().splitlines()
    assert len(summary) == 1 and summary[0].startswith(f"annotated {CLIP_FRAMES} frames in ")
    assert str(out) in summary[0] and "fps" in summary[0]

    info = _video_info(out)
    source = _video_info(files["clip"])
    assert info["codec"] == "h264" and info["pix_fmt"] == "yuv420p"
    assert info["frames"] == CLIP_FRAMES
    assert info["audio"] == "aac"
    assert info["times"] == pytest.approx(source["times"], abs=1e-3)

    records = _read_jsonl(jsonl)
    assert [r["frame"] for r in records] == list(range(CLIP_FRAMES))
    first = records[0]
    assert set(first) >= {"frame", "time_s", "class_index", "class_id", "label", "confidence", "probs", "source"}
    assert first["source"] == str(files["clip"])
    assert first["time_s"] == pytest.approx(0.0, abs=1e-6)
    assert records[3]["time_s"] == pytest.approx(3 / 15, abs=1e-3)
    probs = first["probs"]
    assert isinstance(probs, dict) and list(probs) == [f"c{i}" for i in range(10)]
    assert sum(probs.values()) == pytest.approx(1.0, abs=1e-4)
    best = max(probs, key=probs.get)
    assert first["class_id"] == best
    assert first["class_index"] == int(best[1:])
    assert first["label"] == STATEFARM_LABELS[first["class_index"]]
    assert first["confidence"] == pytest.approx(probs[best], abs=1e-5)


def test_annotate_with_several_inference_threads_writes_the_same_predictions_in_order(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    records = {}
    for workers in (1, 3):
        jsonl = tmp_path / f"pred-{workers}.jsonl"
        code = main(["annotate", str(files["clip"]), "-o", str(tmp_path / f"out-{workers}.mp4"), "--predictions",
                     str(jsonl), "--model", str(files["model"]), "--threads", "1", "--workers", str(workers)])
        assert code == 0, capsys.readouterr().err
        records[workers] = _read_jsonl(jsonl)
        assert _video_info(tmp_path / f"out-{workers}.mp4")["frames"] == CLIP_FRAMES
    assert [r["frame"] for r in records[3]] == list(range(CLIP_FRAMES))
    for one, three in zip(records[1], records[3], strict=True):
        assert {k: v for k, v in one.items() if k != "inference_ms"} == {
            k: v for k, v in three.items() if k != "inference_ms"}


def test_annotate_image_folder_logs_image_paths_in_natural_order(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "folder.mp4"
    jsonl = tmp_path / "folder.jsonl"
    code = main(["annotate", str(files["folder"]), "-o", str(out), "--predictions", str(jsonl),
                 "--model", str(files["model"]), "--no-heatmap", "--top-k", "2"])
    assert code == 0, capsys.readouterr().err
    records = _read_jsonl(jsonl)
    assert [Path(str(r["source"])).name for r in records] == [f"img_{n}.png" for n in range(1, 13)]
    assert _video_info(out)["frames"] == 12


def test_annotate_image_folder_skips_an_unreadable_image_and_says_so(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "some_bad"
    media.write_image_folder(folder, count=4)
    (folder / "img_3.png").write_bytes(b"not a png")
    out = tmp_path / "some_bad.mp4"
    code = main(["annotate", str(folder), "-o", str(out), "--model", str(files["model"])])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "annotated 3 frames" in captured.out and "skipped 1 unreadable image" in captured.out
    assert _video_info(out)["frames"] == 3


def test_annotate_max_frames_and_cam_class_by_label(files: dict[str, Path], tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "short.mp4"
    code = main(["annotate", str(files["clip"]), "-o", str(out), "--max-frames", "5",
                 "--model", str(files["model"]), "--cam-class", "drinking", "--alpha", "0.7",
                 "--colormap", "turbo"])
    assert code == 0, capsys.readouterr().err
    assert _video_info(out)["frames"] == 5


def test_model_from_environment_variable(files: dict[str, Path], tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRIVERCAM_MODEL", str(files["model"]))
    code = main(["annotate", str(files["folder"]), "-o", str(tmp_path / "env.mp4"), "--max-frames", "2"])
    assert code == 0, capsys.readouterr().err


def test_python_dash_m_annotate_in_a_subprocess(files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "sub.mp4"
    proc = subprocess.run(
        [sys.executable, "-m", "drivercam", "annotate", str(files["clip"]), "-o", str(out),
         "--model", str(files["model"])],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"annotated {CLIP_FRAMES} frames")
    assert _video_info(out)["frames"] == CLIP_FRAMES


def test_truncated_video_writes_what_decodes_then_exits_1(files: dict[str, Path], tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    full = media.write_video(tmp_path / "full.mp4", frames=60, fps=15, faststart=True)
    cut = media.truncated_copy(full, tmp_path / "cut.mp4", keep=0.5)
    out = tmp_path / "cut_out.mp4"
    code = main(["annotate", str(cut), "-o", str(out), "--model", str(files["model"])])
    err = _error_lines(capsys.readouterr().err)
    assert code == 1
    assert len(err) == 1 and err[0].startswith("drivercam: error: ")
    assert "truncated" in err[0] or "decod" in err[0]
    written = _video_info(out)["frames"]
    assert 0 < written < 60
    assert f"wrote {written} frames" in err[0]


# -- live and info ----------------------------------------------------------------------


def test_live_plays_a_file_as_a_camera_for_max_seconds(files: dict[str, Path], tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    clip = media.write_video(tmp_path / "long.mp4", frames=45, fps=15)  # 3 s
    jsonl = tmp_path / "live.jsonl"
    out = tmp_path / "live.mp4"
    start = time.monotonic()
    code = main(["live", "--source", str(clip), "--no-window", "--max-seconds", "1",
                 "--model", str(files["model"]), "--predictions", str(jsonl), "--output", str(out)])
    elapsed = time.monotonic() - start
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert 0.9 < elapsed < 4.0  # paced in real time, stopped after about a second
    assert captured.out.startswith("showed ")
    indices = [r["frame"] for r in _read_jsonl(jsonl)]
    assert 5 <= len(indices) <= 20
    assert indices == sorted(set(indices))
    assert _video_info(out)["frames"] == len(indices)
    assert b"moof" in out.read_bytes()  # live recordings are fragmented by default


def test_annotate_fragmented_writes_a_fragmented_mp4_with_every_frame(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plain, fragmented = tmp_path / "plain.mp4", tmp_path / "fragmented.mp4"
    for out, extra in ((plain, []), (fragmented, ["--fragmented"])):
        code = main(["annotate", str(files["clip"]), "-o", str(out), "--model", str(files["model"]), *extra])
        assert code == 0, capsys.readouterr().err
    assert b"moof" in fragmented.read_bytes() and b"moof" not in plain.read_bytes()
    info, source = _video_info(fragmented), _video_info(files["clip"])
    assert info["frames"] == CLIP_FRAMES and info["audio"] == "aac"
    assert info["times"] == pytest.approx(source["times"], abs=1e-3)
    # The same audio at the same times, the encoder's priming packet before time 0 included.
    audio: dict[Path, list[tuple[int, bytes]]] = {}
    for path in (plain, fragmented):
        with av.open(str(path)) as container:
            audio[path] = [(p.pts, bytes(p)) for p in container.demux(audio=0) if p.size]
    assert audio[plain][0][0] < 0
    assert audio[fragmented] == audio[plain]


def test_live_from_a_truncated_file_reports_it_after_the_frames(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    full = media.write_video(tmp_path / "full.mp4", frames=30, fps=30, faststart=True)
    cut = media.truncated_copy(full, tmp_path / "cut.mp4", keep=0.5)
    out = tmp_path / "live_cut.mp4"
    code = main(["live", "--source", str(cut), "--no-window", "--output", str(out), "--model", str(files["model"])])
    err = _error_lines(capsys.readouterr().err)
    assert code == 1
    assert len(err) == 1 and ("truncated" in err[0] or "decoded" in err[0])
    written = _video_info(out)["frames"]
    assert written > 0 and f"wrote {written} frames" in err[0]


def test_info_describes_the_model(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["info", str(files["model"])])
    out = capsys.readouterr().out
    assert code == 0
    assert "safe driving" in out and "talking to passenger" in out
    assert "input size: 64x48" in out
    assert "cam size: 4x3" in out
    assert "feature stride: 16" in out
    assert "colour order: BGR" in out
    assert "drivercam_contract: 1" in out
    assert "CPUExecutionProvider" in out


# -- bad input ------------------------------------------------------------------------


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


BAD_CASES = {
    "missing input": lambda f, t: ["annotate", str(t / "nope.mp4"), "-o", str(t / "o.mp4"), "--model", str(f["model"])],
    "not a video": lambda f, t: ["annotate", str(_text(t / "notes.mp4")), "-o", str(t / "o.mp4"),
                                 "--model", str(f["model"])],
    "missing model": lambda f, t: ["annotate", str(f["clip"]), "-o", str(t / "o.mp4"), "--model", str(t / "no.onnx")],
    "corrupt model": lambda f, t: ["annotate", str(f["clip"]), "-o", str(t / "o.mp4"),
                                   "--model", str(_text(t / "bad.onnx"))],
    "wrong-shaped model": lambda f, t: ["info", str(_wrong_shaped_model(t / "wrong.onnx"))],
    "unwritable output": lambda f, t: ["annotate", str(f["clip"]), "-o", str(_text(t / "file") / "sub" / "o.mp4"),
                                       "--model", str(f["model"])],
    "unwritable predictions": lambda f, t: ["annotate", str(f["clip"]), "-o", str(t / "o.mp4"),
                                            "--predictions", str(_text(t / "file") / "p.jsonl"),
                                            "--model", str(f["model"])],
    "absent camera": lambda f, t: ["live", "--source", "97", "--no-window", "--model", str(f["model"])],
    "alpha out of range": lambda f, t: ["annotate", str(f["clip"]), "-o", str(t / "o.mp4"), "--alpha", "1.5",
                                        "--model", str(f["model"])],
    "unknown colormap": lambda f, t: ["annotate", str(f["clip"]), "-o", str(t / "o.mp4"), "--colormap", "rainbowish",
                                      "--model", str(f["model"])],
    "unknown cam class": lambda f, t: ["annotate", str(f["clip"]), "-o", str(t / "o.mp4"), "--cam-class", "yawning",
                                       "--model", str(f["model"])],
    "camera given to annotate": lambda f, t: ["annotate", "0", "-o", str(t / "o.mp4"), "--model", str(f["model"])],
    "unknown device": lambda f, t: ["info", str(f["model"]), "--device", "quantum"],
}


def _text(path: Path) -> Path:
    path.write_text("this is not what you are looking for\n")
    return path


@pytest.mark.parametrize("case", list(BAD_CASES))
def test_bad_input_exits_1_with_one_line(case: str, files: dict[str, Path], tmp_path: Path,
                                         capfd: pytest.CaptureFixture[str]) -> None:
    argv = BAD_CASES[case](files, tmp_path)
    start = time.monotonic()
    code = main(argv)
    elapsed = time.monotonic() - start
    captured = capfd.readouterr()  # file-descriptor level: native library chatter counts too
    lines = _error_lines(captured.err)
    assert code == 1, captured.err
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("drivercam: error: ")
    assert "Traceback" not in captured.err
    assert elapsed < 10.0


def test_bad_input_with_verbose_shows_the_traceback(files: dict[str, Path], tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["annotate", str(tmp_path / "nope.mp4"), "-o", str(tmp_path / "o.mp4"),
                 "--model", str(files["model"]), "-v"])
    err = capsys.readouterr().err
    assert code == 1
    assert "Traceback" in err
    assert err.strip().splitlines()[-1].startswith("drivercam: error: ")


def test_bad_input_in_a_subprocess_prints_one_line(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "drivercam", "annotate", str(tmp_path / "missing.mp4"), "-o", str(tmp_path / "o.mp4"),
         "--model", str(tmp_path / "missing.onnx")],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 1
    assert len(_error_lines(proc.stderr)) == 1
    assert proc.stderr.startswith("drivercam: error: ")


@pytest.mark.parametrize("argv", [[], ["annotate"], ["annotate", "x.mp4"], ["live", "--max-seconds", "soon"],
                                  ["frobnicate"], ["annotate", "x.mp4", "-o", "y.mp4", "--top-k", "0"]])
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
        [sys.executable, "-m", "drivercam", "live", "--source", str(clip), "--no-window",
         "--model", str(files["model"]), "--output", str(out), "--predictions", str(jsonl)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
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
    lines = _error_lines(err)
    assert len(lines) == 1 and "interrupted" in lines[0]
    written = _video_info(out)["frames"]
    assert written >= 5
    assert f"wrote {written} frames" in lines[0]


# -- real data ----------------------------------------------------------------------------


def test_annotate_two_seconds_of_a_real_clip(data_dir: Path, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    model = REPO_ROOT / "models" / "drivercam.onnx"
    if not model.is_file():
        pytest.skip(f"{model} is absent; train and export the model first")
    clip = data_dir / "clips" / "cabin_p024.mp4"
    if not clip.is_file():
        pytest.skip(f"{clip} is absent")
    out = tmp_path / "real.mp4"
    jsonl = tmp_path / "real.jsonl"
    code = main(["annotate", str(clip), "-o", str(out), "--predictions", str(jsonl), "--max-frames", "30",
                 "--model", str(model)])
    assert code == 0, capsys.readouterr().err
    info = _video_info(out)
    assert info["frames"] == 30 and info["size"] == (640, 480) and info["audio"] == "aac"
    records = _read_jsonl(jsonl)
    assert [r["frame"] for r in records] == list(range(30))
    assert [r["time_s"] for r in records] == pytest.approx([i / 15 for i in range(30)], abs=1e-3)
    assert all(sum(r["probs"].values()) == pytest.approx(1.0, abs=1e-3) for r in records)
    assert all(r["class_id"] in r["probs"] for r in records)


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
        [xvfb_run, "-a", sys.executable, "-m", "drivercam", "live", "--source", str(clip), "--max-seconds", "1",
         "--model", str(files["model"]), "--predictions", str(jsonl)],
        capture_output=True, text=True, timeout=120, env=env, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "no display" not in proc.stderr and "--no-window" not in proc.stderr
    if system_font_dir() is not None:  # Qt found fonts: no warnings about OpenCV's missing font folder
        assert "QFontDatabase" not in proc.stderr, proc.stderr
    shown = int(proc.stdout.split()[1])  # "showed N frames in ..."
    assert proc.stdout.startswith("showed ") and shown > 0
    assert len(_read_jsonl(jsonl)) == shown
