"""Tests for drivercam.bench.sysinfo: machine facts parsed from /proc and nvidia-smi output."""

from __future__ import annotations

import subprocess
from pathlib import Path

from drivercam.bench import sysinfo

# -- statistics -------------------------------------------------------------------


def test_machine_info_parsers(tmp_path: Path) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: Example CPU @ 2.00GHz\n")
    assert sysinfo.cpu_model(cpuinfo) == "Example CPU @ 2.00GHz"
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       2097152 kB\nMemFree: 1 kB\n")
    assert sysinfo.memory_total_mb(meminfo) == 2048.0
    text = "NVIDIA H100 80GB HBM3, 550.54.15, 81559 MiB\n"
    assert sysinfo.parse_nvidia_smi(text) == [
        {"name": "NVIDIA H100 80GB HBM3", "driver": "550.54.15", "memory": "81559 MiB"}
    ]


def test_gpus_asks_nvidia_smi_only_when_on_path() -> None:
    calls: list[list[str]] = []

    def fake_run(cmd: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        calls.append(cmd)
        assert kwargs["timeout"] == 10.0
        return subprocess.CompletedProcess(cmd, 0, "GPU A, 535.1, 24 GiB\n", "")

    assert sysinfo.gpus(which=lambda name: None, run=fake_run) == []
    assert calls == []
    found = sysinfo.gpus(which=lambda name: "/usr/bin/nvidia-smi", run=fake_run)
    assert found == [{"name": "GPU A", "driver": "535.1", "memory": "24 GiB"}]
    assert calls[0][0] == "/usr/bin/nvidia-smi"


# -- real runs on a tiny model ------------------------------------------------------
