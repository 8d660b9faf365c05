"""Exit codes, SIGTERM as an interrupt, and the one-line error a run ends with.

* 0: success;
* 1: a problem with the input, the model, an output or an option value (a
  number out of range, two options that contradict each other; checked before
  the model loads, see :mod:`drivercam.cli.options`): one line
  ``drivercam: error: ...`` on stderr (a traceback too with ``-v``); a bug
  too ends this way, its line saying "internal error";
* 2: a usage error (unknown option, missing argument, a value that is not
  even a number), reported by argparse with the usage line;
* 130: interrupted with Ctrl-C; 143: stopped with SIGTERM (e.g. ``kill``, a
  service manager, ``timeout``). Either way the MP4 written so far is closed and
  playable.
"""

from __future__ import annotations

import logging
import sys

from drivercam.errors import DrivercamError, describe

logger = logging.getLogger(__name__)

PROG = "drivercam"
EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143  # 128 + SIGTERM, as shells report it

# Problems a user can fix by changing the input, the model, an option or a path.
USER_ERRORS = (DrivercamError, ValueError, OSError)


class Terminated(KeyboardInterrupt):
    """SIGTERM, turned into an interrupt so the run stops and closes its files as on Ctrl-C."""


def raise_terminated(signum: int, frame: object) -> None:
    """A SIGTERM handler: stop the run as Ctrl-C would."""
    raise Terminated


def interrupted_status(interrupt: KeyboardInterrupt) -> int:
    """The exit code of a run stopped by ``interrupt``: 143 for SIGTERM, 130 for Ctrl-C."""
    return EXIT_TERMINATED if isinstance(interrupt, Terminated) else EXIT_INTERRUPTED


def report_error(error: BaseException, verbose: int, suffix: str = "") -> int:
    """Print ``drivercam: error: ...`` (and the traceback with ``-v``); return exit code 1."""
    if verbose:
        logger.error("details", exc_info=error)
    print(f"{PROG}: error: {one_line(error)}{suffix}", file=sys.stderr)
    return EXIT_ERROR


def one_line(error: BaseException) -> str:
    """The error's text on one line; for a failed system call, its reason and the file."""
    if isinstance(error, OSError) and error.filename is not None and error.strerror:
        return f"{error.strerror}: {error.filename}"
    return describe(error)
