"""Tests for drivercam.report: a self-contained HTML report, parsed and rendered in headless Chromium."""

from __future__ import annotations

import argparse
import base64
import json
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import cv2
import numpy as np
import pytest
from tiny_models import SHORT_LABELS

from drivercam.cli.options import add_episode_arguments, session_from_args
from drivercam.errors import SinkError
from drivercam.events import Episode
from drivercam.monitoring.episodes import EpisodeConfig, EpisodeTracker
from drivercam.monitoring.session import RunSession
from drivercam.monitoring.smoothing import ProbabilitySmoother
from drivercam.render.alert import draw_alert
from drivercam.sinks.eventlog import EventLog
from drivercam.sinks.report import class_color, write_report
from drivercam.types import Frame, Prediction, Result

LABELS = SHORT_LABELS
FPS = 15
DURATION_S = 30.0
# Activity every 5 s, like the labelled clips: safe, texting, safe, drinking, radio, safe.
SCRIPT = (0, 1, 0, 6, 5, 0)


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def find(self, tag: str, cls: str | None = None) -> list[dict[str, str]]:
        return [a for t, a in self.tags if t == tag and (cls is None or cls in a.get("class", "").split())]


def _simulate(tmp_path: Path) -> tuple[list[Episode], list[tuple[float, int]]]:
    """Run smoother + tracker + event log (with real JPEG snapshots) over a scripted signal."""
    rng = np.random.default_rng(0)
    smoother = ProbabilitySmoother(0.5)
    tracker = EpisodeTracker(LABELS)
    timeline: list[tuple[float, int]] = []
    with EventLog(tmp_path / "events.jsonl", snapshot_dir=tmp_path / "snaps") as log:
        for i in range(round(DURATION_S * FPS)):
            t = i / FPS
            p = rng.dirichlet(np.ones(len(LABELS))) * 0.2
            p[SCRIPT[int(t // 5)]] += 0.8
            s = smoother.update(t, p)
            timeline.append((t, int(np.argmax(s))))
            frame = np.full((48, 64, 3), (40, 80, 160), np.uint8)
            log.record(tracker.update(t, s, i), frame_index=i, image=frame, peak_frame_index=tracker.peak_frame_index)
        log.record(tracker.finish(DURATION_S))
        return list(log.episodes), timeline


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Episode]]:
    tmp = tmp_path_factory.mktemp("report")
    episodes, timeline = _simulate(tmp)
    path = write_report(
        tmp / "report.html",
        episodes=episodes,
        timeline=timeline,
        duration_s=DURATION_S,
        labels=LABELS,
        title="Trip <A&B>",
        subtitle="cabin.mp4",
    )
    return path, episodes


def test_report_structure_is_self_contained(report: tuple[Path, list[Episode]]) -> None:
    path, episodes = report
    assert [e.label for e in episodes] == ["texting - right", "drinking"]
    doc = path.read_text(encoding="utf-8")
    parsed = _Collector()
    parsed.feed(doc)
    # No scripts, stylesheets, fonts or images fetched from anywhere.
    assert not parsed.find("script") and not parsed.find("link") and not parsed.find("iframe")
    for _, attrs in parsed.tags:
        for key in ("src", "href"):
            assert not attrs.get(key, "data:").startswith(("http", "//", "file:")), attrs
    assert "url(" not in doc and "@import" not in doc
    assert len(parsed.find("style")) == 1
    (svg,) = parsed.find("svg")
    assert svg["id"] == "timeline"
    # One episode span per episode, one alert mark per alert.
    spans = parsed.find("rect", "episode")
    assert [int(s["data-episode"]) for s in spans] == [e.id for e in episodes]
    assert len(parsed.find("path", "alert")) == sum(e.alerts for e in episodes) == 4
    # Activity segments tile the plot width exactly once, in class colours.
    segs = parsed.find("rect", "seg")
    xs = [(float(s["x"]), float(s["width"])) for s in segs]
    assert xs[0][0] == pytest.approx(96.0)
    assert sum(w for _, w in xs) == pytest.approx(1000 - 96 - 24, abs=0.5)
    assert {s["fill"] for s in segs} >= {class_color(0), class_color(1), class_color(6), class_color(5)}
    # Snapshots embedded as decodable JPEGs, one per episode.
    imgs = parsed.find("img", "snap")
    assert len(imgs) == len(episodes)
    for img in imgs:
        head, _, b64 = img["src"].partition(",")
        assert head == "data:image/jpeg;base64"
        decoded = cv2.imdecode(np.frombuffer(base64.b64decode(b64), np.uint8), cv2.IMREAD_COLOR)
        assert decoded is not None and decoded.shape == (48, 64, 3)
    text = " ".join(parsed.text)
    assert "2 distraction episodes, 4 alerts" in text
    assert "Trip <A&B>" in text and "Trip &lt;A&amp;B&gt;" in doc  # escaped in the source
    assert "texting - right" in text and "drinking" in text
    # Episode 2 is mostly drinking, then the radio: the other activity is listed.
    also = [t for t in parsed.text if t.startswith("also ")]
    assert len(also) <= len(episodes)
    assert any(t.startswith("also operating the radio ") for t in also), also


def test_report_without_episodes_or_snapshots(tmp_path: Path) -> None:
    path = write_report(
        tmp_path / "r.html", episodes=[], timeline=[(0.0, 0), (1.0, 0)], duration_s=2.0, labels=LABELS
    )
    parsed = _Collector()
    parsed.feed(path.read_text(encoding="utf-8"))
    assert "No distraction episodes in 2.0 s" in " ".join(parsed.text)
    assert not parsed.find("rect", "episode") and not parsed.find("img")
    (seg,) = parsed.find("rect", "seg")
    assert float(seg["width"]) == pytest.approx(1000 - 96 - 24)


def test_report_leaves_out_missing_snapshot_and_rejects_bad_input(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    ep = Episode(1, 2, "phone - right", 1.0, 3.0, 2.0, 15, 44, 0.9, 0.8, 20, 1.33, 0, (), str(tmp_path / "gone.jpg"))
    path = write_report(tmp_path / "r.html", episodes=[ep], timeline=[], duration_s=4.0, labels=LABELS)
    assert "no snapshot" in path.read_text(encoding="utf-8") and "gone.jpg" in caplog.text
    with pytest.raises(ValueError, match="duration_s"):
        write_report(tmp_path / "r.html", episodes=[], timeline=[], duration_s=float("nan"), labels=LABELS)
    with pytest.raises(ValueError, match="out of range"):
        write_report(tmp_path / "r.html", episodes=[], timeline=[(0.0, 12)], duration_s=1.0, labels=LABELS)
    with pytest.raises(ValueError, match="time order"):
        write_report(tmp_path / "r.html", episodes=[], timeline=[(1.0, 0), (0.5, 0)], duration_s=1.0, labels=LABELS)
    with pytest.raises(SinkError, match="could not write report"):
        write_report(tmp_path / "no" / "r.html", episodes=[], timeline=[], duration_s=1.0, labels=LABELS)


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


def _run_chromium(binary: str, profile: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    cmd = [
        binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}", *args,
    ]
    return subprocess.run(cmd, capture_output=True, timeout=60, check=False)


@pytest.mark.timeout(150)
def test_report_renders_in_headless_chromium(report: tuple[Path, list[Episode]], tmp_path: Path) -> None:
    binary = _chromium()
    if binary is None:
        pytest.skip("no chromium binary on PATH; install it with: apt-get install -y chromium")
    path, episodes = report
    url = path.resolve().as_uri()

    dom = _run_chromium(binary, tmp_path / "profile-dom", "--dump-dom", url)
    assert dom.returncode == 0, dom.stderr.decode(errors="replace")[-500:]
    parsed = _Collector()
    parsed.feed(dom.stdout.decode("utf-8"))
    (svg,) = parsed.find("svg")
    assert svg["id"] == "timeline"
    assert len(parsed.find("rect", "episode")) == len(episodes)

    shot = tmp_path / "shot.png"
    res = _run_chromium(binary, tmp_path / "profile-shot", f"--screenshot={shot}", "--window-size=1200,900", url)
    assert res.returncode == 0 and shot.is_file(), res.stderr.decode(errors="replace")[-500:]
    img = cv2.imread(str(shot))
    assert img is not None and img.shape[:2] == (900, 1200)
    assert float(img.std()) > 20, "screenshot is blank"

    def pixels(hex_color: str) -> int:
        rgb = np.array([int(hex_color[i : i + 2], 16) for i in (1, 3, 5)])
        return int((np.abs(img[..., ::-1].astype(int) - rgb).max(axis=2) <= 3).sum())

    # The timeline is drawn: every activity colour fills a visible area, and so does the red verdict.
    for c in (0, 1, 5, 6):
        assert pixels(class_color(c)) > 300, LABELS[c]
    assert pixels("#b71c1c") > 2000


# -- RunSession: the whole chain for a render loop -----------------------------------


def _result(i: int, t: float, probs: np.ndarray, rng: np.random.Generator) -> Result:
    frame = Frame(index=i, image=np.full((48, 64, 3), 90, np.uint8), time_s=t)
    cams = rng.normal(size=(len(LABELS), 3, 4)).astype(np.float32)
    return Result(frame=frame, prediction=Prediction(probs=probs.astype(np.float32), cams=cams, labels=LABELS), inference_ms=1.0)


@pytest.mark.timeout(60)
def test_run_recorder_smooths_alerts_logs_and_reports(tmp_path: Path) -> None:
    got = tmp_path / "alerts.jsonl"
    sink = tmp_path / "sink.py"
    sink.write_text(f"import sys\nopen({str(got)!r}, 'a').write(sys.stdin.read() + '\\n')\n")
    rng = np.random.default_rng(0)
    rec = RunSession(
        LABELS,
        events_path=tmp_path / "events.jsonl",
        snapshot_dir=tmp_path / "snaps",
        report_path=tmp_path / "run.html",
        on_alert=f'"{sys.executable}" "{sink}"',
        subtitle="synthetic",
        config=EpisodeConfig(onset_s=1.0, warning_s=3.5, cooldown_s=3.0, release_s=1.0),
    )
    red_from: float | None = None
    with rec:
        for i in range(12 * FPS):
            t = i / FPS
            p = np.full(len(LABELS), 0.02)
            p[6 if 2.0 <= t < 8.0 else 0] = 0.82
            result = _result(i, t, p, rng)
            shown = rec.observe(result)
            assert shown.frame is result.frame
            if i == 30:  # first drinking frame: smoothing holds the label back
                assert shown.prediction.label == "safe driving" and result.prediction.label == "drinking"
                assert not np.allclose(shown.prediction.cams, result.prediction.cams)
            drawn = shown.frame.image.copy()
            out = rec.annotate(drawn, i)
            assert (drawn == 90).all()  # annotate never draws into its input
            if (out[0, 0] == (0, 0, 255)).all() and red_from is None:
                red_from = t
        summary = rec.finish()
    assert summary is not None and summary.startswith("1 distraction episode, 1 alert")
    (ep,) = rec.episodes
    assert ep.label == "drinking" and ep.alerts == 1
    assert [c for _, c in rec.timeline] == [0, 6, 0]  # only the changes are kept
    # The alert is drawn from the frame it fires on, and that frame is the one logged and sent.
    assert red_from == pytest.approx(ep.alert_times_s[0])
    records = [json.loads(x) for x in (tmp_path / "events.jsonl").read_text().splitlines()]
    assert [r["type"] for r in records] == ["alert", "episode"]
    assert records[0]["time_s"] == pytest.approx(red_from)
    snap = cv2.imread(str(tmp_path / records[1]["snapshot"]))
    assert snap is not None and snap.shape == (48, 64, 3)
    sent = [json.loads(x) for x in got.read_text().splitlines()]
    assert [s["type"] for s in sent] == ["alert"] and sent[0]["label"] == "drinking"
    parsed = _Collector()
    parsed.feed((tmp_path / "run.html").read_text(encoding="utf-8"))
    assert len(parsed.find("rect", "episode")) == 1 and len(parsed.find("img", "snap")) == 1
    assert "synthetic" in " ".join(parsed.text)


def test_alert_banner_names_the_current_activity_at_the_top(tmp_path: Path) -> None:
    # Drinking for 4 s, then texting: one episode (mostly drinking), alerting while texting.
    rec = RunSession(LABELS, config=EpisodeConfig(onset_s=1.0, warning_s=5.0, cooldown_s=3.0, release_s=1.0))
    rng = np.random.default_rng(2)
    checked = 0
    with rec:
        for i in range(8 * FPS):
            t = i / FPS
            p = np.full(len(LABELS), 0.02)
            p[6 if t < 4.0 else 1 if t < 7.0 else 0] = 0.82
            shown = rec.observe(_result(i, t, p, rng))
            image = shown.frame.image.copy()
            out = rec.annotate(image, i)
            if rec.tracker.alerting and 6.0 <= t < 7.0:
                episode = rec.tracker.current
                assert episode is not None and episode.label == LABELS[6]
                expected = draw_alert(image, label=LABELS[1], elapsed_s=episode.duration_s, position="top")
                np.testing.assert_array_equal(out, expected)
                checked += 1
        rec.finish()
    assert checked > 0


def test_run_recorder_without_outputs_and_option_errors(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    rec = RunSession(LABELS, probs_tau_s=0.0, cam_tau_s=0.0)
    result = _result(0, 0.0, np.eye(len(LABELS))[3], rng)
    shown = rec.observe(result)
    np.testing.assert_array_equal(shown.prediction.probs, result.prediction.probs)
    assert rec.finish() is None and rec.finish() is None
    with pytest.raises(ValueError, match="--events"):
        RunSession(LABELS, snapshot_dir=tmp_path / "s")

    parser = argparse.ArgumentParser()
    add_episode_arguments(parser)
    ids = [f"c{i}" for i in range(len(LABELS))]
    args = parser.parse_args(["--preset", "eu-low-speed", "--cooldown-s", "2", "--distraction-classes", "c1,2,C3"])
    rec = session_from_args(args, LABELS, ids)
    assert (rec.tracker.config.warning_s, rec.tracker.config.cooldown_s) == (5.5, 2.0)
    assert rec.tracker.config.distraction_classes == (1, 2, 3)
    for argv, message in (
        (["--warning-s", "0.5"], "--warning-s"),
        (["--smooth", "-1"], "--smooth"),
        (["--distraction-classes", "c12"], "c12"),
    ):
        with pytest.raises(ValueError, match=message):
            session_from_args(parser.parse_args(argv), LABELS, ids)


# -- the command line -------------------------------------------------------------------------


@pytest.mark.timeout(90)
def test_cli_annotate_writes_alerts_events_snapshots_and_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import av
    import media
    from tiny_models import make_tiny_model

    from drivercam.cli.main import main

    model = make_tiny_model(tmp_path / "tiny.onnx")
    clip = media.write_video(tmp_path / "clip.mp4", frames=45, fps=15)  # 3 s
    got = tmp_path / "alerts.jsonl"
    sink = tmp_path / "sink.py"
    sink.write_text(f"import sys\nopen({str(got)!r}, 'a').write(sys.stdin.read() + '\\n')\n")
    out, events, report_path = tmp_path / "out.mp4", tmp_path / "events.jsonl", tmp_path / "run.html"
    # Every class counts as distraction, so the (random) tiny model is always "distracted":
    # the episode starts at 0 s and alerts at 0.5, 1.0, ..., 2.5 s whatever it predicts.
    code = main([
        "annotate", str(clip), "-o", str(out), "--model", str(model.path),
        "--distraction-classes", ",".join(str(i) for i in range(10)),
        "--onset-s", "0.2", "--warning-s", "0.5", "--cooldown-s", "0.5",
        "--events", str(events), "--snapshots", str(tmp_path / "snaps"), "--report", str(report_path),
        "--on-alert", f'"{sys.executable}" "{sink}"',
    ])
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
    parsed = _Collector()
    parsed.feed(report_path.read_text(encoding="utf-8"))
    assert len(parsed.find("rect", "episode")) == 1 and len(parsed.find("path", "alert")) == 5
    # The red alert border is in the video from the first alert on, not before.
    with av.open(str(out)) as container:
        red = [
            bool(f.to_ndarray(format="bgr24")[:2, :, 2].mean() > 200 and f.to_ndarray(format="bgr24")[:2, :, 1].mean() < 80)
            for f in container.decode(video=0)
        ]
    assert red == [i >= 8 for i in range(45)]

    code = main(["annotate", str(clip), "-o", str(tmp_path / "x.mp4"), "--model", str(model.path), "--warning-s", "0.1"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 1 and "--warning-s" in err[0]
