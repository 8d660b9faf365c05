"""``drivercam annotate``: every frame of a video file or image folder into an H.264 MP4."""

from __future__ import annotations

import argparse
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from drivercam.cli.exits import EXIT_OK, PROG, interrupted_status, report_error
from drivercam.cli.options import (
    add_episode_arguments,
    add_roi_argument,
    cam_class_option,
    check_episode_options,
    count,
    model_path,
    overlay_options,
    positive,
    session_from_args,
)
from drivercam.cli.progress import ProgressBar
from drivercam.errors import PipelineError, SourceError
from drivercam.monitoring.monitor import Monitor
from drivercam.render.frame import FrameRenderer
from drivercam.sinks.jsonl import prediction_record
from drivercam.sinks.outputs import RunOutputs
from drivercam.sources import ImageFolderSource, VideoFileSource, source_kind

# One frame per ONNX Runtime call: with the pool threads no longer spinning, batches
# of 4 made annotate slower on a 2-core CPU (EfficientNet-Lite0, 640x480 clip,
# medians of 3 interleaved rounds: 39.0 vs 34.5 fps at 2 intra-op threads, 40.3
# vs 37.5 at 1; benchmarks/README.md). Accelerators may gain from --batch-size.
DEFAULT_BATCH = 1


def add_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add ``annotate`` to the subcommands."""
    annotate = commands.add_parser(
        "annotate",
        parents=[common],
        help="annotate a video file or image folder into an MP4",
        description="Annotate every frame of a video file or image folder/glob into an H.264 MP4 "
        "(input audio and timing kept).",
    )
    annotate.add_argument("input", metavar="INPUT", help="video file, image folder, or quoted glob")
    annotate.add_argument("-o", "--output", required=True, metavar="OUTPUT.mp4", help="annotated MP4 to write")
    annotate.add_argument(
        "--fragmented",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="write a fragmented MP4 that plays up to the last 2 s even if the process is killed outright "
        "(Ctrl-C and SIGTERM always close the file properly)",
    )
    annotate.add_argument(
        "--predictions",
        metavar="P.jsonl",
        help="write one JSON object per frame: frame, time_s, class_index, class_id, label, confidence, "
        "probs (class id -> probability, every class), source (image path or input), inference_ms",
    )
    annotate.add_argument("--max-frames", type=count("--max-frames"), metavar="N", help="stop after N frames")
    annotate.add_argument("--fps", type=positive("--fps", "a frame rate"), help="frame rate for an image folder")
    annotate.add_argument(
        "--batch-size",
        type=count("--batch-size"),
        default=DEFAULT_BATCH,
        metavar="N",
        help=f"frames per inference call (default: {DEFAULT_BATCH})",
    )
    annotate.add_argument(
        "--workers",
        type=count("--workers"),
        metavar="N",
        help="inference threads, each running its own frames (default: 2 on a CPU with 2+ cores, else 1)",
    )
    add_roi_argument(annotate)
    add_episode_arguments(annotate)


def written_note(outputs: RunOutputs, path: str | None) -> str:
    """``; wrote N frames to PATH`` for the line that ends an interrupted or failed run."""
    if not path:
        return ""
    return f"; wrote {outputs.written} frames to {path}" if outputs.written else f"; {path} was not written"


def run(args: argparse.Namespace) -> int:
    """Annotate ``args.input`` into ``args.output``; return the exit status."""
    overlay_options(args)  # a bad --colormap fails before anything is opened
    check_episode_options(args)
    spec = args.input
    if source_kind(spec) != "file":
        raise ValueError(
            f"annotate needs a video file or an image folder, got {spec!r}; use 'drivercam live --source {spec}'"
        )
    if Path(args.output).resolve() == Path(spec).resolve():
        raise ValueError(f"output {args.output!r} would overwrite the input; choose another -o path")
    monitor = Monitor(
        spec,
        model_path(args),
        device=args.device,
        threads=args.threads,
        workers=args.workers,
        fps=args.fps,
        live=False,
        batch_size=args.batch_size,
        queue_size=max(8, 2 * args.batch_size),
        roi=args.roi,
    )
    started = time.monotonic()  # throughput of the run itself, not of loading the model
    source = monitor.source
    labels = monitor.labels
    class_ids = monitor.class_ids
    with ExitStack() as stack:
        stack.callback(monitor.close)
        render = FrameRenderer(
            labels, overlay_options(args, cam_class_option(args.cam_class, labels, class_ids)), roi=monitor.roi
        )
        session = session_from_args(args, labels, class_ids, subtitle=spec)
        stack.callback(session.close)  # an interrupted run still gets its event log and report
        outputs = stack.enter_context(
            RunOutputs(
                args.output,
                args.predictions,
                fps=float(source.fps) or 15.0,
                audio_from=source.audio_path,
                width=source.width,
                height=source.height,
                fragmented=bool(args.fragmented),
            )
        )
        total = source.frame_count
        if args.max_frames is not None:
            total = min(total, args.max_frames) if total else args.max_frames
        progress = ProgressBar(total, sys.stderr)
        failure: PipelineError | None = None
        try:
            with monitor:
                for result in monitor:
                    smoothed = session.observe(result)  # the prediction log keeps the raw scores
                    image = session.annotate(render(smoothed), result.frame.index)
                    outputs.write(image, result.frame.time_s, prediction_record(result, class_ids, spec))
                    progress.update(outputs.written)
                    if args.max_frames is not None and outputs.written >= args.max_frames:
                        break
        except PipelineError as error:
            failure = error
        except KeyboardInterrupt as interrupt:
            progress.finish(outputs.written)
            stack.close()
            print(f"{PROG}: interrupted{written_note(outputs, args.output)}", file=sys.stderr)
            return interrupted_status(interrupt)
        progress.finish(outputs.written)
        summary = session.finish()
    elapsed = time.monotonic() - started
    rate = outputs.written / elapsed if elapsed > 0 else 0.0
    if failure is not None:
        return report_error(failure, args.verbose, written_note(outputs, args.output))
    if outputs.written == 0:
        raise SourceError(f"no frames could be read from {spec}; is it a valid video or image folder?")
    skipped = len(source.skipped) if isinstance(source, ImageFolderSource) else 0
    note = f" (skipped {skipped} unreadable images; -v names them)" if skipped else ""
    repaired = source.timeline.total if isinstance(source, VideoFileSource) else 0
    if repaired:
        note += f" (repaired the timestamps of {repaired} frames so time goes forward; -v says where)"
    print(f"annotated {outputs.written} frames in {elapsed:.1f} s ({rate:.1f} fps) -> {args.output}{note}")
    if summary:
        print(summary)
    return EXIT_OK
