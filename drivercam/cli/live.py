"""``drivercam live``: monitor a camera, a stream or a file played as a camera, in real time."""

from __future__ import annotations

import argparse
import math
import sys
import time
from contextlib import ExitStack
from typing import Any

from drivercam.cli.annotate import written_note
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
from drivercam.errors import PipelineError
from drivercam.monitoring.monitor import Monitor
from drivercam.picture import as_bgr
from drivercam.render.frame import FrameRenderer
from drivercam.sinks.jsonl import prediction_record
from drivercam.sinks.outputs import RunOutputs


def add_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add ``live`` to the subcommands."""
    live = commands.add_parser(
        "live",
        parents=[common],
        help="monitor a camera, stream or file in real time",
        description="Monitor a camera (or a stream, or a file played as a camera) in real time.",
    )
    live.add_argument(
        "--source",
        default="0",
        help="camera index, /dev/video*, rtsp/http URL, or a video file played in real time (default: 0)",
    )
    live.add_argument("--width", type=count("--width"), help="requested camera width")
    live.add_argument("--height", type=count("--height"), help="requested camera height")
    live.add_argument("--fps", type=positive("--fps", "a frame rate"), help="requested camera frame rate")
    live.add_argument("--no-window", action="store_true", help="do not open a window")
    live.add_argument(
        "--max-seconds", type=positive("--max-seconds", "a number of seconds"), metavar="S", help="stop after S seconds"
    )
    live.add_argument("--output", metavar="OUT.mp4", help="also record the annotated video")
    live.add_argument(
        "--fragmented",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="record a fragmented MP4 that plays up to the last 2 s even after a crash or power cut "
        "(default: on for live recordings)",
    )
    live.add_argument("--predictions", metavar="P.jsonl", help="write one JSON line per frame shown")
    add_roi_argument(live)
    add_episode_arguments(live)


def run(args: argparse.Namespace) -> int:
    """Monitor ``args.source`` until it ends, the window closes or time is up; return the exit status."""
    overlay_options(args)
    check_episode_options(args)
    spec: str | int = int(args.source) if args.source.isdigit() else args.source
    monitor = Monitor(
        spec,
        model_path(args),
        device=args.device,
        threads=args.threads,
        width=args.width,
        height=args.height,
        fps=args.fps,
        live=True,
        roi=args.roi,
    )
    labels = monitor.labels
    class_ids = monitor.class_ids
    shown = 0
    failure: PipelineError | None = None
    with ExitStack() as stack:
        stack.callback(monitor.close)
        render = FrameRenderer(
            labels, overlay_options(args, cam_class_option(args.cam_class, labels, class_ids)), roi=monitor.roi
        )
        session = session_from_args(args, labels, class_ids, subtitle=str(args.source))
        stack.callback(session.close)
        window = None
        if not args.no_window:
            from drivercam.sinks.window import WindowSink

            window = WindowSink(f"{PROG} - q or Esc to quit")
            stack.callback(window.close)
        outputs = stack.enter_context(
            RunOutputs(
                args.output,
                args.predictions,
                fps=float(monitor.source.fps) or 30.0,
                fragmented=args.fragmented is not False,
            )
        )
        started = time.monotonic()
        deadline = started + args.max_seconds if args.max_seconds else math.inf
        try:
            with monitor:
                # Results arrive at most at the source's frame rate (stale frames
                # are dropped upstream), so drawing each one keeps up with it.
                # Nothing shows or records the picture: skip drawing it (the episodes,
                # alerts, event log and prediction log do not need it).
                draw = window is not None or args.output is not None or session.needs_pictures
                for result in monitor:
                    stats = monitor.stats
                    smoothed = session.observe(result)
                    image = (
                        session.annotate(render(smoothed, fps=stats.fps, dropped=stats.dropped), result.frame.index)
                        if draw
                        else session.annotate(None, result.frame.index)
                    )
                    shown += 1
                    if window is not None and image is not None and not window.show(as_bgr(image)):
                        break
                    outputs.write(image, result.frame.time_s, prediction_record(result, class_ids, str(args.source)))
                    if time.monotonic() >= deadline:
                        break
        except PipelineError as error:
            failure = error
        except KeyboardInterrupt as interrupt:
            stack.close()
            print(f"{PROG}: interrupted after {shown} frames{written_note(outputs, args.output)}", file=sys.stderr)
            return interrupted_status(interrupt)
        stats = monitor.stats
        summary = session.finish()
    if failure is not None:
        return report_error(failure, args.verbose, written_note(outputs, args.output))
    elapsed = time.monotonic() - started
    saved = f" -> {args.output}" if args.output else ""
    print(
        f"showed {shown} frames in {elapsed:.1f} s ({shown / elapsed if elapsed > 0 else 0.0:.1f} fps), "
        f"dropped {stats.dropped} stale frames{saved}"
    )
    if summary:
        print(summary)
    return EXIT_OK
