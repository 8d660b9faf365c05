"""Damaged input files never make ``drivercam annotate`` hang, crash or write a broken video.

Seeded damage (flipped bits, zeroed or overwritten ranges, cuts at random
offsets) of short real files in the formats cameras record: MP4 with its index
at the front and at the end, MPEG-TS and Matroska, each with audio and
B-frames. Every run must end quickly with exit 0 or 1, print at most one line
on stderr (``drivercam: error: ...`` when it fails) and never a traceback, and
the MP4 it writes, if any, must play, with times that go forward and no more
frames than the input had.

``DRIVERCAM_FUZZ_CASES`` sets the cases per format (default 40, about 15 s in
all on two cores); a longer sweep: ``DRIVERCAM_FUZZ_CASES=1000 pytest tests/cli/test_fuzz.py``.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import av
import pytest
from support import REPO_ROOT, media
from support.fuzzing import damaged_copy, ts_with_broken_timestamps

from drivercam.cli.main import main

FRAMES = 30
CASES = int(os.environ.get("DRIVERCAM_FUZZ_CASES", "40"))
CASE_LIMIT_S = 20.0  # one damaged 2-second clip; a clean one takes ~0.05 s
FORMATS = ("mp4-index-front", "mp4-index-end", "ts", "mkv")
# Seeds that once found a bug, run whatever DRIVERCAM_FUZZ_CASES says: in the MPEG-TS
# these make the demuxer report a packet of a stream it never announced.
REGRESSIONS = {"ts": (152, 288)}
# Python's own words for a bug: a damaged file must be described, not crash into one of these.
INTERNAL_ERRORS = ("index out of range", "has no attribute", "NoneType", "not subscriptable", "unsupported operand")


@pytest.fixture(scope="module")
def originals(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("fuzz")
    from support.tiny_models import make_tiny_model

    model = make_tiny_model(root / "tiny.onnx").path
    end = media.write_video(root / "end.mp4", frames=FRAMES, fps=15, audio=True, bframes=2)
    return {
        "model": model,
        "mp4-index-front": media.write_video(
            root / "front.mp4", frames=FRAMES, fps=15, audio=True, bframes=2, faststart=True
        ),
        "mp4-index-end": end,
        "ts": media.remux(end, root / "clip.ts"),
        "mkv": media.remux(end, root / "clip.mkv"),
    }


def check_output(path: Path) -> str | None:
    """What is wrong with a written MP4, or None."""
    if not path.exists():
        return None
    try:
        with av.open(str(path)) as container:
            times = [float(f.time) for f in container.decode(video=0)]
    except (av.FFmpegError, IndexError) as error:
        return f"the output does not play: {error!r}"
    if not times:
        return "the output has no frames"
    if len(times) > FRAMES:
        return f"the output has {len(times)} frames, the input {FRAMES}"
    if any(b <= a for a, b in zip(times, times[1:])):
        return "the output's times do not go forward"
    return None


def run_in_process(argv: list[str]) -> tuple[int | str, str, float]:
    err, out = io.StringIO(), io.StringIO()
    started = time.monotonic()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            code: int | str = main(argv)
    except BaseException as error:  # the point of the test: nothing may escape main()
        code = f"raised {error!r}"
    return code, err.getvalue(), time.monotonic() - started


def judge(code: int | str, stderr: str, elapsed: float) -> str | None:
    lines = [line for line in stderr.splitlines() if line.strip()]
    if code not in (0, 1):
        return f"exit {code}"
    if elapsed > CASE_LIMIT_S:
        return f"took {elapsed:.1f} s"
    if "Traceback" in stderr:
        return "printed a traceback"
    if code == 1 and (len(lines) != 1 or not lines[0].startswith("drivercam: error: ")):
        return f"exit 1 with stderr {lines!r}"
    if code == 1 and any(marker in lines[0] for marker in INTERNAL_ERRORS):
        return f"exit 1 with an internal error for a message: {lines[0]!r}"
    if code == 0 and lines:
        return f"exit 0 with stderr {lines!r}"
    return None


@pytest.mark.timeout(max(120, CASES * 4))
@pytest.mark.parametrize("kind", FORMATS)
def test_damaged_files_end_in_time_with_one_line_and_a_playable_output(
    kind: str, originals: dict[str, Path], tmp_path: Path
) -> None:
    source = originals[kind]
    failures = []
    outcomes = {0: 0, 1: 0}
    seeds = sorted(set(range(CASES)) | set(REGRESSIONS.get(kind, ())))
    for seed in seeds:
        damaged = tmp_path / f"damaged{source.suffix}"
        what = damaged_copy(source, damaged, seed)
        out = tmp_path / "out.mp4"
        out.unlink(missing_ok=True)
        code, stderr, elapsed = run_in_process(
            ["annotate", str(damaged), "-o", str(out), "--model", str(originals["model"])]
        )
        problem = judge(code, stderr, elapsed) or check_output(out)
        if problem:
            failures.append(f"{kind} {what}: {problem}")
        elif isinstance(code, int):
            outcomes[code] += 1
    assert failures == [], "\n".join(failures)
    assert sum(outcomes.values()) == len(seeds)


@pytest.mark.parametrize("kind", ["mp4-index-end", "ts"])
def test_a_damaged_file_in_a_real_process_prints_one_line_and_no_traceback(
    kind: str, originals: dict[str, Path], tmp_path: Path
) -> None:
    # In a process of its own, so native crashes and FFmpeg's own logging would show.
    source = originals[kind]
    for seed in (1, 2):  # a zeroed and an overwritten range
        damaged = tmp_path / f"damaged{source.suffix}"
        what = damaged_copy(source, damaged, seed)
        out = tmp_path / "out.mp4"
        out.unlink(missing_ok=True)
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "drivercam", "annotate", str(damaged), "-o", str(out)]
            + ["--model", str(originals["model"])],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
            check=False,
        )
        problem = judge(done.returncode, done.stderr, time.monotonic() - started) or check_output(out)
        assert problem is None, f"{kind} {what}: {problem}"


def test_ts_with_broken_timestamps_annotates_every_frame_on_a_forward_timeline(
    originals: dict[str, Path], tmp_path: Path
) -> None:
    # A dashcam clock glitching: packet times random, in the past or repeated; the data intact.
    clip = media.write_video(tmp_path / "long.mp4", frames=60, fps=15, audio=True, bframes=2)
    ts = media.remux(clip, tmp_path / "clip.ts")
    failures = []
    for seed in range(max(4, CASES // 4)):
        broken = tmp_path / "broken.ts"
        what = ts_with_broken_timestamps(ts, broken, seed)
        out, log = tmp_path / "out.mp4", tmp_path / "p.jsonl"
        code, stderr, elapsed = run_in_process(
            ["annotate", str(broken), "-o", str(out), "--predictions", str(log), "--model", str(originals["model"])]
        )
        problem = judge(code, stderr, elapsed)
        if problem is None and code != 0:
            problem = f"exit {code}: {stderr.strip()}"
        if problem is None:
            with av.open(str(out)) as container:
                frames = list(container.decode(video=0))
            with av.open(str(out)) as container:
                audio = [p for p in container.demux(audio=0) if p.pts is not None] if container.streams.audio else []
            times = [float(f.time) for f in frames]
            logged = [json.loads(line)["frame"] for line in log.read_text().splitlines()]
            if len(frames) != 60 or logged != list(range(60)):
                problem = f"not every frame was annotated, in order: {len(frames)} frames, log {logged}"
            elif any(b <= a for a, b in zip(times, times[1:])):
                problem = "the output's times do not go forward"
            elif abs(times[-1] - 59 / 15) > 1.0:
                problem = f"the timeline drifted: last frame at {times[-1]:.3f} s, not {59 / 15:.3f} s"
            elif not audio:
                problem = "the audio was lost"
            elif abs((sound_end := float(audio[-1].pts * audio[-1].time_base)) - times[-1]) > 0.2:
                problem = f"the audio ends at {sound_end:.3f} s, the video at {times[-1]:.3f} s"
        if problem:
            failures.append(f"{what}: {problem}")
    assert failures == [], "\n".join(failures)
