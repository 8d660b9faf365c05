"""Tests for drivercam.model.runtime: execution providers, device names and install checks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import onnx
import pytest
from support.model_inputs import resized, sample_frames
from support.tiny_models import (
    TinyModel,
)

from drivercam.errors import ModelError
from drivercam.model import (
    CPU,
    CUDA,
    PROBE_MODEL,
    TENSORRT,
    OnnxClassifier,
    available_providers,
    check_onnxruntime_install,
    installed_onnxruntime_distributions,
    provider_works,
    resolve_providers,
    runtime,
    split_providers,
)

# -- parity with the numpy recomputation


def test_probe_model_bytes_are_a_valid_relu_model() -> None:
    proto = onnx.load_from_string(PROBE_MODEL)
    onnx.checker.check_model(proto)
    assert [n.op_type for n in proto.graph.node] == ["Relu"]
    import onnxruntime as ort

    session = ort.InferenceSession(PROBE_MODEL, providers=[CPU])
    (y,) = session.run(None, {"x": np.array([-2.0], np.float32)})
    assert y.tolist() == [0.0]


def _no_gpu_visible() -> bool:
    return not any(Path("/dev").glob("nvidia[0-9]*"))


@pytest.mark.skipif(not _no_gpu_visible(), reason="a GPU is visible here")
def test_auto_is_cpu_here_and_quiet() -> None:
    code = "from drivercam.model import resolve_providers, OnnxClassifier; print(resolve_providers('auto'))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "['CPUExecutionProvider']"
    assert done.stderr == ""  # no CUDA library-load errors sprayed on a CPU-only machine


def test_auto_uses_cuda_exactly_when_it_works() -> None:
    assert resolve_providers("auto") == ([CUDA, CPU] if provider_works(CUDA) else [CPU])
    assert provider_works(CPU)
    assert not provider_works("NoSuchExecutionProvider")


def test_auto_with_faked_working_cuda(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runtime, "provider_works", lambda name: name in (CPU, CUDA))
    assert resolve_providers("auto") == [CUDA, CPU]
    assert not runtime.runs_on_cpu("auto") and runtime.runs_on_cpu("cpu")
    monkeypatch.setattr(runtime, "provider_works", lambda name: name == CPU)
    assert resolve_providers("auto") == [CPU]
    assert runtime.runs_on_cpu("auto")


def test_explicit_devices_map_to_providers(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    every = [TENSORRT, CUDA, "OpenVINOExecutionProvider", "DmlExecutionProvider", CPU]
    monkeypatch.setattr(runtime, "available_providers", lambda: list(every))
    monkeypatch.setattr(runtime, "provider_works", lambda name: True)
    assert resolve_providers("cpu") == [CPU]
    assert resolve_providers("CUDA") == [CUDA, CPU]
    assert resolve_providers("CUDAExecutionProvider") == [CUDA, CPU]
    assert resolve_providers("openvino") == ["OpenVINOExecutionProvider", CPU]
    assert resolve_providers("directml") == ["DmlExecutionProvider", CPU]
    specs = resolve_providers("tensorrt", trt_cache_dir=tmp_path / "trt", trt_fp16=True)
    assert specs[1:] == [CUDA, CPU]
    name, options = specs[0]
    assert name == TENSORRT
    assert options["trt_engine_cache_enable"] == "True"
    assert options["trt_engine_cache_path"] == str(tmp_path / "trt")
    assert options["trt_fp16_enable"] == "True"


def test_tensorrt_cache_defaults_under_the_home_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(runtime, "available_providers", lambda: [TENSORRT, CUDA, CPU])
    monkeypatch.setattr(runtime, "provider_works", lambda name: True)
    monkeypatch.setattr(Path, "home", classmethod(lambda cls: tmp_path))
    (_, options), *_ = resolve_providers("tensorrt")
    assert options["trt_engine_cache_path"] == str(tmp_path / ".cache" / "drivercam" / "trt")
    assert options["trt_fp16_enable"] == "False"


def test_split_providers_separates_compiled_in_from_loading() -> None:
    build = [TENSORRT, CUDA, CPU]
    assert split_providers(build, lambda name: name == CPU) == ([CPU], [TENSORRT, CUDA])
    assert split_providers(build, lambda name: name != TENSORRT) == ([CUDA, CPU], [TENSORRT])
    # On this machine: the CPU always loads, and every listed provider lands on exactly one side.
    loads, broken = split_providers()
    assert CPU in loads and sorted(loads + broken) == sorted(runtime.available_providers())
    assert all(provider_works(name) for name in loads) and not any(provider_works(name) for name in broken)


def test_unknown_and_unavailable_devices() -> None:
    with pytest.raises(ModelError, match="unknown device 'gpu2'; use auto, cpu, cuda"):
        resolve_providers("gpu2")
    with pytest.raises(ModelError, match=r"not available.*available: .*CPUExecutionProvider"):
        resolve_providers("FooExecutionProvider")
    if "CoreMLExecutionProvider" not in available_providers():
        with pytest.raises(ModelError, match="'coreml'.*not available"):
            resolve_providers("coreml")
    with pytest.raises(TypeError):
        resolve_providers(0)  # type: ignore[arg-type]


def test_explicit_cuda_loads_or_fails_with_a_clear_error(tiny_model: TinyModel) -> None:
    if CUDA not in available_providers():
        with pytest.raises(ModelError, match="not available"):
            OnnxClassifier(tiny_model.path, device="cuda")
    elif not provider_works(CUDA):
        with pytest.raises(ModelError, match="failed to load.*--device cpu"):
            OnnxClassifier(tiny_model.path, device="cuda")
    else:
        clf = OnnxClassifier(tiny_model.path, device="cuda")
        assert clf.providers[0] == CUDA
        frames = sample_frames(2)
        np.testing.assert_allclose(clf(frames)[0], tiny_model.probs(resized(frames, 48, 64)), atol=1e-4)


# -- install checks and default path


def test_this_install_is_sound() -> None:
    assert len(installed_onnxruntime_distributions()) == 1
    assert hasattr(check_onnxruntime_install(), "InferenceSession")


def test_both_onnxruntime_builds_installed_is_reported() -> None:
    with pytest.raises(ModelError, match="pip uninstall -y onnxruntime onnxruntime-gpu && pip install") as info:
        check_onnxruntime_install(distributions=["onnxruntime-gpu", "onnxruntime"])
    assert "\n" not in str(info.value)


def test_onnxruntime_import_failure_is_reported() -> None:
    def broken(name: str) -> ModuleType:
        raise ImportError("libonnxruntime.so: cannot open shared object file")

    with pytest.raises(ModelError, match="cannot import onnxruntime.*pip uninstall -y onnxruntime-gpu") as info:
        check_onnxruntime_install(distributions=["onnxruntime-gpu"], import_module=broken)
    assert isinstance(info.value.__cause__, ImportError)
