"""ONNX Runtime itself: the install check, execution providers, the lazy import.

The only place drivercam imports ``onnxruntime``, lazily, so ``import
drivercam`` stays cheap and works where ONNX Runtime is broken (the CLI can
then report the broken install instead of a traceback).
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import importlib.metadata
import io
import logging
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from types import ModuleType

from drivercam.errors import ModelError

logger = logging.getLogger(__name__)

CPU = "CPUExecutionProvider"
CUDA = "CUDAExecutionProvider"
TENSORRT = "TensorrtExecutionProvider"
DEVICES: dict[str, str] = {
    "cpu": CPU,
    "cuda": CUDA,
    "tensorrt": TENSORRT,
    "openvino": "OpenVINOExecutionProvider",
    "coreml": "CoreMLExecutionProvider",
    "directml": "DmlExecutionProvider",
    "rocm": "ROCMExecutionProvider",
}
# Distributions that all install the `onnxruntime` module; at most one may be present.
ORT_DISTRIBUTIONS = (
    "onnxruntime",
    "onnxruntime-gpu",
    "onnxruntime-directml",
    "onnxruntime-openvino",
    "onnxruntime-silicon",
    "onnxruntime-qnn",
    "onnxruntime-rocm",
)

ProviderSpec = str | tuple[str, dict[str, str]]

# A 65-byte ONNX model (opset 13, IR 7): y = Relu(x), x float[1]. Serialised once
# with onnx.helper, kept as bytes because the runtime does not depend on `onnx`;
# tests/test_model.py checks that these bytes are that model.
PROBE_MODEL = (
    b'\x08\x07:7\n\x0c\n\x01x\x12\x01y"\x04Relu\x12\x05probeZ\x0f\n\x01x\x12\n\n\x08\x08\x01'
    b"\x12\x04\n\x02\x08\x01b\x0f\n\x01y\x12\n\n\x08\x08\x01\x12\x04\n\x02\x08\x01B\x04\n\x00\x10\r"
)
# ONNX Runtime's default logging severity (0 verbose .. 4 fatal); there is no getter.
_ORT_DEFAULT_SEVERITY = 2
_FIX_INSTALL = (
    "fix: pip uninstall -y {names} && pip install onnxruntime-gpu "
    "(NVIDIA GPU on Linux/Windows x86-64; it runs on the CPU too) or pip install onnxruntime (anything else)"
)


# --------------------------------------------------------------------------- install


def installed_onnxruntime_distributions() -> list[str]:
    """Names of the installed distributions that provide the ``onnxruntime`` module."""
    found = set()
    for dist in importlib.metadata.distributions():
        name = (dist.metadata["Name"] or "").lower().replace("_", "-")
        if name in ORT_DISTRIBUTIONS:
            found.add(name)
    return sorted(found)


def check_onnxruntime_install(
    *,
    distributions: Iterable[str] | None = None,
    import_module: Callable[[str], ModuleType] = importlib.import_module,
) -> ModuleType:
    """Return the ``onnxruntime`` module, or raise ModelError saying how to repair it.

    Catches the two classic breakages: two ONNX Runtime builds installed at once
    (both provide ``onnxruntime``; the last one installed silently wins, and
    uninstalling either deletes files of the other) and a module that fails to import.

    Args:
        distributions: installed distribution names (default: ask importlib.metadata).
        import_module: the importer, injectable for tests.
    """
    names = sorted(installed_onnxruntime_distributions() if distributions is None else distributions)
    if len(names) > 1:
        raise ModelError(
            f"several ONNX Runtime builds are installed at once ({', '.join(names)}) and they overwrite "
            f"each other; {_FIX_INSTALL.format(names=' '.join(names))}"
        )
    try:
        return import_module("onnxruntime")
    except ImportError as e:
        reinstall = " ".join(names) or "onnxruntime onnxruntime-gpu"
        raise ModelError(f"cannot import onnxruntime ({e}); {_FIX_INSTALL.format(names=reinstall)}") from e


@functools.lru_cache(maxsize=1)
def import_onnxruntime() -> ModuleType:
    """The ``onnxruntime`` module, after :func:`check_onnxruntime_install` (once)."""
    return check_onnxruntime_install()


def available_providers() -> list[str]:
    """Execution providers this ONNX Runtime build offers (not necessarily usable)."""
    return list(import_onnxruntime().get_available_providers())


def split_providers(
    available: Iterable[str] | None = None, works: Callable[[str], bool] | None = None
) -> tuple[list[str], list[str]]:
    """The providers compiled into this build, split into those that load here and those that do not.

    A GPU build lists CUDA and TensorRT on a machine without a GPU or without
    their libraries; each provider is probed (:func:`provider_works`) to tell.

    Args:
        available: provider names (default: :func:`available_providers`).
        works: the probe (default: :func:`provider_works`), injectable for tests.

    Returns:
        (providers that load, providers compiled in that do not), each in the build's order.
    """
    names = available_providers() if available is None else list(available)
    probe = provider_works if works is None else works
    loads = [name for name in names if probe(name)]
    return loads, [name for name in names if name not in loads]


# --------------------------------------------------------------------------- providers


@contextlib.contextmanager
def _quiet_ort() -> Iterator[None]:
    """Silence ONNX Runtime while probing: a CPU-only machine with onnxruntime-gpu
    otherwise prints library-load errors, and the Python wrapper prints its
    provider fallback to stdout."""
    ort = import_onnxruntime()
    ort.set_default_logger_severity(4)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            yield
    finally:
        ort.set_default_logger_severity(_ORT_DEFAULT_SEVERITY)


@functools.cache
def provider_works(provider: str) -> bool:
    """Whether ``provider`` really runs here: listed *and* its libraries load.

    A GPU build lists CUDA and TensorRT even without a GPU or CUDA libraries;
    only creating a session shows whether they load. Probed quietly on a tiny
    in-memory model, once per process.
    """
    if provider == CPU:
        return True
    ort = import_onnxruntime()
    if provider not in ort.get_available_providers():
        return False
    options = ort.SessionOptions()
    options.log_severity_level = 4
    fallback = [CUDA, CPU] if provider == TENSORRT else [CPU]
    with _quiet_ort():
        try:
            session = ort.InferenceSession(PROBE_MODEL, sess_options=options, providers=[provider, *fallback])
        # ORT raises its own Exception subclasses (Fail, EPFail, ...), none a RuntimeError.
        except Exception as e:
            logger.debug("probing %s failed: %s", provider, e)
            return False
        works = provider in session.get_providers()
    logger.debug("probed %s: %s", provider, "works" if works else "does not load")
    return works


def default_trt_cache_dir() -> Path:
    return Path.home() / ".cache" / "drivercam" / "trt"


def _provider_name(device: str) -> str:
    if device in DEVICES:
        return DEVICES[device]
    if device.endswith("ExecutionProvider"):
        return device
    raise ModelError(f"unknown device {device!r}; use auto, {', '.join(DEVICES)} or a full ONNX Runtime provider name")


def resolve_providers(
    device: str = "auto",
    *,
    trt_cache_dir: str | Path | None = None,
    trt_fp16: bool = False,
) -> list[ProviderSpec]:
    """Turn a device name into the provider list for ``InferenceSession``.

    Args:
        device: ``auto``, one of ``cpu cuda tensorrt openvino coreml directml rocm``,
            or a full provider name such as ``"CUDAExecutionProvider"``. ``auto``
            picks CUDA when it really works here and the CPU otherwise; it never
            picks TensorRT, whose first run builds an engine for minutes.
        trt_cache_dir: TensorRT engine and timing cache folder
            (default ``~/.cache/drivercam/trt``).
        trt_fp16: let TensorRT run in float16.

    Returns:
        Provider names or ``(name, options)`` pairs, best first, CPU last as fallback.

    Raises:
        ModelError: the device is unknown, not offered by this ONNX Runtime build,
            or offered but unable to load (missing CUDA/cuDNN/TensorRT libraries).
    """
    if not isinstance(device, str):
        raise TypeError(f"device must be a str, got {type(device).__name__}")
    device = device.strip()
    if device.lower() == "auto":
        return [CUDA, CPU] if provider_works(CUDA) else [CPU]
    name = _provider_name(device.lower() if device.lower() in DEVICES else device)
    available = available_providers()
    if name not in available:
        raise ModelError(
            f"device {device!r} ({name}) is not available in this ONNX Runtime build; available: {', '.join(available)}"
        )
    if not provider_works(name):
        raise ModelError(
            f"{name} is in this ONNX Runtime build but failed to load (no GPU, driver or CUDA/cuDNN/TensorRT "
            f"libraries?); install what ONNX Runtime's requirements page lists or use --device cpu"
        )
    if name == CPU:
        return [CPU]
    if name == TENSORRT:
        cache = Path(trt_cache_dir) if trt_cache_dir is not None else default_trt_cache_dir()
        trt_options = {
            "trt_engine_cache_enable": "True",
            "trt_engine_cache_path": str(cache),
            "trt_timing_cache_enable": "True",
            "trt_timing_cache_path": str(cache),
            "trt_fp16_enable": "True" if trt_fp16 else "False",
        }
        tail: list[ProviderSpec] = [CUDA, CPU] if provider_works(CUDA) else [CPU]
        return [(TENSORRT, trt_options), *tail]
    return [name, CPU]


def spec_name(spec: ProviderSpec) -> str:
    """The provider name of a provider list entry."""
    return spec if isinstance(spec, str) else spec[0]


def runs_on_cpu(device: str = "auto") -> bool:
    """Whether ``device`` resolves to ONNX Runtime's CPU provider here (see :func:`resolve_providers`)."""
    return spec_name(resolve_providers(device)[0]) == CPU
