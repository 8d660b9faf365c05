"""``drivercam batch``: many videos into per-video logs and fleet tables, locally or on Ray."""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path
from typing import IO, Any

from drivercam.batch.engines import LocalEngine, RayEngine, import_ray
from drivercam.batch.inputs import expand_inputs
from drivercam.batch.plan import DEFAULT_CHUNK_S
from drivercam.batch.runner import run_batch
from drivercam.batch.settings import BatchSettings, EpisodeSettings
from drivercam.batch.tasks import WorkerConfig
from drivercam.batch.work import model_fingerprint
from drivercam.cli.exits import EXIT_ERROR, EXIT_OK, PROG, interrupted_status
from drivercam.cli.options import (
    add_episode_arguments,
    count,
    model_path,
    number,
    overlay_options,
    positive,
    session_from_args,
)
from drivercam.cli.progress import format_duration, is_terminal
from drivercam.pipeline.stats import Clock
from drivercam.pipeline.workers import available_cores


def add_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add ``batch`` to the subcommands."""
    batch = commands.add_parser(
        "batch",
        parents=[common],
        help="process many videos into per-video logs and fleet tables (locally or on Ray)",
        description="Run the model over many videos: per video predictions.jsonl and events.jsonl, across "
        "the batch summary.csv, episodes.csv (and Parquet copies with pyarrow) and fleet.html. Rerunning "
        "the same command skips finished work.",
    )
    batch.add_argument(
        "inputs",
        nargs="+",
        metavar="INPUT",
        help="video files, folders (searched recursively), quoted globs, or .txt files listing paths or URLs",
    )
    batch.add_argument("-o", "--output", required=True, metavar="OUTDIR", help="folder for the outputs and manifest")
    batch.add_argument(
        "--engine", choices=("local", "ray"), default="local", help="local worker processes, or Ray (default: local)"
    )
    batch.add_argument(
        "--address", metavar="ADDR", help="Ray cluster to join (auto, ray://HOST:10001); default: start a local one"
    )
    batch.add_argument(
        "--workers",
        type=count("--workers"),
        metavar="N",
        help="worker processes or Ray actors, one ONNX session each (default: one per CPU core)",
    )
    batch.add_argument(
        "--gpus-per-worker",
        type=number("--gpus-per-worker", expected="a number of GPUs >= 0, e.g. 1 or 0.25", minimum=0),
        default=0.0,
        metavar="G",
        help="GPUs each Ray worker asks for, e.g. 1 or 0.25 (default: 0)",
    )
    batch.add_argument(
        "--annotate", action="store_true", help="also write each video's annotated MP4 (videos then run whole)"
    )
    batch.add_argument(
        "--snapshots", action="store_true", help="also save a JPEG of each episode's peak frame, with its heatmap"
    )
    batch.add_argument(
        "--sample-fps",
        type=positive("--sample-fps", "a frame rate"),
        metavar="F",
        help="run the model on F frames per second of video, holding each result until the next (default: all)",
    )
    batch.add_argument(
        "--chunk-s",
        type=positive("--chunk-s", "a number of seconds"),
        default=DEFAULT_CHUNK_S,
        metavar="S",
        help=f"cut videos longer than S seconds into chunks processed in parallel (default: {DEFAULT_CHUNK_S:g})",
    )
    add_episode_arguments(batch, outputs=False)


def episode_settings(args: argparse.Namespace, labels: tuple[str, ...], class_ids: tuple[str, ...]) -> EpisodeSettings:
    """The smoothing and episode rules from ``annotate``'s options (checked as ``annotate`` checks them)."""
    options = vars(args) | {"events": None, "snapshots": None, "report": None, "on_alert": None, "no_alerts": True}
    session = session_from_args(argparse.Namespace(**options), labels, class_ids)
    session.close()
    return EpisodeSettings(session.tracker.config, session.probs_smoother.tau_s, session.cam_smoother.tau_s)


class BatchDisplay:
    """Batch progress: a redrawn bar on a terminal (videos, frames, fps, ETA); one line per video to ``lines``.

    Args:
        lines: where each finished video's line goes.
        bar: where the bar is drawn, only when it is a terminal (or ``enabled``).
    """

    def __init__(
        self,
        lines: IO[str],
        bar: IO[str],
        *,
        clock: Clock = time.monotonic,
        enabled: bool | None = None,
        min_interval_s: float = 0.25,
    ) -> None:
        self.lines, self.bar = lines, bar
        self.enabled = is_terminal(bar) if enabled is None else enabled
        self._clock = clock
        self._start = clock()
        self._last = -math.inf
        self.min_interval_s = min_interval_s
        self.videos = self.videos_done = self.frames = self.frames_finished = 0
        self.failed = 0

    def start(self, *, videos: int, done: int, frames: int) -> None:
        self.videos, self.videos_done, self.frames = videos, done, frames
        self._start = self._clock()
        self._draw(force=True)

    def frames_done(self, frames: int) -> None:
        self.frames_finished += frames
        self._draw()

    def video_done(self, row: dict[str, Any]) -> None:
        self.videos_done += 1
        name = Path(str(row["path"])).name
        if row["status"] == "ok":
            text = (
                f"ok {name}: {row['frames']} frames, {row['episodes']} episodes, {row['alerts']} alerts, "
                f"{float(row['distracted_s']):.1f} s distracted ({100 * float(row['distracted_share']):.0f} %)"
            )
        else:
            self.failed += 1
            text = f"failed {name}: {row['error']}"
        if self.enabled:
            self.bar.write("\r\033[K")
        self.lines.write(text + "\n")
        self.lines.flush()
        self._draw(force=True)

    def rate(self) -> float:
        elapsed = self._clock() - self._start
        return self.frames_finished / elapsed if elapsed > 0 else 0.0

    def _draw(self, force: bool = False) -> None:
        if not self.enabled:
            return
        now = self._clock()
        if not force and now - self._last < self.min_interval_s:
            return
        self._last = now
        rate = self.rate()
        left = max(self.frames - self.frames_finished, 0)
        eta = format_duration(left / rate) if rate > 0 else "--:--"
        width = 24
        filled = int(width * self.frames_finished / self.frames) if self.frames else width
        self.bar.write(
            f"\r[{'#' * filled}{'-' * (width - filled)}] {self.videos_done}/{self.videos} videos "
            f"{self.frames_finished}/{self.frames} frames {rate:5.1f} fps ETA {eta} "
        )
        self.bar.flush()

    def finish(self) -> None:
        if self.enabled:
            self.bar.write("\r\033[K")
            self.bar.flush()


def make_engine(args: argparse.Namespace, model: Path) -> LocalEngine | RayEngine:
    """The engine ``--engine`` names, with ``--workers`` workers of one ONNX session each."""
    gpus = float(args.gpus_per_worker)  # checked while parsing
    if args.engine == "ray":
        import_ray()  # says how to install it before anything starts
        config = WorkerConfig(str(model), args.device, args.threads or 1)
        return RayEngine(config, args.workers, address=args.address, gpus_per_worker=gpus)
    if args.address:
        raise ValueError("--address is for --engine ray; drop it or add --engine ray")
    workers = args.workers or available_cores()
    threads = args.threads or max(1, available_cores() // workers)
    return LocalEngine(WorkerConfig(str(model), args.device, threads), workers)


def run(args: argparse.Namespace) -> int:
    """Run the batch; exit 0 when every video is ``ok``, 1 when any failed."""
    from drivercam.model import OnnxClassifier

    overlay = overlay_options(args)
    out_dir = Path(args.output)
    videos = expand_inputs(args.inputs)
    model = model_path(args).resolve()
    # Loaded here once: a broken model fails before any worker starts, and its classes name the columns.
    classifier = OnnxClassifier(model, device="cpu", warmup=False)
    labels, class_ids = classifier.labels, classifier.class_ids
    del classifier
    settings = BatchSettings(
        episodes=episode_settings(args, labels, class_ids),
        sample_fps=args.sample_fps,
        chunk_s=args.chunk_s,
        annotate=bool(args.annotate),
        snapshots=bool(args.snapshots),
        model_sha256=model_fingerprint(model),
    )
    display = BatchDisplay(sys.stdout, sys.stderr)
    started = time.monotonic()
    try:
        with make_engine(args, model) as engine:
            outcome = run_batch(
                videos,
                engine,
                settings,
                out_dir,
                labels=labels,
                class_ids=class_ids,
                overlay=overlay,
                progress=display,
            )
    except KeyboardInterrupt as interrupt:
        display.finish()
        print(f"{PROG}: interrupted; run the same command again to finish the batch", file=sys.stderr)
        return interrupted_status(interrupt)
    display.finish()
    elapsed = time.monotonic() - started
    rate = outcome.frames / elapsed if elapsed > 0 else 0.0
    skipped = len(outcome.rows) - outcome.processed
    note = f", {skipped} done before" if skipped > 0 else ""
    print(
        f"batch: {len(outcome.rows)} videos ({outcome.failed} failed{note}), {outcome.frames} frames in "
        f"{elapsed:.1f} s ({rate:.1f} fps) -> {out_dir / 'summary.csv'}, {out_dir / 'fleet.html'}"
    )
    if outcome.failed:
        print(
            f"{PROG}: error: {outcome.failed} of {len(outcome.rows)} videos failed; see {out_dir / 'summary.csv'}",
            file=sys.stderr,
        )
        return EXIT_ERROR
    return EXIT_OK
