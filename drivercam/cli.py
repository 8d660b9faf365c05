"""The ``drivercam`` command line: ``live``, ``annotate``, ``info`` and ``bench``.

This module and :mod:`drivercam.commands` (the subcommands) are the only ones
that read ``argv`` and environment variables, write to stdout and decide exit
codes:

* 0: success;
* 1: a problem with the input, the model, an output or an option value: one
  line ``drivercam: error: ...`` on stderr (a traceback too with ``-v``);
* 2: a usage error (unknown option, missing argument), reported by argparse;
* 130: interrupted with Ctrl-C; 143: stopped with SIGTERM (e.g. ``kill``, a
  service manager, ``timeout``). Either way the MP4 written so far is closed and
  playable.

Environment variables: ``DRIVERCAM_MODEL`` is the default for ``--model``.

Prediction log (``--predictions P.jsonl``): one JSON object per annotated
frame, in frame order::

    {"frame": 12, "time_s": 0.8, "class_index": 3, "class_id": "c3",
     "label": "texting - left hand", "confidence": 0.91,
     "probs": {"c0": 0.01, "c1": 0.02, ...}, "source": "clip.mp4",
     "inference_ms": 7.5}

``probs`` maps every class id to its probability, in the model's class order.
``source`` is the image path for image folders and the input path otherwise.
"""

from __future__ import annotations

import argparse
import logging
import math
import signal
import sys
import threading
from collections.abc import Sequence

from drivercam import bench
from drivercam.errors import DrivercamError, describe
from drivercam.report import add_episode_arguments

logger = logging.getLogger(__name__)

PROG = "drivercam"
MODEL_ENV = "DRIVERCAM_MODEL"
EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143  # 128 + SIGTERM, as shells report it


class Terminated(KeyboardInterrupt):
    """SIGTERM, turned into an interrupt so the run stops and closes its files as on Ctrl-C."""


def _on_sigterm(signum: int, frame: object) -> None:
    raise Terminated


def _interrupted_status(interrupt: KeyboardInterrupt) -> int:
    return EXIT_TERMINATED if isinstance(interrupt, Terminated) else EXIT_INTERRUPTED
# One frame per ONNX Runtime call: with the pool threads no longer spinning, batches
# of 4 made annotate slower on a 2-core CPU (EfficientNet-Lite0, 640x480 clip,
# medians of 3 interleaved rounds: 39.0 vs 34.5 fps at 2 intra-op threads, 40.3
# vs 37.5 at 1; benchmarks/README.md). Accelerators may gain from --batch-size.
DEFAULT_BATCH = 1

# Problems a user can fix by changing the input, the model, an option or a path.
_USER_ERRORS = (DrivercamError, ValueError, OSError)


# -- argument parsing ---------------------------------------------------------


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not value > 0 or not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def _common_options() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    model = common.add_argument_group("model")
    model.add_argument(
        "--model", metavar="PATH",
        help=f"drivercam ONNX model (default: ${MODEL_ENV}, else models/drivercam.onnx)",
    )
    model.add_argument(
        "--device", default="auto",
        help="ONNX Runtime device: auto, cpu, cuda, tensorrt, openvino, coreml, directml, rocm, "
        "or a provider name (default: auto)",
    )
    model.add_argument(
        "--threads", type=_positive_int, metavar="N",
        help="ONNX Runtime intra-op threads per inference thread (default: decided from the cores)",
    )
    overlay = common.add_argument_group("overlay")
    overlay.add_argument("--alpha", type=float, help="heatmap opacity in [0, 1]")
    overlay.add_argument("--colormap", help="OpenCV colormap name, e.g. jet, turbo, inferno")
    overlay.add_argument("--no-heatmap", action="store_true", help="draw labels only, no class activation map")
    overlay.add_argument(
        "--cam-class", metavar="CLASS",
        help="show the map of this class (index, class id or label) instead of the predicted one",
    )
    overlay.add_argument("--top-k", type=_positive_int, metavar="K", help="number of class bars to draw")
    common.add_argument(
        "-v", "--verbose", action="count", default=0,
        help="show warnings and progress details (-vv: debug); tracebacks on errors",
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with the ``live``, ``annotate``, ``info`` and ``bench`` subcommands."""
    common = _common_options()
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Real-time driver-distraction monitor with class activation maps.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    live = commands.add_parser(
        "live", parents=[common], help="monitor a camera, stream or file in real time",
        description="Monitor a camera (or a stream, or a file played as a camera) in real time.",
    )
    live.add_argument(
        "--source", default="0",
        help="camera index, /dev/video*, rtsp/http URL, or a video file played in real time (default: 0)",
    )
    live.add_argument("--width", type=_positive_int, help="requested camera width")
    live.add_argument("--height", type=_positive_int, help="requested camera height")
    live.add_argument("--fps", type=_positive_float, help="requested camera frame rate")
    live.add_argument("--no-window", action="store_true", help="do not open a window")
    live.add_argument("--max-seconds", type=_positive_float, metavar="S", help="stop after S seconds")
    live.add_argument("--output", metavar="OUT.mp4", help="also record the annotated video")
    live.add_argument(
        "--fragmented", action=argparse.BooleanOptionalAction, default=None,
        help="record a fragmented MP4 that plays up to the last 2 s even after a crash or power cut "
        "(default: on for live recordings)",
    )
    live.add_argument("--predictions", metavar="P.jsonl", help="write one JSON line per frame shown")
    add_episode_arguments(live)

    annotate = commands.add_parser(
        "annotate", parents=[common], help="annotate a video file or image folder into an MP4",
        description="Annotate every frame of a video file or image folder/glob into an H.264 MP4 "
        "(input audio and timing kept).",
    )
    annotate.add_argument("input", metavar="INPUT", help="video file, image folder, or quoted glob")
    annotate.add_argument("-o", "--output", required=True, metavar="OUTPUT.mp4", help="annotated MP4 to write")
    annotate.add_argument(
        "--fragmented", action=argparse.BooleanOptionalAction, default=False,
        help="write a fragmented MP4 that plays up to the last 2 s even if the process is killed outright "
        "(Ctrl-C and SIGTERM always close the file properly)",
    )
    annotate.add_argument(
        "--predictions", metavar="P.jsonl",
        help="write one JSON object per frame: frame, time_s, class_index, class_id, label, confidence, "
        "probs (class id -> probability, every class), source (image path or input), inference_ms",
    )
    annotate.add_argument("--max-frames", type=_positive_int, metavar="N", help="stop after N frames")
    annotate.add_argument("--fps", type=_positive_float, help="frame rate for an image folder")
    annotate.add_argument(
        "--batch-size", type=_positive_int, default=DEFAULT_BATCH, metavar="N",
        help=f"frames per inference call (default: {DEFAULT_BATCH})",
    )
    annotate.add_argument(
        "--workers", type=_positive_int, metavar="N",
        help="inference threads, each running its own frames (default: 2 on a CPU with 2+ cores, else 1)",
    )

    add_episode_arguments(annotate)

    info = commands.add_parser(
        "info", parents=[common], help="show a model's labels, sizes, metadata and providers",
        description="Show a model's labels, input and CAM sizes, metadata and execution providers.",
    )
    info.add_argument("model_path", nargs="?", metavar="MODEL", help="model to describe (default: --model)")
    bench.add_parser(commands)
    return parser


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("drivercam")
    except PackageNotFoundError:
        return "unknown"


# -- entry point ----------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line.

    Args:
        argv: arguments without the program name; None reads ``sys.argv``.

    Returns:
        The exit status (see the module docstring).
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help, --version, or a usage error
        return exit_.code if isinstance(exit_.code, int) else EXIT_USAGE
    _configure_logging(args.verbose)
    from drivercam import commands as run  # imports this module's exit codes

    commands = {"live": run.run_live, "annotate": run.run_annotate, "info": run.run_info, "bench": bench.run}
    # Without this, SIGTERM kills the process before the MP4's index is written.
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        return commands[args.command](args)
    except KeyboardInterrupt as interrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return _interrupted_status(interrupt)
    except _USER_ERRORS as error:
        return _report_error(error, args.verbose)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _report_error(error: BaseException, verbose: int, suffix: str = "") -> int:
    if verbose:
        logger.error("details", exc_info=error)
    print(f"{PROG}: error: {_one_line(error)}{suffix}", file=sys.stderr)
    return EXIT_ERROR


def _one_line(error: BaseException) -> str:
    if isinstance(error, OSError) and error.filename is not None and error.strerror:
        return f"{error.strerror}: {error.filename}"
    return describe(error)


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at emit time (works under redirection)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def _configure_logging(verbose: int) -> None:
    package = logging.getLogger("drivercam")
    for handler in list(package.handlers):
        if isinstance(handler, _StderrHandler):
            package.removeHandler(handler)
    handler = _StderrHandler()
    handler.setFormatter(logging.Formatter(f"{PROG}: %(levelname)s: %(message)s"))
    package.addHandler(handler)
    package.propagate = False
    # Without -v only errors are logged: problems that end a run are reported
    # once, as the single "drivercam: error:" line, not again as a warning.
    package.setLevel(logging.ERROR if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG)
    _quiet_opencv(verbose)


def _quiet_opencv(verbose: int) -> None:
    """Silence OpenCV's native log lines (e.g. every backend's failure to open a
    missing camera) unless -v asks for details; drivercam reports the problem itself."""
    import cv2

    levels = cv2.utils.logging
    if verbose == 0:
        levels.setLogLevel(levels.LOG_LEVEL_SILENT)
    else:
        levels.setLogLevel(levels.LOG_LEVEL_WARNING if verbose == 1 else levels.LOG_LEVEL_DEBUG)


# -- shared helpers ---------------------------------------------------------------
