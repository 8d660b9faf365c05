"""The ``drivercam`` subcommands ``annotate``, ``live`` and ``info``.

Part of the command line (:mod:`drivercam.cli` parses the arguments, sets up
logging and signals, and turns errors into exit codes); each ``run_*`` takes
the parsed arguments and returns an exit status.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import sys
import time
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Any

import numpy as np

from drivercam.api import Monitor, RunOutputs, class_ids_of, prediction_record, resolve_class
from drivercam.cli import EXIT_OK, MODEL_ENV, PROG, _interrupted_status, _report_error
from drivercam.errors import PipelineError, SourceError
from drivercam.report import recorder_from_args
from drivercam.types import Result

logger = logging.getLogger(__name__)


def _model_path(args: argparse.Namespace, explicit: str | None = None) -> Path:
    from drivercam.model import default_model_path

    chosen = explicit or args.model or os.environ.get(MODEL_ENV)
    return Path(chosen) if chosen else default_model_path()


def _overlay_options(args: argparse.Namespace, cam_class: int | None = None) -> Any:
    from drivercam.overlay import OverlayOptions

    kwargs: dict[str, Any] = {"show_heatmap": not args.no_heatmap, "cam_class": cam_class}
    if args.alpha is not None:
        if not 0.0 <= args.alpha <= 1.0:  # also rejects nan
            raise ValueError(f"--alpha must be in [0, 1], got {args.alpha!r}; e.g. --alpha 0.45")
        kwargs["alpha"] = args.alpha
    if args.colormap is not None:
        kwargs["colormap"] = args.colormap
    if args.top_k is not None:
        kwargs["top_k"] = args.top_k
    return OverlayOptions(**kwargs)


def _cam_class(spec: str | None, labels: Sequence[str], class_ids: Sequence[str]) -> int | None:
    """``--cam-class`` as a class index (None: show the predicted class)."""
    if spec is None:
        return None
    try:
        return resolve_class(spec, labels, class_ids)
    except ValueError as error:
        raise ValueError(f"--cam-class {error}") from error


def _render(result: Result, options: Any, labels: Sequence[str], *, fps: float | None = None,
            dropped: int | None = None) -> np.ndarray:
    from drivercam.overlay import render_overlay

    image: np.ndarray = render_overlay(
        result.frame.image, result.prediction.probs, result.prediction.cams, labels, options,
        fps=fps, inference_ms=result.inference_ms, dropped=dropped,
    )
    return image


class _Progress:
    """A one-line progress bar with ETA on a terminal; silent elsewhere."""

    def __init__(self, total: int | None, stream: IO[str], *, min_interval_s: float = 0.25) -> None:
        self.total = total
        self.stream = stream
        self.enabled = bool(total) and _isatty(stream)
        self.min_interval_s = min_interval_s
        self.start = time.monotonic()
        self.last = -math.inf

    def update(self, done: int, *, force: bool = False) -> None:
        if not self.enabled or self.total is None:
            return
        now = time.monotonic()
        if not force and now - self.last < self.min_interval_s:
            return
        self.last = now
        elapsed = now - self.start
        rate = done / elapsed if elapsed > 0 else 0.0
        total = max(self.total, done)
        eta = (total - done) / rate if rate > 0 else 0.0
        width = 30
        filled = int(width * done / total) if total else width
        bar = "#" * filled + "-" * (width - filled)
        self.stream.write(
            f"\r[{bar}] {done}/{total} {100 * done / total:5.1f}% {rate:5.1f} fps ETA {_clock(eta)} "
        )
        self.stream.flush()

    def finish(self, done: int) -> None:
        if self.enabled:
            self.update(done, force=True)
            self.stream.write("\n")
            self.stream.flush()


def _isatty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60:02d}:{rest % 60:02d}"


# -- annotate -------------------------------------------------------------------


def run_annotate(args: argparse.Namespace) -> int:
    _overlay_options(args)  # bad --alpha / --colormap fail before anything is opened
    spec = args.input
    if spec.isdigit() or spec.startswith(("/dev/video", "rtsp://", "rtmp://", "http://", "https://")):
        raise ValueError(
            f"annotate needs a video file or an image folder, got {spec!r}; use 'drivercam live --source {spec}'"
        )
    if Path(args.output).resolve() == Path(spec).resolve():
        raise ValueError(f"output {args.output!r} would overwrite the input; choose another -o path")
    monitor = Monitor(
        spec, _model_path(args), device=args.device, threads=args.threads, workers=args.workers, fps=args.fps,
        live=False, batch_size=args.batch_size, queue_size=max(8, 2 * args.batch_size),
    )
    started = time.monotonic()  # throughput of the run itself, not of loading the model
    source = monitor.source
    labels = monitor.labels
    class_ids = class_ids_of(monitor.classifier)
    with ExitStack() as stack:
        stack.callback(monitor.close)
        options = _overlay_options(args, _cam_class(args.cam_class, labels, class_ids))
        recorder = recorder_from_args(args, labels, class_ids, subtitle=spec)
        stack.callback(recorder.close)  # an interrupted run still gets its event log and report
        has_audio = bool(getattr(source, "has_audio", False))
        outputs = stack.enter_context(RunOutputs(
            args.output, args.predictions, fps=float(source.fps) or 15.0,
            audio_from=getattr(source, "path", spec) if has_audio else None,
            width=getattr(source, "width", None), height=getattr(source, "height", None),
            fragmented=bool(args.fragmented),
        ))
        total = source.frame_count
        if args.max_frames is not None:
            total = min(total, args.max_frames) if total else args.max_frames
        progress = _Progress(total, sys.stderr)
        failure: PipelineError | None = None
        try:
            with monitor:
                for result in monitor:
                    smoothed = recorder.observe(result)  # the prediction log keeps the raw scores
                    image = recorder.annotate(_render(smoothed, options, labels), result.frame.index)
                    outputs.write(image, result.frame.time_s, prediction_record(result, class_ids, spec))
                    progress.update(outputs.written)
                    if args.max_frames is not None and outputs.written >= args.max_frames:
                        break
        except PipelineError as error:
            failure = error
        except KeyboardInterrupt as interrupt:
            progress.finish(outputs.written)
            stack.close()
            print(f"{PROG}: interrupted{_written(outputs, args.output)}", file=sys.stderr)
            return _interrupted_status(interrupt)
        progress.finish(outputs.written)
        summary = recorder.finish()
    elapsed = time.monotonic() - started
    rate = outputs.written / elapsed if elapsed > 0 else 0.0
    if failure is not None:
        return _report_error(failure, args.verbose, _written(outputs, args.output))
    if outputs.written == 0:
        raise SourceError(f"no frames could be read from {spec}; is it a valid video or image folder?")
    skipped = len(getattr(source, "skipped", ()))
    note = f" (skipped {skipped} unreadable images; -v names them)" if skipped else ""
    print(f"annotated {outputs.written} frames in {elapsed:.1f} s ({rate:.1f} fps) -> {args.output}{note}")
    if summary:
        print(summary)
    return EXIT_OK


# -- live ------------------------------------------------------------------------


def run_live(args: argparse.Namespace) -> int:
    _overlay_options(args)
    spec: str | int = int(args.source) if args.source.isdigit() else args.source
    monitor = Monitor(
        spec, _model_path(args), device=args.device, threads=args.threads,
        width=args.width, height=args.height, fps=args.fps, live=True,
    )
    labels = monitor.labels
    class_ids = class_ids_of(monitor.classifier)
    shown = 0
    failure: PipelineError | None = None
    with ExitStack() as stack:
        stack.callback(monitor.close)
        options = _overlay_options(args, _cam_class(args.cam_class, labels, class_ids))
        recorder = recorder_from_args(args, labels, class_ids, subtitle=str(args.source))
        stack.callback(recorder.close)
        window = None
        if not args.no_window:
            from drivercam.sinks import WindowSink

            window = WindowSink(f"{PROG} - q or Esc to quit")
            stack.callback(window.close)
        outputs = stack.enter_context(
            RunOutputs(args.output, args.predictions, fps=float(monitor.source.fps) or 30.0,
                       fragmented=args.fragmented is not False)
        )
        started = time.monotonic()
        deadline = started + args.max_seconds if args.max_seconds else math.inf
        try:
            with monitor:
                # Results arrive at most at the source's frame rate (stale frames
                # are dropped upstream), so drawing each one keeps up with it.
                for result in monitor:
                    stats = monitor.stats
                    smoothed = recorder.observe(result)
                    image = recorder.annotate(
                        _render(smoothed, options, labels, fps=stats.fps, dropped=stats.dropped), result.frame.index
                    )
                    shown += 1
                    if window is not None and not window.show(image):
                        break
                    outputs.write(image, result.frame.time_s,
                                  prediction_record(result, class_ids, str(args.source)))
                    if time.monotonic() >= deadline:
                        break
        except PipelineError as error:
            failure = error
        except KeyboardInterrupt as interrupt:
            stack.close()
            print(f"{PROG}: interrupted after {shown} frames{_written(outputs, args.output)}", file=sys.stderr)
            return _interrupted_status(interrupt)
        stats = monitor.stats
        summary = recorder.finish()
    if failure is not None:
        return _report_error(failure, args.verbose, _written(outputs, args.output))
    elapsed = time.monotonic() - started
    saved = f" -> {args.output}" if args.output else ""
    print(
        f"showed {shown} frames in {elapsed:.1f} s ({shown / elapsed if elapsed > 0 else 0.0:.1f} fps), "
        f"dropped {stats.dropped} stale frames{saved}"
    )
    if summary:
        print(summary)
    return EXIT_OK


def _written(outputs: RunOutputs, path: str | None) -> str:
    return f"; wrote {outputs.written} frames to {path}" if path else ""


# -- info ------------------------------------------------------------------------


def run_info(args: argparse.Namespace) -> int:
    from drivercam.model import OnnxClassifier, available_providers

    path = _model_path(args, args.model_path)
    classifier = OnnxClassifier(path, device=args.device, intra_op_threads=args.threads)
    labels = tuple(classifier.labels)
    class_ids = class_ids_of(classifier)
    height, width = classifier.input_size
    cam_h, cam_w = classifier.cam_size
    lines = [
        f"model: {classifier.path}",
        f"classes: {len(labels)}",
        *(f"  {i:2d}  {cid:<4} {label}" for i, (cid, label) in enumerate(zip(class_ids, labels))),
        f"input size: {width}x{height} (width x height)",
        f"cam size: {cam_w}x{cam_h} (width x height)",
        f"feature stride: {classifier.feature_stride}",
        f"colour order: {classifier.color_order}",
        "metadata:",
        *(f"  {key}: {value}" for key, value in sorted(classifier.metadata.items())),
        f"available providers: {', '.join(available_providers())}",
        f"chosen providers ({args.device}): {', '.join(classifier.providers)}",
    ]
    print("\n".join(lines))
    return EXIT_OK
