"""Tests for drivercam.cli.annotate, end to end on tiny real models and clips."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import av
import pytest
from support import REPO_ROOT, media
from support.cli_runs import CLIP_FRAMES, error_lines, read_jsonl, video_info
from support.report_pages import Collector
from support.tiny_models import SHORT_LABELS, STATEFARM_LABELS

from drivercam.cli.main import main

# -- annotate ---------------------------------------------------------------------


def test_annotate_clip_keeps_frames_timing_and_audio(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.mp4"
    jsonl = tmp_path / "pred.jsonl"
    code = main(
        ["annotate", str(files["clip"]), "-o", str(out), "--predictions", str(jsonl), "--model", str(files["model"])]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert captured.err == ""  # not a TTY: no progress bar
    summary = captured.out.strip().splitlines()
    assert summary[0].startswith(f"annotated {CLIP_FRAMES} frames in ")
    assert str(out) in summary[0] and "fps" in summary[0]
    # The run's summary follows even without --events or --report.
    assert "distraction episode" in summary[1] and "time per class:" in summary

    info = video_info(out)
    source = video_info(files["clip"])
    assert info["codec"] == "h264" and info["pix_fmt"] == "yuv420p"
    assert info["frames"] == CLIP_FRAMES
    assert info["audio"] == "aac"
    assert info["times"] == pytest.approx(source["times"], abs=1e-3)

    records = read_jsonl(jsonl)
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
        code = main(
            [
                "annotate",
                str(files["clip"]),
                "-o",
                str(tmp_path / f"out-{workers}.mp4"),
                "--predictions",
                str(jsonl),
                "--model",
                str(files["model"]),
                "--threads",
                "1",
                "--workers",
                str(workers),
            ]
        )
        assert code == 0, capsys.readouterr().err
        records[workers] = read_jsonl(jsonl)
        assert video_info(tmp_path / f"out-{workers}.mp4")["frames"] == CLIP_FRAMES
    assert [r["frame"] for r in records[3]] == list(range(CLIP_FRAMES))
    for one, three in zip(records[1], records[3], strict=True):
        assert {k: v for k, v in one.items() if k != "inference_ms"} == {
            k: v for k, v in three.items() if k != "inference_ms"
        }


def test_annotate_image_folder_logs_image_paths_in_natural_order(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "folder.mp4"
    jsonl = tmp_path / "folder.jsonl"
    code = main(
        [
            "annotate",
            str(files["folder"]),
            "-o",
            str(out),
            "--predictions",
            str(jsonl),
            "--model",
            str(files["model"]),
            "--no-heatmap",
            "--top-k",
            "2",
        ]
    )
    assert code == 0, capsys.readouterr().err
    records = read_jsonl(jsonl)
    assert [Path(str(r["source"])).name for r in records] == [f"img_{n}.png" for n in range(1, 13)]
    assert video_info(out)["frames"] == 12


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
    assert video_info(out)["frames"] == 3


def test_annotate_max_frames_and_cam_class_by_label(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "short.mp4"
    code = main(
        [
            "annotate",
            str(files["clip"]),
            "-o",
            str(out),
            "--max-frames",
            "5",
            "--model",
            str(files["model"]),
            "--cam-class",
            "drinking",
            "--alpha",
            "0.7",
            "--colormap",
            "turbo",
            "--heatmap-style",
            "full",
        ]
    )
    assert code == 0, capsys.readouterr().err
    assert video_info(out)["frames"] == 5


def test_truncated_video_writes_what_decodes_then_exits_1(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    full = media.write_video(tmp_path / "full.mp4", frames=60, fps=15, faststart=True)
    cut = media.truncated_copy(full, tmp_path / "cut.mp4", keep=0.5)
    out = tmp_path / "cut_out.mp4"
    code = main(["annotate", str(cut), "-o", str(out), "--model", str(files["model"])])
    err = error_lines(capsys.readouterr().err)
    assert code == 1
    assert len(err) == 1 and err[0].startswith("drivercam: error: ")
    assert "truncated" in err[0] or "decod" in err[0]
    written = video_info(out)["frames"]
    assert 0 < written < 60
    assert f"wrote {written} frames" in err[0]


# -- live and info ----------------------------------------------------------------------


def test_annotate_fragmented_writes_a_fragmented_mp4_with_every_frame(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plain, fragmented = tmp_path / "plain.mp4", tmp_path / "fragmented.mp4"
    for out, extra in ((plain, []), (fragmented, ["--fragmented"])):
        code = main(["annotate", str(files["clip"]), "-o", str(out), "--model", str(files["model"]), *extra])
        assert code == 0, capsys.readouterr().err
    assert b"moof" in fragmented.read_bytes() and b"moof" not in plain.read_bytes()
    info, source = video_info(fragmented), video_info(files["clip"])
    assert info["frames"] == CLIP_FRAMES and info["audio"] == "aac"
    assert info["times"] == pytest.approx(source["times"], abs=1e-3)
    # The same audio at the same times, the encoder's priming packet before time 0 included.
    audio: dict[Path, list[tuple[int, bytes]]] = {}
    for path in (plain, fragmented):
        with av.open(str(path)) as container:
            audio[path] = [(p.pts, bytes(p)) for p in container.demux(audio=0) if p.size]
    assert audio[plain][0][0] < 0
    assert audio[fragmented] == audio[plain]


def test_annotate_two_seconds_of_a_real_clip(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = REPO_ROOT / "models" / "drivercam.onnx"
    if not model.is_file():
        pytest.skip(f"{model} is absent; train and export the model first")
    clip = data_dir / "clips" / "cabin_p024.mp4"
    if not clip.is_file():
        pytest.skip(f"{clip} is absent")
    out = tmp_path / "real.mp4"
    jsonl = tmp_path / "real.jsonl"
    code = main(
        [
            "annotate",
            str(clip),
            "-o",
            str(out),
            "--predictions",
            str(jsonl),
            "--max-frames",
            "30",
            "--model",
            str(model),
        ]
    )
    assert code == 0, capsys.readouterr().err
    info = video_info(out)
    assert info["frames"] == 30 and info["size"] == (640, 480) and info["audio"] == "aac"
    records = read_jsonl(jsonl)
    assert [r["frame"] for r in records] == list(range(30))
    assert [r["time_s"] for r in records] == pytest.approx([i / 15 for i in range(30)], abs=1e-3)
    assert all(sum(r["probs"].values()) == pytest.approx(1.0, abs=1e-3) for r in records)
    assert all(r["class_id"] in r["probs"] for r in records)


LABELS = SHORT_LABELS
FPS = 15
DURATION_S = 30.0
# Activity every 5 s, like the labelled clips: safe, texting, safe, drinking, radio, safe.
SCRIPT = (0, 1, 0, 6, 5, 0)


@pytest.mark.timeout(90)
def test_cli_annotate_writes_alerts_events_snapshots_and_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import av
    from support import media
    from support.tiny_models import make_tiny_model

    from drivercam.cli.main import main

    model = make_tiny_model(tmp_path / "tiny.onnx")
    clip = media.write_video(tmp_path / "clip.mp4", frames=45, fps=15)  # 3 s
    got = tmp_path / "alerts.jsonl"
    sink = tmp_path / "sink.py"
    sink.write_text(f"import sys\nopen({str(got)!r}, 'a').write(sys.stdin.read() + '\\n')\n")
    out, events, report_path = tmp_path / "out.mp4", tmp_path / "events.jsonl", tmp_path / "run.html"
    # Every class counts as distraction, so the (random) tiny model is always "distracted":
    # the episode starts at 0 s and alerts at 0.5, 1.0, ..., 2.5 s whatever it predicts.
    code = main(
        [
            "annotate",
            str(clip),
            "-o",
            str(out),
            "--model",
            str(model.path),
            "--distraction-classes",
            ",".join(str(i) for i in range(10)),
            "--onset-s",
            "0.2",
            "--warning-s",
            "0.5",
            "--cooldown-s",
            "0.5",
            "--events",
            str(events),
            "--snapshots",
            str(tmp_path / "snaps"),
            "--report",
            str(report_path),
            "--on-alert",
            f'"{sys.executable}" "{sink}"',
        ]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    lines = captured.out.splitlines()
    assert lines[0].startswith("annotated 45 frames")
    assert lines[1] == "1 distraction episode, 5 alerts, 3.0 s distracted of 3.0 s (100 %)"
    assert str(report_path) in captured.out
    records = [json.loads(x) for x in events.read_text().splitlines()]
    assert [r["type"] for r in records] == ["alert"] * 5 + ["episode"]
    assert [round(r["time_s"], 3) for r in records[:5]] == [0.533, 1.0, 1.533, 2.0, 2.533]
    assert (tmp_path / records[-1]["snapshot"]).is_file()
    assert len([x for x in got.read_text().splitlines() if x]) == 5
    parsed = Collector()
    parsed.feed(report_path.read_text(encoding="utf-8"))
    assert len(parsed.find("rect", "episode")) == 1 and len(parsed.find("path", "alert")) == 5
    # The red alert border is in the video from the first alert on, not before.
    with av.open(str(out)) as container:
        red = [
            bool(
                f.to_ndarray(format="bgr24")[:2, :, 2].mean() > 200
                and f.to_ndarray(format="bgr24")[:2, :, 1].mean() < 80
            )
            for f in container.decode(video=0)
        ]
    assert red == [i >= 8 for i in range(45)]

    code = main(
        ["annotate", str(clip), "-o", str(tmp_path / "x.mp4"), "--model", str(model.path), "--warning-s", "0.1"]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 1 and "--warning-s" in err[0]


def test_annotate_joined_ts_recordings_keeps_every_frame_time_forward_and_audio_along(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ts = media.remux(files["clip"], tmp_path / "clip.ts")
    joined = media.joined_copy(ts, tmp_path / "joined.ts", times=2)
    out, jsonl, events = tmp_path / "out.mp4", tmp_path / "p.jsonl", tmp_path / "e.jsonl"
    argv = ["annotate", str(joined), "-o", str(out), "--predictions", str(jsonl), "--events", str(events)]
    code = main([*argv, "--model", str(files["model"])])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "repaired the timestamps of 1 frames" in captured.out
    info = video_info(out)
    assert info["frames"] == 2 * CLIP_FRAMES
    times = info["times"]
    assert isinstance(times, list) and all(b > a for a, b in zip(times, times[1:]))
    logged = [r["time_s"] for r in read_jsonl(jsonl)]
    assert all(b > a for a, b in zip(logged, logged[1:]))  # type: ignore[operator]
    with av.open(str(out)) as container:
        audio = [float(p.pts * p.time_base) for p in container.demux(audio=0) if p.pts is not None]
    assert all(b > a for a, b in zip(audio, audio[1:]))
    # Both halves of the sound are there, ending with the video (one frame = 1/15 s).
    assert audio[-1] == pytest.approx(times[-1], abs=0.1)


def test_annotate_with_a_roi_runs_the_model_on_the_region(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wide = media.write_video(tmp_path / "wide.mp4", frames=6, fps=15, width=128, height=48)
    out, jsonl = tmp_path / "out.mp4", tmp_path / "p.jsonl"
    argv = ["annotate", str(wide), "-o", str(out), "--predictions", str(jsonl), "--model", str(files["model"])]
    assert main([*argv, "--roi", "32,0,64,48"]) == 0, capsys.readouterr().err
    with_roi = [r["probs"] for r in read_jsonl(jsonl)]
    assert video_info(out)["size"] == (128, 48)  # the full frame is written
    # The same as running on the region cut out beforehand (losslessly).
    cropped = tmp_path / "cropped.mp4"
    with av.open(str(wide)) as src, av.open(str(cropped), "w") as dst:
        stream = dst.add_stream("libx264", rate=15)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv444p"
        stream.options = {"crf": "0", "preset": "ultrafast"}
        for frame in src.decode(video=0):
            image = frame.to_ndarray(format="bgr24")[:, 32:96].copy()
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")):
                dst.mux(packet)
        for packet in stream.encode():
            dst.mux(packet)
    assert with_roi and len(with_roi) == 6
    assert (
        main(
            [
                "annotate",
                str(cropped),
                "-o",
                str(tmp_path / "c.mp4"),
                "--predictions",
                str(tmp_path / "c.jsonl"),
                "--model",
                str(files["model"]),
            ]
        )
        == 0
    )
    plain = [r["probs"] for r in read_jsonl(tmp_path / "c.jsonl")]
    for a, b in zip(with_roi, plain):
        assert a.keys() == b.keys()  # type: ignore[union-attr]
        assert max(abs(a[k] - b[k]) for k in a) < 0.05  # type: ignore[index]


@pytest.mark.parametrize(
    ("roi", "message"),
    [("0,0,0,48", "--roi must be a region x,y,w,h"), ("500,0,64,48", "lies outside the 64x48 frame")],
)
def test_annotate_refuses_a_bad_roi_in_one_line(
    roi: str, message: str, files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["annotate", str(files["clip"]), "-o", str(tmp_path / "o.mp4"), "--roi", roi, "--model", str(files["model"])]
    )
    lines = error_lines(capsys.readouterr().err)
    assert code == 1
    assert len(lines) == 1 and message in lines[0]


REAL_FORMATS = {
    "phone rotated 90": ({"rotation": 90}, (48, 64)),
    "hevc 10-bit": ({"codec": "libx265", "pix_fmt": "yuv420p10le"}, (64, 48)),
    "variable frame rate": ({"times_s": [0.0, 0.03, 0.1, 0.35, 0.4, 1.0]}, (64, 48)),
    "two audio tracks": ({"audio_tracks": 2}, (64, 48)),
    "1080p": ({"width": 1920, "height": 1080, "frames": 3}, (1920, 1080)),
}


@pytest.mark.parametrize("name", list(REAL_FORMATS))
def test_annotate_real_formats_every_frame_upright_with_times_and_audio(
    name: str, files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kwargs, size = REAL_FORMATS[name]
    try:
        av.Codec(str(kwargs.get("codec", "libx264")), "w")
    except ValueError:  # av.codec.codec.UnknownCodecError
        pytest.skip(f"this PyAV build has no {kwargs.get('codec')} encoder to make the test file")
    clip = media.write_format_video(tmp_path / "in.mp4", **kwargs)  # type: ignore[arg-type]
    source = video_info(clip)
    out = tmp_path / "out.mp4"
    code = main(["annotate", str(clip), "-o", str(out), "--model", str(files["model"])])
    assert code == 0, capsys.readouterr().err
    info = video_info(out)
    assert info["size"] == size
    assert info["frames"] == source["frames"]
    assert info["times"] == pytest.approx(source["times"], abs=2e-3)
    assert info["audio"] == ("aac" if kwargs.get("audio_tracks") else None)
