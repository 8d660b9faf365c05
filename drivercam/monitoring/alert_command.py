"""Running a user's shell command on episode events, off the caller's thread."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import signal
import subprocess
import threading
import time
from collections.abc import Iterable, Sequence
from types import TracebackType

from drivercam.events import EVENT_KINDS, Event

__all__ = ["AlertCommand"]

logger = logging.getLogger(__name__)

_STOP = object()


class AlertCommand:
    """Runs a user's shell command for each alert, in the background.

    The event's JSON (:meth:`Event.to_dict`) goes to the command's stdin. One
    worker thread runs the commands one after another; :meth:`send` never
    blocks (a full queue drops the event and logs a warning). A command that
    outlives ``timeout_s`` is killed; a failure is logged, never raised.

    Args:
        command: a shell command line, e.g. ``"notify-send drivercam"``.
        timeout_s: seconds each run may take.
        kinds: which event kinds trigger the command.
        max_pending: queued events beyond this are dropped.
    """

    def __init__(
        self, command: str, *, timeout_s: float = 10.0, kinds: Sequence[str] = ("alert",), max_pending: int = 8
    ) -> None:
        if not isinstance(command, str) or not command.strip():
            raise ValueError(f"command must be a non-empty shell command, got {command!r}")
        if not timeout_s > 0:
            raise ValueError(f"timeout_s must be > 0, got {timeout_s!r}")
        bad = [k for k in kinds if k not in EVENT_KINDS]
        if bad:
            raise ValueError(f"unknown event kinds {bad}; choose from {EVENT_KINDS}")
        if max_pending < 1:
            raise ValueError(f"max_pending must be >= 1, got {max_pending!r}")
        self.command = command
        self.timeout_s = float(timeout_s)
        self.kinds = tuple(kinds)
        self.succeeded = 0
        self.failed = 0
        self.dropped = 0
        self._queue: queue.Queue[object] = queue.Queue(maxsize=max_pending)
        self._stop = threading.Event()
        self._proc: subprocess.Popen[bytes] | None = None
        self._thread = threading.Thread(target=self._run, name="drivercam-alert-command", daemon=True)
        self._thread.start()

    def send(self, events: Iterable[Event]) -> None:
        """Queue the matching events; returns at once."""
        for event in events:
            if event.kind not in self.kinds:
                continue
            if self._stop.is_set():
                raise RuntimeError("AlertCommand is closed")
            try:
                self._queue.put_nowait(json.dumps(event.to_dict(), allow_nan=False))
            except queue.Full:
                self.dropped += 1
                logger.warning("alert command still busy; dropped the %s event at %.1f s", event.kind, event.time_s)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                item = self._queue.get(timeout=0.1)
            except queue.Empty:
                continue
            if item is _STOP:
                return
            assert isinstance(item, str)
            self._run_one(item)

    def _run_one(self, payload: str) -> None:
        try:
            proc = self._proc = subprocess.Popen(
                self.command,
                shell=True,
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                # Its own process group, so a kill reaches what the shell started too.
                start_new_session=os.name == "posix",
            )
        except OSError as e:
            self.failed += 1
            logger.warning("could not start alert command %r: %s", self.command, e)
            return
        try:
            _, err = proc.communicate(payload.encode("utf-8"), timeout=self.timeout_s)
        except subprocess.TimeoutExpired:
            _kill(proc)
            try:
                proc.communicate(timeout=2.0)
            except subprocess.TimeoutExpired:
                logger.warning("alert command %r did not exit after kill", self.command)
            self.failed += 1
            logger.warning("alert command %r ran past %.1f s and was killed", self.command, self.timeout_s)
            return
        if proc.returncode != 0:
            self.failed += 1
            tail = err.decode("utf-8", "replace").strip().splitlines()[-1:] if err else []
            logger.warning(
                "alert command %r exited with %d%s", self.command, proc.returncode, f": {tail[0]}" if tail else ""
            )
        else:
            self.succeeded += 1

    def close(self, timeout_s: float | None = None) -> None:
        """Let queued commands finish, for at most ``timeout_s``, then stop.

        Args:
            timeout_s: how long to wait in all; default one command timeout
                plus 2 s. A command still running then is killed and the
                events still queued are dropped (and logged).
        """
        if self._stop.is_set():
            return
        deadline = time.monotonic() + (self.timeout_s + 2.0 if timeout_s is None else timeout_s)
        with contextlib.suppress(queue.Full):
            self._queue.put(_STOP, timeout=max(0.0, deadline - time.monotonic()))
        self._thread.join(timeout=max(0.0, deadline - time.monotonic()))
        self._stop.set()
        if self._thread.is_alive():
            proc = self._proc
            if proc is not None and proc.poll() is None:
                _kill(proc)
            self._thread.join(timeout=3.0)
            logger.warning(
                "alert command %r still busy at exit; stopped it, dropped %d queued event(s)",
                self.command,
                self._queue.qsize(),
            )

    def __enter__(self) -> AlertCommand:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _kill(proc: subprocess.Popen[bytes]) -> None:
    """Kill the command and everything it started (its process group on POSIX)."""
    if os.name == "posix":
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    else:
        proc.kill()
