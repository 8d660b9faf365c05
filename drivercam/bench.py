"""``drivercam bench``: warm-up, then per-stage timings of the real threaded pipeline.

One run per (model, device) pair goes through the same path as ``drivercam
annotate`` / ``live``: capture thread -> frames queue -> inference thread ->
main thread, which draws the heatmap and encodes an H.264 MP4. The source and
the classifier are wrapped so every stage is timed where it really runs:

* ``capture``: ``source.read()`` (decoding; for a camera also the wait for the sensor);
* ``preprocess``: resize each frame into a model input (on the capture thread);
* ``inference``: one ONNX Runtime run, probabilities and every class's CAM;
* ``cam``: pick, normalise and upsample the shown class's map, colourise it;
* ``render``: blend the heatmap, draw banner, bars and HUD;
* ``encode``: H.264 encoding and muxing.

Reported per stage: median, p90, p99 in milliseconds, after ``--warmup``
frames. Also end-to-end FPS over the measured frames, and for live sources the
frames dropped as stale and the frame age (capture to the moment the annotated
frame is ready to show). Loading the model (session creation, a TensorRT
engine build) and its first run are reported apart, as the first-run cost.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from drivercam import sysinfo

# Re-exported: these lived here before the timing and synthetic-frame code got
# modules of their own, and ``from drivercam.bench import X`` keeps working.
from drivercam.benchstats import (
    STAGES,
    Clock,
    StageStats,
    StageTimer,
    TimedClassifier,
    TimedSource,
    percentile,
)
from drivercam.synthetic import SyntheticSource, parse_size
from drivercam.types import FrameSource

__all__ = [
    "SCHEMA",
    "STAGES",
    "BenchSettings",
    "Clock",
    "StageStats",
    "StageTimer",
    "SyntheticSource",
    "TimedClassifier",
    "TimedSource",
    "add_parser",
    "build_report",
    "format_table",
    "parse_size",
    "percentile",
    "run",
    "run_one",
    "usable_devices",
]

logger = logging.getLogger(__name__)

SCHEMA = "drivercam-bench/1"


# --------------------------------------------------------------------------- devices


def usable_devices(
    available: Sequence[str] | None = None,
    works: Callable[[str], bool] | None = None,
) -> list[str]:
    """Short names (``cpu``, ``cuda``, ``tensorrt``, ...) of the execution providers that run here.

    Args:
        available: provider names the ONNX Runtime build lists (default: ask it).
        works: whether a provider really loads (default :func:`drivercam.model.provider_works`).
    """
    from drivercam import model

    listed = set(model.available_providers() if available is None else available)
    check = model.provider_works if works is None else works
    return [short for short, name in model.DEVICES.items() if name in listed and check(name)]


# --------------------------------------------------------------------------- one run


@dataclass(frozen=True)
class BenchSettings:
    """What every run of one benchmark shares.

    Attributes:
        frames: frames measured after the warm-up.
        warmup: frames run first and left out of every figure.
        threads: ONNX Runtime intra-op threads per inference thread; None
            decides as ``annotate`` does (:func:`drivercam.throughput.plan_workers`).
        workers: inference threads (file policy only); None decides as ``annotate`` does.
        batch_size: frames per inference call (file policy only).
        encode: encode the annotated frames to H.264, as ``annotate`` does.
        output: where to keep the MP4 (each run overwrites it); None encodes
            into a temporary file that is deleted.
        colormap: heatmap colormap.
        alpha: heatmap opacity.
    """

    frames: int = 300
    warmup: int = 20
    threads: int | None = None
    workers: int | None = None
    batch_size: int = 1
    encode: bool = True
    output: Path | None = None
    colormap: str = "jet"
    alpha: float = 0.45

    def __post_init__(self) -> None:
        if self.frames < 1:
            raise ValueError(f"frames must be >= 1, got {self.frames!r}")
        if self.warmup < 0:
            raise ValueError(f"warmup must be >= 0, got {self.warmup!r}")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size!r}")
        if self.threads is not None and self.threads < 1:
            raise ValueError(f"threads must be >= 1 or None, got {self.threads!r}")
        if self.workers is not None and self.workers < 1:
            raise ValueError(f"workers must be >= 1 or None, got {self.workers!r}")


def run_one(
    model_path: str | Path,
    device: str,
    make_source: Callable[[], FrameSource],
    settings: BenchSettings,
    *,
    pace: bool = False,
    live: bool | None = None,
    clock: Clock = time.monotonic,
) -> dict[str, Any]:
    """Benchmark one model on one device over a fresh source; return the figures as a dict.

    Args:
        model_path: a drivercam ONNX model.
        device: an ONNX Runtime device name (see :func:`drivercam.model.resolve_providers`).
        make_source: opens the source for this run (called once, after the model loads).
        settings: shared settings.
        pace: release frames in real time (a file or synthetic frames played as a camera).
        live: whether the source is live (a camera), for planning threads
            before it is opened; None assumes live exactly when ``pace``.
        clock: monotonic clock in seconds; must be the one the source stamps
            ``captured_at`` with (``time.monotonic`` for drivercam's sources).
    """
    from contextlib import ExitStack

    from drivercam.model import OnnxClassifier, runs_on_cpu
    from drivercam.overlay import OverlayOptions, blend_heatmap, heatmap_for_frame, render_overlay
    from drivercam.pipeline import Pipeline
    from drivercam.throughput import plan_workers
    from drivercam.sinks import Mp4Sink
    from drivercam.sources import PacedSource

    timer = StageTimer(clock)
    workers, threads = plan_workers(live=pace if live is None else live, on_cpu=runs_on_cpu(device),
                                    workers=settings.workers, threads=settings.threads)
    start = clock()
    classifier = OnnxClassifier(model_path, device=device, intra_op_threads=threads,
                                max_batch=settings.batch_size, warmup=False)
    create_ms = 1000.0 * (clock() - start)
    h, w = classifier.input_size
    start = clock()
    classifier.run_batch(np.zeros((1, h, w, 3), np.uint8))
    first_ms = 1000.0 * (clock() - start)
    labels = classifier.labels
    draw = OverlayOptions(show_heatmap=False)
    total = settings.warmup + settings.frames
    ages: list[float] = []
    shown = 0
    t_start = t_end = clock()
    dropped_start = read_start = 0
    with ExitStack() as stack:
        timed: FrameSource = TimedSource(make_source(), timer)
        source: FrameSource = PacedSource(timed, clock=clock) if pace else timed
        try:
            pipeline = Pipeline(source, TimedClassifier(classifier, timer), batch_size=settings.batch_size,
                                workers=workers,
                                result_timeout_s=60.0, clock=clock)
        except BaseException:
            source.close()  # the pipeline owns the source only once it exists
            raise
        stack.enter_context(pipeline)
        video_path = settings.output
        if video_path is None:
            video_path = Path(stack.enter_context(tempfile.TemporaryDirectory())) / "bench.mp4"
        sink: Mp4Sink | None = None
        for result in pipeline:
            frame, pred = result.frame, result.prediction
            with timer.measure("cam"):
                heat = heatmap_for_frame(pred.cams, pred.class_index, frame.image.shape, settings.colormap)
            with timer.measure("render"):
                stats = pipeline.stats
                image = render_overlay(
                    blend_heatmap(frame.image, heat, settings.alpha), pred.probs, pred.cams, labels, draw,
                    fps=stats.fps, inference_ms=result.inference_ms,
                    dropped=stats.dropped if pipeline.drop_stale else None,
                )
            if pipeline.drop_stale and shown >= settings.warmup:
                ages.append(1000.0 * (clock() - frame.captured_at))
            if settings.encode:
                if sink is None:
                    sink = stack.enter_context(Mp4Sink(video_path, width=image.shape[1], height=image.shape[0],
                                                       fps=source.fps or 30.0))
                with timer.measure("encode"):
                    sink.write(image, frame.time_s)
            shown += 1
            if shown == settings.warmup:
                t_start = clock()
                dropped_start, read_start = pipeline.stats.dropped, pipeline.stats.frames_read
            if shown >= total:
                break
        t_end = clock()
        final = pipeline.stats
    measured = max(0, shown - settings.warmup)
    elapsed = t_end - t_start
    # One inference sample per batch; every other stage (preprocessing too, done
    # frame by frame on the capture thread) has one sample per frame.
    stages = timer.summary(skip=settings.warmup)
    stages["inference"] = StageStats.of(timer.samples("inference")[math.ceil(settings.warmup / settings.batch_size):])
    if not settings.encode:
        stages.pop("encode")
    path = Path(model_path)
    return {
        "model": str(path),
        "model_name": path.name,
        "model_sha256": sysinfo.sha256_of(path),
        "model_bytes": path.stat().st_size,
        "device": device,
        "providers": list(classifier.providers),
        "workers": pipeline.workers,
        "threads_per_worker": threads,
        "first_run": {"session_create_ms": create_ms, "first_inference_ms": first_ms},
        "stages": {name: asdict(s) for name, s in stages.items()},
        "frames": measured,
        "wall_s": elapsed,
        "fps": measured / elapsed if measured and elapsed > 0 else None,
        "live": pipeline.drop_stale,
        "frames_read": final.frames_read - read_start,
        "dropped": final.dropped - dropped_start,
        "frame_age": asdict(StageStats.of(ages)) if pipeline.drop_stale else None,
    }


# --------------------------------------------------------------------------- report


def _ms(stats: dict[str, Any], keys: Sequence[str]) -> str:
    if not stats or not stats.get("count"):
        return "-"
    return " / ".join(f"{stats[k]:.1f}" for k in keys)


def format_table(report: dict[str, Any]) -> str:
    """The runs side by side: one column per (model, device), one row per figure."""
    runs = report["runs"]
    heads = [f"{r['model_name']} @ {r['device']}" for r in runs]
    rows: list[tuple[str, list[str]]] = [
        ("session create (ms)", [f"{r['first_run']['session_create_ms']:.0f}" for r in runs]),
        ("first inference (ms)", [f"{r['first_run']['first_inference_ms']:.1f}" for r in runs]),
    ]
    batch = report["settings"]["batch_size"]
    for stage in STAGES:
        if any(stage in r["stages"] for r in runs):
            name = f"{stage}{f' (per {batch})' if batch > 1 and stage == 'inference' else ''}"
            rows.append((f"{name} med/p90/p99", [_ms(r["stages"].get(stage, {}), ("median_ms", "p90_ms", "p99_ms"))
                                                for r in runs]))
    rows.append(("end-to-end fps", [f"{r['fps']:.1f}" if r["fps"] else "-" for r in runs]))
    rows.append(("frames measured", [str(r["frames"]) for r in runs]))
    if any(r["live"] for r in runs):
        rows.append(("dropped / read", [f"{r['dropped']} / {r['frames_read']}" for r in runs]))
        rows.append(("frame age med/p95/p99", [_ms(r["frame_age"] or {}, ("median_ms", "p95_ms", "p99_ms"))
                                               for r in runs]))
    rows.append(("providers", [",".join(p.replace("ExecutionProvider", "") for p in r["providers"]) for r in runs]))
    rows.append(("inference threads x intra-op", [
        f"{r.get('workers', 1)} x {r.get('threads_per_worker') or 'default'}" for r in runs
    ]))
    label_w = max(len(name) for name, _ in rows)
    col_w = [max(len(h), *(len(values[i]) for _, values in rows)) for i, h in enumerate(heads)]
    lines = ["  ".join([" " * label_w, *(h.rjust(cw) for h, cw in zip(heads, col_w))])]
    lines += ["  ".join([name.ljust(label_w), *(v.rjust(cw) for v, cw in zip(values, col_w))]) for name, values in rows]
    return "\n".join(lines)


def build_report(runs: list[dict[str, Any]], settings: BenchSettings, source: dict[str, Any],
                 arguments: dict[str, Any] | None = None) -> dict[str, Any]:
    """The JSON document: figures, machine, library versions, settings and source."""
    return {
        "schema": SCHEMA,
        "created_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "arguments": json.loads(json.dumps(arguments, default=str)) if arguments is not None else None,
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(settings).items()},
        "source": source,
        "machine": sysinfo.machine_info(),
        "libraries": sysinfo.library_versions(),
        "runs": runs,
    }


# --------------------------------------------------------------------------- command line


def _size_arg(text: str) -> tuple[int, int]:
    try:
        return parse_size(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _count_arg(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = minimum - 1
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}, got {text!r}")
        return value
    return parse


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``bench`` subcommand to an ``add_subparsers()`` object."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "bench", help="time every pipeline stage per model and device",
        description="Time capture, preprocess, inference, CAM, render and encode of the real pipeline "
        "(median, p90, p99 ms), end-to-end FPS, and in live mode dropped frames and frame age.",
    )
    src = p.add_mutually_exclusive_group()
    src.add_argument("--synthetic", type=_size_arg, metavar="WxH",
                     help="generated frames of this size (the default, at 640x480)")
    src.add_argument("--source", help="a video file, or a camera index or /dev/video*")
    p.add_argument("--live", action="store_true",
                   help="play the file or synthetic frames in real time, keeping only the newest frame")
    p.add_argument("--fps", type=float, default=30.0, help="synthetic frame rate (default 30)")
    p.add_argument("--frames", type=_count_arg(1), default=300, help="frames measured (default 300)")
    p.add_argument("--warmup", type=_count_arg(0), default=20, help="frames run first, not measured (default 20)")
    p.add_argument("--model", action="append", metavar="PATH",
                   help="drivercam ONNX model; repeat to compare models (e.g. fp32, fp16, int8)")
    p.add_argument("--device", action="append", metavar="DEVICE",
                   help="auto, cpu, cuda, tensorrt, ..., or 'all' for every provider that works here; repeatable")
    p.add_argument("--threads", type=_count_arg(1),
                   help="ONNX Runtime intra-op threads per inference thread (default: as annotate decides)")
    p.add_argument("--workers", type=_count_arg(1),
                   help="inference threads for files (default: 2 on a CPU with 2+ cores, else 1; live: 1)")
    p.add_argument("--batch", type=_count_arg(1), default=1, help="frames per inference call (files only)")
    p.add_argument("--no-encode", action="store_true", help="skip H.264 encoding")
    p.add_argument("--output", metavar="OUT.mp4", help="keep the annotated video of the last run")
    p.add_argument("--json", metavar="FILE", help="also write figures, machine and settings as JSON")
    p.add_argument("-v", "--verbose", action="count", default=0, help="log details (-vv: debug)")
    return p


def _devices(requested: Sequence[str] | None) -> list[str]:
    devices: list[str] = []
    for device in requested or ["auto"]:
        for name in usable_devices() if device.strip().lower() == "all" else [device]:
            if name not in devices:
                devices.append(name)
    return devices


def run(args: argparse.Namespace) -> int:
    """Run ``drivercam bench`` with parsed arguments; print the table; 0 on success."""
    from drivercam.model import default_model_path
    from drivercam.sources import open_source

    settings = BenchSettings(frames=args.frames, warmup=args.warmup, threads=args.threads, workers=args.workers,
                             batch_size=args.batch, encode=not args.no_encode,
                             output=Path(args.output) if args.output else None)
    if not args.fps > 0:
        raise ValueError(f"--fps must be > 0, got {args.fps!r}")
    # The command line (not the library) honours $DRIVERCAM_MODEL, like the other subcommands.
    env_model = os.environ.get("DRIVERCAM_MODEL")
    models = [Path(m) for m in args.model] if args.model else [Path(env_model) if env_model else default_model_path()]
    devices = _devices(args.device)
    pace = False
    if args.source is None:
        width, height = args.synthetic or (640, 480)
        count = None if args.live else settings.warmup + settings.frames
        source_info: dict[str, Any] = {"kind": "synthetic", "width": width, "height": height, "fps": args.fps,
                                       "live": args.live}

        def make_source() -> FrameSource:
            return SyntheticSource(width, height, fps=args.fps, frames=count, live=args.live)
        pace = args.live
    else:
        spec: str | int = int(args.source) if args.source.isdigit() else args.source
        camera = isinstance(spec, int) or str(spec).startswith("/dev/video")
        source_info = {"kind": "camera" if camera else "file", "spec": args.source, "live": camera or args.live}
        if not camera:
            source_info["sha256"] = sysinfo.sha256_of(str(spec))

        def make_source() -> FrameSource:
            return open_source(spec)
        pace = args.live and not camera
    runs = []
    for model_path in models:
        for device in devices:
            logger.info("benchmarking %s on %s", model_path, device)
            runs.append(run_one(model_path, device, make_source, settings, pace=pace, live=source_info["live"]))
    report = build_report(runs, settings, source_info, vars(args))
    print(format_table(report))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0
