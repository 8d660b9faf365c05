"""Tests for drivercam.monitoring.alert_command: a user's shell command run on alerts, in the background."""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from pathlib import Path

import pytest
from support.episode_signals import between, run
from support.tiny_models import SHORT_LABELS

from drivercam.events import Event
from drivercam.monitoring.alert_command import AlertCommand
from drivercam.monitoring.episode_config import EpisodeConfig

LABELS = SHORT_LABELS
EU_HIGH = EpisodeConfig.from_preset("eu-high-speed")


# Hand-computed timings below use round numbers: warning at 3.5 s (the presets
# alert 0.5 s earlier, see test_config_presets_overrides_and_validation).
TIMING = EpisodeConfig(onset_s=1.0, warning_s=3.5, cooldown_s=3.0, release_s=1.0)


def _alert_events(n: int) -> list[Event]:
    events, _ = run(between(0.0, 3.5 + 3.0 * (n - 1) + 0.1), fps=15, duration_s=4.0 + 3.0 * n)
    alerts = [e for e in events if e.kind == "alert"]
    assert len(alerts) == n
    return events


def _py(code: str, tmp_path: Path, name: str) -> str:
    script = tmp_path / f"{name}.py"
    script.write_text(code)
    return f'"{sys.executable}" "{script}"'


@pytest.mark.timeout(30)
def test_alert_command_receives_event_json_on_stdin(tmp_path: Path) -> None:
    out = tmp_path / "got.jsonl"
    cmd = _py(f"import sys\nopen({str(out)!r}, 'a').write(sys.stdin.read() + '\\n')\n", tmp_path, "sink")
    events = _alert_events(2)
    with AlertCommand(cmd, timeout_s=10.0) as command:
        command.send(events)  # starts/ends are filtered out
    got = [json.loads(x) for x in out.read_text().splitlines()]
    assert [g["type"] for g in got] == ["alert", "alert"]
    assert [g["alert_number"] for g in got] == [1, 2]
    assert command.succeeded == 2 and command.failed == 0


@pytest.mark.timeout(30)
@pytest.mark.skipif(os.name != "posix", reason="process groups are POSIX")
def test_alert_command_kill_reaches_the_process_the_shell_started(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    child = _py(
        f"import os, time\nopen({str(pid_file)!r}, 'w').write(str(os.getpid()))\ntime.sleep(30)\n", tmp_path, "child"
    )
    command = AlertCommand(f"{child}; true", timeout_s=10.0)  # a shell that does not exec the child
    command.send(_alert_events(1))
    deadline = time.monotonic() + 10
    while not (pid_file.exists() and pid_file.read_text()) and time.monotonic() < deadline:
        time.sleep(0.05)
    command.close(timeout_s=0.2)  # still running: killed
    pid = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        # A killed child stays a zombie until its parent reaps it; that is gone too.
        stat = Path(f"/proc/{pid}/stat")
        if stat.exists() and stat.read_text().split()[2] == "Z":
            break
        time.sleep(0.05)
    else:
        pytest.fail(f"the command's child {pid} outlived the kill")


def test_alert_command_never_blocks_and_failures_are_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    slow = _py("import time\ntime.sleep(20)\n", tmp_path, "slow")
    events = _alert_events(3)
    command = AlertCommand(slow, timeout_s=0.5, max_pending=1)
    t0 = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="drivercam.monitoring.alert_command"):
        command.send(events)
        sent_in = time.monotonic() - t0
        command.close()
    assert sent_in < 0.2
    assert time.monotonic() - t0 < 6.0  # killed at its timeout, not after 20 s
    assert command.failed >= 1 and command.dropped >= 1
    assert "killed" in caplog.text

    # A command that would outlive the program is killed at close.
    caplog.clear()
    started = tmp_path / "started"
    hanging = _py(f"import pathlib, time\npathlib.Path({str(started)!r}).touch()\ntime.sleep(20)\n", tmp_path, "hang")
    hung = AlertCommand(hanging, timeout_s=60.0)
    t0 = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="drivercam.monitoring.alert_command"):
        hung.send(events)
        while not started.exists():  # the command is running, not merely queued
            time.sleep(0.01)
        hung.close(timeout_s=0.5)
    assert time.monotonic() - t0 < 5.0
    assert hung._proc is not None and hung._proc.poll() is not None
    assert "still busy at exit" in caplog.text

    caplog.clear()
    failing = _py("import sys\nsys.stderr.write('no speaker\\n')\nsys.exit(3)\n", tmp_path, "fail")
    with caplog.at_level(logging.WARNING, logger="drivercam.monitoring.alert_command"):
        with AlertCommand(failing, timeout_s=5.0) as command:
            command.send(events[:2])
    assert command.failed == 1 and command.succeeded == 0
    assert "exited with 3: no speaker" in caplog.text
    with pytest.raises(ValueError, match="command"):
        AlertCommand("  ")


# -- alert overlay ------------------------------------------------------------------
