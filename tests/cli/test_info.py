"""Tests for drivercam.cli.info."""

from __future__ import annotations

from pathlib import Path

import pytest

from drivercam.cli.main import main

# -- annotate ---------------------------------------------------------------------


def test_info_describes_the_model(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["info", str(files["model"])])
    out = capsys.readouterr().out
    assert code == 0
    assert "safe driving" in out and "talking to passenger" in out
    assert "input size: 64x48" in out
    assert "cam size: 4x3" in out
    assert "feature stride: 16" in out
    assert "colour order: BGR" in out
    assert "drivercam_contract: 1" in out
    assert "CPUExecutionProvider" in out


# -- bad input ------------------------------------------------------------------------
