"""End-to-end tests of ``drivercam batch`` on the local engine: real ONNX Runtime, real videos, real processes."""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from support import REPO_ROOT
from support.batch_runs import EXCERPT_FRAMES, assert_same_episodes, episodes_of, read_csv, read_lines, video_folder
from support.cli_runs import error_lines, video_info
from support.report_pages import Collector

from drivercam.cli.main import main
from drivercam.events import class_durations
from drivercam.monitoring.smoothing import ProbabilitySmoother

FRAME_S = 1 / 15


def _same_predictions(a: Path, b: Path) -> None:
    ra, rb = read_lines(a), read_lines(b)
    assert [r["frame"] for r in ra] == [r["frame"] for r in rb] == list(range(len(ra)))
    assert [r["time_s"] for r in ra] == pytest.approx([r["time_s"] for r in rb], abs=1e-6)
    assert [r["class_index"] for r in ra] == [r["class_index"] for r in rb]
    pa = np.array([list(r["probs"].values()) for r in ra])  # type: ignore[union-attr]
    pb = np.array([list(r["probs"].values()) for r in rb])  # type: ignore[union-attr]
    np.testing.assert_allclose(pa, pb, atol=1e-4)


def _same_episodes(a: Path, b: Path) -> None:
    ea, eb = episodes_of(a), episodes_of(b)
    assert len(ea) == len(eb) > 0
    for x, y in zip(ea, eb):
        assert x["label"] == y["label"]
        assert abs(float(x["start_time_s"]) - float(y["start_time_s"])) <= FRAME_S + 1e-6  # type: ignore[arg-type]
        assert abs(float(x["end_time_s"]) - float(y["end_time_s"])) <= FRAME_S + 1e-6  # type: ignore[arg-type]


def test_tiny_batch_with_a_corrupt_video_fails_it_alone(
    small: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    args = ["batch", str(small["root"] / "trips"), str(small["bad"]), "-o", str(out), "--model", str(small["model"])]
    code = main([*args, "--workers", "2"])
    captured = capsys.readouterr()
    assert code == 1
    (error,) = error_lines(captured.err)
    assert error == f"drivercam: error: 1 of 3 videos failed; see {out / 'summary.csv'}"
    lines = captured.out.splitlines()
    # One line per video as each finishes (the unreadable one first: it fails at the probe; the two good
    # ones in whichever order their workers finish), then the total.
    heads = [line.split(":")[0] for line in lines]
    assert heads[0] == "failed bad.mp4" and sorted(heads[1:3]) == ["ok a.mp4", "ok b.mp4"] and heads[3:] == ["batch"]
    rows = read_csv(out / "summary.csv")
    assert [Path(r["path"]).name for r in rows] == ["a.mp4", "b.mp4", "bad.mp4"]  # input order
    assert [r["status"] for r in rows] == ["ok", "ok", "failed"]
    assert "could not open" in rows[2]["error"] and "\n" not in rows[2]["error"]
    assert rows[2]["frames"] == ""

    # The summary's numbers, recomputed from each video's own files.
    for row, frames in zip(rows[:2], (30, 45)):
        folder = out / row["video"]
        preds = read_lines(folder / "predictions.jsonl")
        assert [p["frame"] for p in preds] == list(range(frames)) and int(row["frames"]) == frames
        episodes = episodes_of(folder / "events.jsonl")
        alerts = [r for r in read_lines(folder / "events.jsonl") if r["type"] == "alert"]
        assert int(row["episodes"]) == len(episodes)
        assert int(row["alerts"]) == len(alerts) == sum(int(e["alerts"]) for e in episodes)  # type: ignore[call-overload]
        duration = frames / 15
        assert float(row["duration_s"]) == pytest.approx(duration, abs=1e-6)
        distracted = sum(float(e["duration_s"]) for e in episodes)  # type: ignore[arg-type]
        assert float(row["distracted_s"]) == pytest.approx(distracted, abs=1e-5)
        assert float(row["distracted_share"]) == pytest.approx(distracted / duration, abs=1e-5)
        assert float(row["episodes_per_hour"]) == pytest.approx(3600 * len(episodes) / duration, abs=1e-4)
        smoother = ProbabilitySmoother(0.5)
        timeline = [
            (
                float(p["time_s"]),
                int(np.argmax(smoother.update(float(p["time_s"]), np.array(list(p["probs"].values()))))),
            )  # type: ignore[arg-type, union-attr]
            for p in preds
        ]
        seconds = class_durations(timeline, 10, duration)
        assert [float(row[f"seconds_c{i}"]) for i in range(10)] == pytest.approx(list(seconds), abs=1e-5)
        assert sum(seconds) == pytest.approx(duration)

    episodes_csv = read_csv(out / "episodes.csv")
    assert len(episodes_csv) == sum(int(r["episodes"]) for r in rows[:2])
    assert {"video", "start_s", "end_s", "duration_s", "class_id", "label", "peak_confidence", "snapshot"} <= set(
        episodes_csv[0]
    )

    # Parquet copies, when pyarrow is there, hold the same rows.
    pq = pytest.importorskip("pyarrow.parquet")
    table = pq.read_table(out / "summary.parquet").to_pylist()
    assert [r["status"] for r in table] == ["ok", "ok", "failed"] and table[0]["frames"] == 30
    assert pq.read_table(out / "episodes.parquet").num_rows == len(episodes_csv)

    # A rerun skips what is done, tries the failed video again, and writes no row twice.
    code = main([*args, "--workers", "1"])
    rerun = capsys.readouterr()
    assert code == 1 and "2 done before" in rerun.out and "0 frames" in rerun.out.splitlines()[-1]
    assert len(read_csv(out / "summary.csv")) == 3 and read_csv(out / "episodes.csv") == episodes_csv

    # Other settings into the same folder are refused, naming what differs.
    code = main([*args, "--sample-fps", "5"])
    assert code == 1 and "sample_fps differ" in capsys.readouterr().err


def test_fleet_page_ranks_videos_and_links_their_episodes(small: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert (
        main(
            [
                "batch",
                str(small["root"] / "trips"),
                str(small["bad"]),
                "-o",
                str(out),
                "--model",
                str(small["model"]),
                "--workers",
                "1",
            ]
        )
        == 1
    )
    page = (out / "fleet.html").read_text(encoding="utf-8")
    parsed = Collector()
    parsed.feed(page)
    assert not parsed.find("script") and not parsed.find("link") and not parsed.find("img")
    rows = read_csv(out / "summary.csv")
    ranked = [a["data-video"] for a in parsed.find("tr", "video")]
    # Both tiny videos are distracted all through (share 1.0); the longer time, b's 3 s, ranks first.
    assert [float(r["distracted_share"]) for r in rows[:2]] == [1.0, 1.0]
    assert ranked == [rows[1]["video"], rows[0]["video"]]
    anchors = {a["href"] for a in parsed.find("a")}
    for key in ranked:
        assert f"#v-{key}" in anchors and f"{key}/events.jsonl" in anchors
    assert len(parsed.find("tr", "episode")) == len(read_csv(out / "episodes.csv"))
    assert [c["data-class"] for c in parsed.find("tr", "cls")] == [f"c{i}" for i in range(10)]
    text = " ".join(parsed.text)
    assert "3 videos, 2 analysed, 1 failed" in text and "could not open" in text


def test_annotate_and_snapshots_write_the_video_and_peak_frames(small: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "out"
    code = main(["batch", str(small["a"]), "-o", str(out), "--model", str(small["model"]), "--annotate", "--snapshots"])
    assert code == 0
    folder = video_folder(out, "a.mp4")
    assert video_info(folder / "annotated.mp4")["frames"] == 30
    episodes = episodes_of(folder / "events.jsonl")
    assert episodes, "the tiny model's distraction mass is ~0.9: one long episode"
    for e in episodes:
        assert (folder / str(e["snapshot"])).is_file()
    (row,) = read_csv(out / "episodes.csv")[:1]
    assert row["snapshot"] == f"{folder.name}/{episodes[0]['snapshot']}"
    assert not list(folder.glob("*.part.*"))


@pytest.mark.timeout(240)
def test_chunked_equals_unchunked_and_annotate(
    excerpt: Path, reference: Path, bundled_model: Path, tmp_path: Path
) -> None:
    out = tmp_path / "chunked"
    code = main(
        ["batch", str(excerpt), "-o", str(out), "--chunk-s", "3", "--workers", "2", "--model", str(bundled_model)]
    )
    assert code == 0
    chunked, whole = video_folder(out, excerpt.name), video_folder(reference, excerpt.name)
    _same_predictions(chunked / "predictions.jsonl", whole / "predictions.jsonl")
    assert_same_episodes(chunked / "events.jsonl", whole / "events.jsonl")  # same raw input, same pass
    assert read_csv(out / "summary.csv")[0]["frames"] == str(EXCERPT_FRAMES)

    # And both equal a plain `drivercam annotate --events` of the same video.
    events, preds = tmp_path / "a_events.jsonl", tmp_path / "a_preds.jsonl"
    code = main(
        ["annotate", str(excerpt), "-o", str(tmp_path / "a.mp4"), "--events", str(events), "--predictions", str(preds)]
        + ["--model", str(bundled_model)]
    )
    assert code == 0
    _same_predictions(chunked / "predictions.jsonl", preds)
    _same_episodes(chunked / "events.jsonl", events)


@pytest.mark.timeout(240)
def test_sigkill_mid_batch_then_rerun_finishes_without_duplicates(
    excerpt: Path, reference: Path, bundled_model: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "drivercam", "batch", str(excerpt), "-o", str(out), "--chunk-s", "2"]
    cmd += ["--workers", "1", "--model", str(bundled_model)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen(cmd, env=env, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    manifest = out / "manifest.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if manifest.exists() and manifest.read_text().count('"kind":"chunk"') >= 3:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the batch ended before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)  # the parent and its worker, as a power cut would
    proc.wait(timeout=10)
    assert not (out / "summary.csv").exists()
    done_before = manifest.read_text().count('"kind":"chunk"')

    rerun = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=180)
    assert rerun.returncode == 0, rerun.stderr
    last = rerun.stdout.splitlines()[-1]
    frames_done = int(last.split(" frames in ")[0].rsplit(" ", 1)[-1])
    assert frames_done == EXCERPT_FRAMES - 30 * done_before  # only the chunks (of 2 s, 30 frames) not recorded
    folder = video_folder(out, excerpt.name)
    _same_predictions(folder / "predictions.jsonl", video_folder(reference, excerpt.name) / "predictions.jsonl")
    assert len(read_lines(folder / "predictions.jsonl")) == EXCERPT_FRAMES
    assert len(read_csv(out / "summary.csv")) == 1
    videos = [json.loads(line) for line in manifest.read_text().splitlines() if '"kind":"video"' in line]
    assert len(videos) == 1 and videos[0]["status"] == "ok"
    assert not (folder / "chunks").exists() and not list(out.rglob("*.part*"))
    assert math.isclose(float(read_csv(out / "summary.csv")[0]["duration_s"]), EXCERPT_FRAMES / 15)


@pytest.mark.timeout(240)
def test_sample_fps_holds_predictions_and_chunks_still_agree(
    excerpt: Path, bundled_model: Path, tmp_path: Path
) -> None:
    runs = {}
    for name, extra in (("whole", ["--workers", "1"]), ("chunked", ["--chunk-s", "3.1", "--workers", "2"])):
        out = tmp_path / name
        code = main(["batch", str(excerpt), "-o", str(out), "--sample-fps", "5", "--model", str(bundled_model), *extra])
        assert code == 0
        runs[name] = video_folder(out, excerpt.name)
    whole = read_lines(runs["whole"] / "predictions.jsonl")
    assert len(whole) == EXCERPT_FRAMES
    # 15 fps sampled at 5: the model runs on frames 0, 3, 6, ...; frames between hold the last result.
    ran = [r["frame"] for r in whole if r["inference_ms"] > 0]  # type: ignore[operator]
    assert ran == list(range(0, EXCERPT_FRAMES, 3))
    for r in whole:
        held = whole[int(r["frame"]) // 3 * 3]  # type: ignore[call-overload]
        assert r["probs"] == held["probs"]
    # Chunks of 3.1 s start mid sampling period (frame 47 of period 45..47): each decodes from
    # its period's first frame, so the held predictions match the one-piece run's.
    _same_predictions(runs["chunked"] / "predictions.jsonl", runs["whole"] / "predictions.jsonl")
    assert_same_episodes(runs["chunked"] / "events.jsonl", runs["whole"] / "events.jsonl")


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.mark.timeout(150)
def test_fleet_page_renders_in_headless_chromium(small: dict[str, Path], tmp_path: Path) -> None:
    binary = _chromium()
    if binary is None:
        pytest.skip("no chromium binary on PATH; install it with: apt-get install -y chromium")
    out = tmp_path / "out"
    main(["batch", str(small["root"] / "trips"), str(small["bad"]), "-o", str(out), "--model", str(small["model"])])
    url = (out / "fleet.html").resolve().as_uri()
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
    dom = subprocess.run(
        [binary, *flags, f"--user-data-dir={tmp_path / 'p1'}", "--dump-dom", url], capture_output=True, timeout=60
    )
    assert dom.returncode == 0, dom.stderr.decode(errors="replace")[-500:]
    parsed = Collector()
    parsed.feed(dom.stdout.decode("utf-8"))
    assert len(parsed.find("tr", "video")) == 2 and len(parsed.find("tr", "failed")) == 1
    shot = tmp_path / "shot.png"
    res = subprocess.run(
        [binary, *flags, f"--user-data-dir={tmp_path / 'p2'}", f"--screenshot={shot}", "--window-size=1000,700", url],
        capture_output=True,
        timeout=60,
    )
    assert res.returncode == 0 and shot.is_file(), res.stderr.decode(errors="replace")[-500:]
    image = cv2.imread(str(shot))
    red = (np.abs(image[..., ::-1].astype(int) - np.array([0xB7, 0x1C, 0x1C])).max(axis=2) <= 3).sum()
    assert red > 500, "the distraction bars are not drawn"
