"""Measure what temporal smoothing and the episode rules do on the labelled clips.

Runs a drivercam ONNX model once over every labelled clip (``*.labels.csv``
next to ``*.mp4`` in ``<data>/clips``), then, for each smoothing time constant,
reports:

- per-frame accuracy of the smoothed top class, and of "distracted or not"
  (distraction mass >= the episode enter threshold);
- how often the displayed label changes, against the true number of changes;
- distraction episodes against the true distraction spans (consecutive
  non-safe frames): spans found, onset and end delays, first-alert delay,
  spans split in two, episodes covering several spans, episodes with no true span;
- the episodes' activities against the true stretches of one distraction class:
  a stretch is *inside* an episode when an episode overlaps it, and *named*
  when one activity of its own class covers at least half of it.

``tau 0`` is the raw model output. The clips hold each photo for 3 frames and
change activity every 6 s, so a raw model flickers at photo changes; a good
time constant removes most of that without delaying the true changes much.

Example::

    python tools/eval_smoothing.py                       # models/drivercam.onnx
    python tools/eval_smoothing.py out/model.onnx --taus 0,0.25,0.5,1 --json out/smoothing.json

The probabilities are cached in ``--cache`` (default ``out/eval_smoothing``),
keyed by model and clip, so trying other settings is instant. Nothing derived
from the clips is written except these numbers.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import logging
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from drivercam.events import Episode
from drivercam.monitoring.episode_config import EpisodeConfig
from drivercam.monitoring.episodes import EpisodeTracker
from drivercam.monitoring.smoothing import ProbabilitySmoother

log = logging.getLogger("eval_smoothing")

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Clip:
    name: str
    times: np.ndarray  # (N,) seconds
    probs: np.ndarray  # (N, C) raw model probabilities
    truth: np.ndarray  # (N,) class indices
    duration_s: float


def default_data_dir() -> Path:
    env = os.environ.get("DRIVERCAM_DATA")
    return Path(env) if env else REPO.parent / "shared" / "data"


def read_truth(csv_path: Path, class_ids: tuple[str, ...]) -> np.ndarray:
    """Per-frame class indices from a ``frame,class,...`` CSV."""
    index = {cid: i for i, cid in enumerate(class_ids)}
    rows: dict[int, int] = {}
    with open(csv_path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            cid = row["class"]
            if cid not in index:
                raise SystemExit(f"eval_smoothing: {csv_path}: class {cid!r} is not one of the model's {class_ids}")
            rows[int(row["frame"])] = index[cid]
    n = max(rows) + 1
    if len(rows) != n:
        raise SystemExit(f"eval_smoothing: {csv_path}: frames are not numbered 0..{n - 1}")
    return np.array([rows[i] for i in range(n)], dtype=np.intp)


INPUT_ROUTE = "i420-swscale-area"
"""How frames become model inputs (OnnxClassifier.prepare_frame); part of the cache key."""


def run_model(model_path: Path, video: Path, batch: int) -> tuple[np.ndarray, np.ndarray]:
    """(times (N,), probs (N, C)) of every frame of ``video``."""
    from drivercam.model import OnnxClassifier
    from drivercam.sources import VideoFileSource

    classifier = OnnxClassifier(model_path, max_batch=batch)
    times: list[float] = []
    probs: list[np.ndarray] = []
    pending: list[np.ndarray] = []
    with VideoFileSource(video) as source:
        while True:
            frame = source.read()
            if frame is not None:
                times.append(frame.time_s)
                pending.append(classifier.prepare_frame(frame))  # the model input annotate and batch give it
            if pending and (frame is None or len(pending) == batch):
                p, _ = classifier.run_batch(np.stack(pending))
                probs.append(np.asarray(p, dtype=np.float32))
                pending = []
            if frame is None:
                break
    return np.array(times), np.concatenate(probs)


def load_clips(
    model_path: Path, clips_dir: Path, cache_dir: Path | None, batch: int
) -> tuple[list[Clip], tuple[str, ...]]:
    import onnx

    meta = {p.key: p.value for p in onnx.load(str(model_path), load_external_data=False).metadata_props}
    class_ids = tuple(json.loads(meta["class_ids"]))
    labels = tuple(json.loads(meta["labels"]))
    stat = model_path.stat()
    # The input route is part of the key: probabilities cached from the old BGR +
    # INTER_AREA input are not those of the I420 input annotate now gives the model.
    key = hashlib.sha1(f"{model_path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}:{INPUT_ROUTE}".encode()).hexdigest()[
        :12
    ]
    clips = []
    for csv_path in sorted(clips_dir.glob("*.labels.csv")):
        name = csv_path.name.removesuffix(".labels.csv")
        video = csv_path.with_name(name + ".mp4")
        if not video.is_file():
            log.warning("no video %s for %s; skipped", video.name, csv_path.name)
            continue
        truth = read_truth(csv_path, class_ids)
        cached = cache_dir / f"{name}.{key}.npz" if cache_dir else None
        if cached is not None and cached.is_file():
            data = np.load(cached)
            times, probs = data["times"], data["probs"]
        else:
            t0 = time.perf_counter()
            times, probs = run_model(model_path, video, batch)
            log.info("%s: %d frames in %.1f s", name, len(times), time.perf_counter() - t0)
            if cached is not None:
                cached.parent.mkdir(parents=True, exist_ok=True)
                np.savez_compressed(cached, times=times, probs=probs)
        n = min(len(times), len(truth))
        if len(times) != len(truth):
            log.warning("%s: %d decoded frames but %d labels; using the first %d", name, len(times), len(truth), n)
        step = float(np.median(np.diff(times[:n]))) if n > 1 else 0.0
        clips.append(Clip(name, times[:n], probs[:n], truth[:n], float(times[n - 1] + step)))
    if not clips:
        raise SystemExit(f"eval_smoothing: no labelled clips (*.labels.csv + .mp4) in {clips_dir}")
    return clips, labels


# --------------------------------------------------------------------------- metrics


def label_changes(classes: np.ndarray) -> int:
    """How many times the class differs from the previous frame's."""
    return int(np.count_nonzero(classes[1:] != classes[:-1]))


def true_spans(distracted: np.ndarray, times: np.ndarray, duration_s: float) -> list[tuple[float, float]]:
    """[start, end) times of runs of consecutive distracted frames."""
    spans: list[tuple[float, float]] = []
    edges = np.flatnonzero(np.diff(np.concatenate([[0], distracted.astype(np.int8), [0]])))
    for a, b in zip(edges[::2], edges[1::2]):
        spans.append((float(times[a]), float(times[b]) if b < len(times) else duration_s))
    return spans


def true_stretches(
    truth: np.ndarray, times: np.ndarray, duration_s: float, classes: list[int]
) -> list[tuple[float, float, int]]:
    """[start, end) times and class of runs of consecutive frames of one distraction class."""
    out: list[tuple[float, float, int]] = []
    edges = np.flatnonzero(np.diff(truth)) + 1
    starts = np.concatenate([[0], edges])
    ends = np.concatenate([edges, [len(truth)]])
    for a, b in zip(starts, ends):
        cls = int(truth[a])
        if cls in classes:
            out.append((float(times[a]), float(times[b]) if b < len(times) else duration_s, cls))
    return out


def match_activities(episodes: list[Episode], stretches: list[tuple[float, float, int]]) -> dict[str, Any]:
    """How many true stretches lie in an episode, and how many an activity of their class names.

    Named: one activity of the stretch's class overlaps at least half of the stretch.
    """
    inside = named = 0
    missed: list[str] = []
    for s, e, cls in stretches:
        inside += any(ep.start_time_s < e and ep.end_time_s > s for ep in episodes)
        best = max(
            (
                min(e, a.end_time_s) - max(s, a.start_time_s)
                for ep in episodes
                for a in ep.activities
                if a.class_index == cls
            ),
            default=0.0,
        )
        if best >= 0.5 * (e - s):
            named += 1
        else:
            missed.append(f"c{cls}@{s:.0f}s")
    return {"stretches": len(stretches), "in_episode": inside, "named": named, "not_named": " ".join(missed)}


def match_episodes(episodes: list[Episode], spans: list[tuple[float, float]]) -> dict[str, Any]:
    """Compare episodes with true distraction spans (overlap = match)."""
    onset, end, first_alert = [], [], []
    found = split = 0
    for s, e in spans:
        hits = [ep for ep in episodes if ep.start_time_s < e and ep.end_time_s > s]
        if not hits:
            continue
        found += 1
        split += len(hits) > 1
        onset.append(hits[0].start_time_s - s)
        end.append(hits[-1].end_time_s - e)
        alerts = [t for ep in hits for t in ep.alert_times_s]
        if alerts:
            first_alert.append(min(alerts) - s)
    false = [ep.id for ep in episodes if not any(ep.start_time_s < e and ep.end_time_s > s for s, e in spans)]
    merging = [ep.id for ep in episodes if sum(ep.start_time_s < e and ep.end_time_s > s for s, e in spans) > 1]

    def mean(xs: list[float]) -> float | None:
        return float(np.mean(xs)) if xs else None

    return {
        "true_spans": len(spans),
        "spans_found": found,
        "spans_split": split,
        "episodes": len(episodes),
        "false_episodes": len(false),
        "merging_episodes": len(merging),
        "mean_onset_delay_s": mean(onset),
        "mean_end_delay_s": mean(end),
        "mean_first_alert_delay_s": mean(first_alert),
        "alerts": sum(ep.alerts for ep in episodes),
    }


def evaluate(clip: Clip, tau_s: float, labels: tuple[str, ...], config: EpisodeConfig) -> dict[str, Any]:
    smoother = ProbabilitySmoother(tau_s)
    tracker = EpisodeTracker(labels, config)
    smoothed = np.empty_like(clip.probs)
    for i, (t, p) in enumerate(zip(clip.times, clip.probs)):
        smoothed[i] = smoother.update(float(t), p)
        tracker.update(float(t), smoothed[i], i)
    tracker.finish(clip.duration_s)
    pred = smoothed.argmax(axis=1)
    classes = list(config.classes_for(len(labels)))
    mass = smoothed[:, classes].sum(axis=1)
    truly = np.isin(clip.truth, classes)
    result = {
        "clip": clip.name,
        "tau_s": tau_s,
        "accuracy": float(np.mean(pred == clip.truth)),
        "distracted_accuracy": float(np.mean((mass >= config.enter_threshold) == truly)),
        "label_changes": label_changes(pred),
        "true_label_changes": label_changes(clip.truth),
    }
    result.update(match_episodes(tracker.episodes, true_spans(truly, clip.times, clip.duration_s)))
    result.update(match_activities(tracker.episodes, true_stretches(clip.truth, clip.times, clip.duration_s, classes)))
    return result


def _fmt(key: str, v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:+.2f}" if "delay" in key else f"{v:.3f}"
    return str(v) or "-"


def print_table(rows: list[dict[str, Any]]) -> None:
    cols = [
        ("clip", "clip"),
        ("tau_s", "tau"),
        ("accuracy", "acc"),
        ("distracted_accuracy", "dist_acc"),
        ("label_changes", "changes"),
        ("true_label_changes", "true"),
        ("spans_found", "found"),
        ("true_spans", "spans"),
        ("spans_split", "split"),
        ("merging_episodes", "merged"),
        ("false_episodes", "false"),
        ("mean_onset_delay_s", "onset_d"),
        ("mean_end_delay_s", "end_d"),
        ("mean_first_alert_delay_s", "alert_d"),
        ("alerts", "alerts"),
        ("stretches", "stretches"),
        ("in_episode", "in_ep"),
        ("named", "named"),
        ("not_named", "not named"),
    ]
    cells = [[_fmt(key, r[key]) for key, _ in cols] for r in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, (_, h) in enumerate(cols)]
    print("  ".join(h.rjust(w) for (_, h), w in zip(cols, widths)))
    for c in cells:
        print("  ".join(v.rjust(w) for v, w in zip(c, widths)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", nargs="?", type=Path, default=REPO / "models" / "drivercam.onnx")
    parser.add_argument(
        "--data", type=Path, default=None, help="data folder (default: $DRIVERCAM_DATA or ../shared/data)"
    )
    parser.add_argument("--taus", default="0,0.25,0.5,1.0", help="comma-separated time constants in seconds (0 = raw)")
    parser.add_argument("--preset", default="eu-high-speed", help="episode timing preset")
    parser.add_argument("--enter", type=float, default=None, help="override the enter threshold")
    parser.add_argument("--exit", type=float, default=None, help="override the exit threshold")
    parser.add_argument("--min-activity", type=float, default=None, help="override the shortest activity (s)")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument(
        "--cache", type=str, default=REPO / "out" / "eval_smoothing", help="probability cache folder ('' = none)"
    )
    parser.add_argument("--json", type=Path, default=None, help="write all rows here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    if not args.model.is_file():
        print(f"eval_smoothing: no model at {args.model}; train and export one, or pass its path", file=sys.stderr)
        return 2
    clips_dir = (args.data or default_data_dir()) / "clips"
    if not clips_dir.is_dir():
        print(f"eval_smoothing: no clips folder {clips_dir}; set DRIVERCAM_DATA or --data", file=sys.stderr)
        return 2
    try:
        taus = [float(t) for t in args.taus.split(",") if t.strip()]
        config = EpisodeConfig.from_preset(
            args.preset, enter_threshold=args.enter, exit_threshold=args.exit, min_activity_s=args.min_activity
        )
    except (TypeError, ValueError) as e:
        print(f"eval_smoothing: {e}", file=sys.stderr)
        return 2
    cache = Path(args.cache) if args.cache else None
    clips, labels = load_clips(args.model, clips_dir, cache, args.batch)
    rows = [evaluate(clip, tau, labels, config) for tau in taus for clip in clips]
    print(f"model {args.model.name}, preset {args.preset}: {config}")
    print_table(rows)
    for tau in taus:
        group = [r for r in rows if r["tau_s"] == tau]
        total = {k: sum(r[k] for r in group) for k in ("stretches", "in_episode", "named", "false_episodes")}
        print(
            f"tau {tau}: {total['in_episode']} of {total['stretches']} distracted stretches in an episode, "
            f"{total['named']} named by an activity of their class, {total['false_episodes']} episodes in safe driving"
        )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
