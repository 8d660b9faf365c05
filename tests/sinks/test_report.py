"""Tests for drivercam.sinks.report: a self-contained HTML report, parsed and rendered in headless Chromium."""

from __future__ import annotations

import base64
import shutil
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest
from support.report_pages import LABELS, Collector

from drivercam.errors import SinkError
from drivercam.events import Episode
from drivercam.sinks.report import class_color, write_report

# Activity every 5 s, like the labelled clips: safe, texting, safe, drinking, radio, safe.


def test_report_structure_is_self_contained(report: tuple[Path, list[Episode]]) -> None:
    path, episodes = report
    # Episode 2 is drinking, then the radio, which lasts longer (the smoothing delays its end).
    assert [e.label for e in episodes] == ["texting - right", "operating the radio"]
    assert [[a.label for a in e.activities] for e in episodes] == [
        ["texting - right"],
        ["drinking", "operating the radio"],
    ]
    doc = path.read_text(encoding="utf-8")
    parsed = Collector()
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
    # Each episode's activities tile its span in the episode lane, in their class colours.
    outlines = {int(s["data-episode"]): s for s in spans}
    for ep in episodes:
        acts = [a for a in parsed.find("rect", "activity") if int(a["data-episode"]) == ep.id]
        assert [int(a["data-class"]) for a in acts] == [a.class_index for a in ep.activities]
        assert [a["fill"] for a in acts] == [class_color(a.class_index) for a in ep.activities]
        assert float(acts[0]["x"]) == pytest.approx(float(outlines[ep.id]["x"]), abs=0.01)
        assert sum(float(a["width"]) for a in acts) == pytest.approx(float(outlines[ep.id]["width"]), abs=0.05)
    # Snapshots embedded as decodable JPEGs, one per episode, each once, opening full size in
    # a :target lightbox (a link to its own box) that a link back to the episode's row closes.
    imgs = parsed.find("img", "snap")
    assert len(imgs) == len(episodes)
    boxes = parsed.find("div", "snapbox")
    assert [b["id"] for b in boxes] == [f"snap-{e.id}" for e in episodes]
    assert [a["href"] for a in parsed.find("a", "open")] == [f"#snap-{e.id}" for e in episodes]
    assert [a["href"] for a in parsed.find("a", "close")] == [f"#episode-{e.id}" for e in episodes]
    assert ".snapbox:target{position:fixed" in doc and doc.count("data:image/jpeg") == len(episodes)
    for img in imgs:
        head, _, b64 = img["src"].partition(",")
        assert head == "data:image/jpeg;base64"
        decoded = cv2.imdecode(np.frombuffer(base64.b64decode(b64), np.uint8), cv2.IMREAD_COLOR)
        assert decoded is not None and decoded.shape == (48, 64, 3)
    text = " ".join(parsed.text)
    assert "2 distraction episodes, 4 alerts" in text
    assert "Trip <A&B>" in text and "Trip &lt;A&amp;B&gt;" in doc  # escaped in the source
    assert "texting - right" in text and "drinking" in text
    # The episode table lists each episode's activities, in time order, the episode's own in bold.
    items = parsed.find("li")
    assert len(items) == sum(len(e.activities) for e in episodes) == 3
    assert [i.get("class") for i in items] == ["main", None, "main"]
    assert "drinking " in parsed.text and "also" not in text


def test_report_without_episodes_or_snapshots(tmp_path: Path) -> None:
    path = write_report(tmp_path / "r.html", episodes=[], timeline=[(0.0, 0), (1.0, 0)], duration_s=2.0, labels=LABELS)
    parsed = Collector()
    parsed.feed(path.read_text(encoding="utf-8"))
    assert "No distraction episodes in 2.0 s" in " ".join(parsed.text)
    assert not parsed.find("rect", "episode") and not parsed.find("img")
    (seg,) = parsed.find("rect", "seg")
    assert float(seg["width"]) == pytest.approx(1000 - 96 - 24)


def test_report_leaves_out_missing_snapshot_and_rejects_bad_input(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
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
        binary,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile}",
        *args,
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
    parsed = Collector()
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

    # Opened at #snap-1, the snapshot's lightbox darkens the whole page and shows the picture in the middle.
    boxed = tmp_path / "lightbox.png"
    res = _run_chromium(
        binary, tmp_path / "profile-box", f"--screenshot={boxed}", "--window-size=1200,900", url + "#snap-1"
    )
    assert res.returncode == 0 and boxed.is_file(), res.stderr.decode(errors="replace")[-500:]
    box = cv2.imread(str(boxed))
    assert box is not None and float(box[850:, :200].mean()) < 80 < float(img[850:, :200].mean())
    # The snapshot is a flat BGR (40, 80, 160) frame.
    assert np.abs(box[450, 600].astype(int) - (40, 80, 160)).max() <= 25


# -- RunSession: the whole chain for a render loop -----------------------------------
