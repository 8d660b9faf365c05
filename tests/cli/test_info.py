"""Tests for drivercam.cli.info."""

from __future__ import annotations

from pathlib import Path

import pytest

from drivercam.cli.main import main
from drivercam.model import CUDA, provider_works

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
    lines = out.splitlines()
    compiled = next(x for x in lines if x.startswith("providers compiled into ONNX Runtime: "))
    loads = next(x for x in lines if x.startswith("providers that load on this machine: "))
    assert "CPUExecutionProvider" in compiled and "CPUExecutionProvider" in loads
    # What is compiled in but does not load (CUDA and TensorRT on a GPU build without a GPU) is named apart.
    names = compiled.split(": ", 1)[1].split(", ")
    loading = loads.split(": ", 1)[1].split(", ")
    broken = [n for n in names if n not in loading]
    if broken:
        assert f"compiled in but not loading here: {', '.join(broken)} (" in out
    else:
        assert "not loading here" not in out
    assert lines[-1] == "chosen providers (auto): CPUExecutionProvider" or provider_works(CUDA)


# -- bad input ------------------------------------------------------------------------
