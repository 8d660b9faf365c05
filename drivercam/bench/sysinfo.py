"""What a benchmark ran on: CPU, memory, GPU and driver, library versions, model hash.

Everything here is best effort and never raises for a missing piece of
information: an unknown value is ``None``. ``nvidia-smi`` is asked (with a
timeout) only when it is on ``PATH``.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import logging
import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

# Distributions whose versions decide the numbers; the first ONNX Runtime build found is reported.
LIBRARIES = (
    "drivercam",
    "numpy",
    "opencv-python",
    "opencv-python-headless",
    "opencv-contrib-python",
    "av",
    "onnxruntime",
    "onnxruntime-gpu",
    "onnxruntime-openvino",
    "onnxruntime-directml",
)
_NVIDIA_SMI_QUERY = "name,driver_version,memory.total"


def cpu_model(cpuinfo: str | Path = "/proc/cpuinfo") -> str | None:
    """The CPU's marketing name (``model name`` in /proc/cpuinfo), else ``platform.processor()``."""
    try:
        for line in Path(cpuinfo).read_text(errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() in ("model name", "Hardware", "cpu model") and value.strip():
                return value.strip()
    except OSError:
        pass
    return platform.processor() or None


def usable_cores() -> int | None:
    """CPU cores this process may run on (the affinity mask, which containers narrow)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count()


def memory_total_mb(meminfo: str | Path = "/proc/meminfo") -> float | None:
    """Physical memory in MB, from /proc/meminfo or ``sysconf``."""
    try:
        for line in Path(meminfo).read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024.0, 1)
    except (OSError, ValueError, IndexError):
        pass
    try:
        return round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**20, 1)
    except (ValueError, OSError, AttributeError):
        return None


def rss_mb(statm: str | Path = "/proc/self/statm") -> float | None:
    """This process's resident memory now, in MB (Linux; None elsewhere)."""
    try:
        pages = int(Path(statm).read_text().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def parse_nvidia_smi(text: str) -> list[dict[str, str]]:
    """Parse ``nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader``."""
    gpus = []
    for line in text.splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) >= 3 and parts[0]:
            gpus.append({"name": parts[0], "driver": parts[1], "memory": parts[2]})
    return gpus


def gpus(
    *,
    which: Callable[[str], str | None] = shutil.which,
    run: Callable[..., subprocess.CompletedProcess[str]] = subprocess.run,
    timeout_s: float = 10.0,
) -> list[dict[str, str]]:
    """NVIDIA GPUs and their driver, via ``nvidia-smi`` when it is on PATH; [] otherwise."""
    exe = which("nvidia-smi")
    if exe is None:
        return []
    try:
        done = run(
            [exe, f"--query-gpu={_NVIDIA_SMI_QUERY}", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        logger.info("nvidia-smi did not answer: %s", e)
        return []
    if done.returncode != 0:
        logger.info("nvidia-smi failed (exit %d): %s", done.returncode, done.stderr.strip())
        return []
    return parse_nvidia_smi(done.stdout)


def library_versions(names: Sequence[str] = LIBRARIES) -> dict[str, str]:
    """Installed versions of the libraries that decide the numbers (absent ones left out)."""
    versions = {"python": platform.python_version()}
    for name in names:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


def machine_info() -> dict[str, Any]:
    """CPU model, cores, memory, OS and GPUs of this machine."""
    return {
        "cpu": cpu_model(),
        "cores": usable_cores(),
        "logical_cpus": os.cpu_count(),
        "memory_mb": memory_total_mb(),
        "os": platform.platform(),
        "machine": platform.machine(),
        "python": sys.version.split()[0],
        "gpus": gpus(),
    }


def sha256_of(path: str | Path, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()
