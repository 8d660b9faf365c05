"""The entry point: build the parser, set up logging and SIGTERM, run a subcommand, map errors to exit codes.

Exit codes are in :mod:`drivercam.cli.exits`. Environment variables:
``DRIVERCAM_MODEL`` is the default for ``--model``.

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
import signal
import sys
import threading
from collections.abc import Callable, Sequence

from drivercam.cli import annotate, batch, bench, info, live
from drivercam.cli.exits import (
    EXIT_ERROR,
    EXIT_USAGE,
    PROG,
    USER_ERRORS,
    interrupted_status,
    raise_terminated,
    report_error,
)
from drivercam.cli.options import OptionError, common_options
from drivercam.errors import describe

logger = logging.getLogger(__name__)

_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "live": live.run,
    "annotate": annotate.run,
    "info": info.run,
    "bench": bench.run,
    "batch": batch.run,
}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with the ``live``, ``annotate``, ``info``, ``bench`` and ``batch`` subcommands."""
    common = common_options()
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Real-time driver-distraction monitor with class activation maps.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    live.add_parser(commands, common)
    annotate.add_parser(commands, common)
    info.add_parser(commands, common)
    bench.add_parser(commands)
    batch.add_parser(commands, common)
    return parser


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("drivercam")
    except PackageNotFoundError:
        return "unknown"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line.

    Args:
        argv: arguments without the program name; None reads ``sys.argv``.

    Returns:
        The exit status (see :mod:`drivercam.cli.exits`).
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help, --version, or a usage error
        return exit_.code if isinstance(exit_.code, int) else EXIT_USAGE
    except OptionError as error:  # a value out of range, found while parsing
        return report_error(error, 0)
    _configure_logging(args.verbose)
    # Without this, SIGTERM kills the process before the MP4's index is written.
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, raise_terminated)
    try:
        return _COMMANDS[args.command](args)
    except KeyboardInterrupt as interrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return interrupted_status(interrupt)
    except USER_ERRORS as error:
        return report_error(error, args.verbose)
    except Exception as error:  # a bug: still one line (the traceback with -v); the files were closed on the way
        if args.verbose:
            logger.error("details", exc_info=error)
        what = f"{type(error).__name__}: {describe(error)}"
        print(f"{PROG}: error: internal error ({what}); please report it with the output of -v", file=sys.stderr)
        return EXIT_ERROR
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


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
