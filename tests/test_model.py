from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import cv2
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper
from tiny_models import (
    STATEFARM_LABELS,
    TinyModel,
    build_tiny_model_proto,
    default_metadata,
    make_tiny_model,
)

import drivercam.model.classifier as classifier_mod
from drivercam.errors import ModelError
from drivercam.model import (
    CPU,
    CUDA,
    PROBE_MODEL,
    REQUIRED_METADATA,
    TENSORRT,
    OnnxClassifier,
    available_providers,
    check_io,
    check_onnxruntime_install,
    check_output_shapes,
    default_model_path,
    installed_onnxruntime_distributions,
    parse_metadata,
    provider_works,
    resolve_providers,
    runtime,
)
from drivercam.types import Classifier

REPO_ROOT = Path(__file__).resolve().parent.parent


def _frames(n: int, h: int = 240, w: int = 320, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (h, w, 3), dtype=np.uint8) for _ in range(n)]


def _resized(frames: list[np.ndarray], h: int, w: int) -> np.ndarray:
    """Independent of drivercam.preprocess: what the model should be fed (BGR)."""
    out = []
    for f in frames:
        interp = cv2.INTER_AREA if f.shape[0] >= h and f.shape[1] >= w else cv2.INTER_LINEAR
        out.append(cv2.resize(f, (w, h), interpolation=interp))
    return np.stack(out)


def _cpu(path: Path, **kwargs: object) -> OnnxClassifier:
    return OnnxClassifier(path, device="cpu", intra_op_threads=1, **kwargs)  # type: ignore[arg-type]


# -- parity with the numpy recomputation


@pytest.mark.parametrize("color_order", ["BGR", "RGB"])
def test_probs_and_cams_match_numpy(tmp_path: Path, color_order: str) -> None:
    tiny = make_tiny_model(tmp_path / "m.onnx", color_order=color_order)
    frames = _frames(3)
    probs, cams = _cpu(tiny.path, max_batch=3)(frames)
    fed = _resized(frames, tiny.height, tiny.width)
    if color_order == "RGB":
        fed = fed[..., ::-1]
    assert probs.dtype == np.float32 and cams.dtype == np.float32
    assert probs.shape == (3, 10) and cams.shape == (3, 10, 3, 4)
    np.testing.assert_allclose(probs, tiny.probs(fed), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(cams, tiny.cams(fed), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)


def test_bgr_and_rgb_models_agree_on_the_same_frames(tmp_path: Path) -> None:
    bgr = _cpu(make_tiny_model(tmp_path / "bgr.onnx", color_order="BGR", seed=3).path)
    rgb = _cpu(make_tiny_model(tmp_path / "rgb.onnx", color_order="RGB", seed=3).path)
    frames = _frames(2, seed=5)
    for a, b in zip(bgr(frames), rgb(frames)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


def test_size_not_a_multiple_of_the_stride_rounds_the_cam_up(tmp_path: Path) -> None:
    tiny = make_tiny_model(tmp_path / "m.onnx", height=50, width=70, stride=16)
    clf = _cpu(tiny.path)
    assert clf.cam_size == (4, 5) == tiny.cam_size
    frames = _frames(1, 100, 140)
    probs, cams = clf(frames)
    fed = _resized(frames, 50, 70)
    np.testing.assert_allclose(probs, tiny.probs(fed), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(cams, tiny.cams(fed), rtol=1e-4, atol=1e-4)


def test_logits_model_is_softmaxed_and_cams_average_to_the_logits(tmp_path: Path) -> None:
    tiny = make_tiny_model(tmp_path / "m.onnx", scores="logits", num_classes=4)
    clf = _cpu(tiny.path)
    assert clf.labels == ("class 0", "class 1", "class 2", "class 3")
    fed = np.random.default_rng(4).integers(0, 256, (2, 48, 64, 3), dtype=np.uint8)
    probs, cams = clf.run_batch(fed)
    np.testing.assert_allclose(probs, tiny.probs(fed), rtol=1e-4, atol=1e-6)
    # Global average pooling is linear: mean_xy CAM_c + b_c is the class logit.
    logits = cams.mean(axis=(2, 3)) + tiny.linear_bias
    np.testing.assert_allclose(logits, tiny.logits(fed), rtol=1e-4, atol=1e-4)


def test_run_batch_and_call_agree_at_input_size(tiny_model: TinyModel) -> None:
    clf = _cpu(tiny_model.path)
    frames = _frames(2, 48, 64)
    for a, b in zip(clf(frames), clf.run_batch(np.stack(frames))):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match=r"uint8 \(N, 48, 64, 3\)"):
        clf.run_batch(np.zeros((1, 64, 48, 3), np.uint8))


def test_batch_larger_than_max_batch_and_empty_batch(tiny_model: TinyModel) -> None:
    clf = _cpu(tiny_model.path, max_batch=1)
    frames = _frames(4)
    probs, cams = clf(frames)
    assert probs.shape == (4, 10) and cams.shape == (4, 10, 3, 4)
    np.testing.assert_allclose(probs, tiny_model.probs(_resized(frames, 48, 64)), rtol=1e-4, atol=1e-6)
    probs, cams = clf([])
    assert probs.shape == (0, 10) and cams.shape == (0, 10, 3, 4)


def test_concurrent_calls_do_not_mix_frames(tiny_model: TinyModel) -> None:
    clf = _cpu(tiny_model.path)
    frames = _frames(8, seed=9)
    expected = [clf([f])[0] for f in frames]
    results: dict[int, np.ndarray] = {}

    def work(i: int) -> None:
        for _ in range(20):
            results[i] = clf([frames[i]])[0]
            np.testing.assert_array_equal(results[i], expected[i])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(frames))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(results) == len(frames)
    for i, r in results.items():
        np.testing.assert_array_equal(r, expected[i])


def test_properties_and_protocol(tiny_model: TinyModel, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="drivercam.model"):
        clf = _cpu(tiny_model.path)
    assert isinstance(clf, Classifier)
    assert clf.path == tiny_model.path
    assert clf.labels == STATEFARM_LABELS
    assert clf.class_ids == tuple(f"c{i}" for i in range(10))
    assert clf.input_size == (48, 64) and clf.cam_size == (3, 4)
    assert clf.color_order == "BGR" and clf.feature_stride == 16
    assert clf.metadata["architecture"].startswith("tiny test model")
    assert clf.providers == (CPU,)
    assert any("CPUExecutionProvider" in r.getMessage() for r in caplog.records if r.levelno == logging.INFO)


def test_thread_settings_are_validated(tiny_model: TinyModel) -> None:
    assert _cpu(tiny_model.path).providers == (CPU,)
    OnnxClassifier(tiny_model.path, device="cpu", intra_op_threads=2, inter_op_threads=1)
    with pytest.raises(ValueError, match="intra_op_threads"):
        OnnxClassifier(tiny_model.path, device="cpu", intra_op_threads=-1)


# -- ModelError: files


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"model file not found: .*nope\.onnx; pass --model"):
        OnnxClassifier(tmp_path / "nope.onnx", device="cpu")


def test_directory_instead_of_file(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="is not a file"):
        OnnxClassifier(tmp_path, device="cpu")


def test_unreadable_file_as_reported_by_the_os(
    tiny_model: TinyModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(classifier_mod.os, "access", lambda path, mode: False)
    with pytest.raises(ModelError, match="is not readable; fix its permissions"):
        OnnxClassifier(tiny_model.path, device="cpu")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file(tiny_model: TinyModel) -> None:
    tiny_model.path.chmod(0)
    try:
        with pytest.raises(ModelError, match="not readable"):
            OnnxClassifier(tiny_model.path, device="cpu")
    finally:
        tiny_model.path.chmod(0o644)


@pytest.mark.parametrize("content", [b"this is not an onnx model\n", b""])
def test_not_onnx(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "fake.onnx"
    path.write_bytes(content)
    with pytest.raises(ModelError, match="ONNX Runtime cannot load") as info:
        OnnxClassifier(path, device="cpu")
    assert "\n" not in str(info.value) and info.value.__cause__ is not None


def test_truncated_onnx(tiny_model: TinyModel) -> None:
    data = tiny_model.path.read_bytes()
    tiny_model.path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelError, match="cannot load"):
        OnnxClassifier(tiny_model.path, device="cpu")


# -- ModelError: metadata


@pytest.mark.parametrize("key", list(REQUIRED_METADATA))
def test_missing_metadata_key(tmp_path: Path, key: str) -> None:
    tiny = make_tiny_model(tmp_path / "m.onnx", metadata={key: None})
    with pytest.raises(ModelError, match=f"metadata lacks '{key}'.*re-export"):
        OnnxClassifier(tiny.path, device="cpu")


@pytest.mark.parametrize(
    "overrides, match",
    [
        ({"drivercam_contract": "2"}, "contract '2'"),
        ({"class_ids": "c0, c1"}, "'class_ids' is not valid JSON"),
        ({"labels": "[]"}, "'labels' must be a non-empty JSON list"),
        ({"labels": json.dumps([1, 2])}, "'labels' must be a non-empty JSON list of strings"),
        ({"labels": json.dumps(list(STATEFARM_LABELS[:9]))}, "10 class_ids but 9 labels"),
        ({"color_order": "YUV"}, "'color_order' must be BGR or RGB, got 'YUV'"),
        ({"scores": "softmax"}, "'scores' must be 'probs' or 'logits'"),
        ({"feature_stride": "0"}, "'feature_stride' must be a positive integer, got '0'"),
        ({"input_height": "tall"}, "'input_height' must be a positive integer"),
        ({"normalization": "{"}, "'normalization' is not valid JSON"),
        ({"normalization": json.dumps({"applied": "runtime"})}, "in_graph"),
    ],
)
def test_malformed_metadata(tmp_path: Path, overrides: dict[str, str], match: str) -> None:
    tiny = make_tiny_model(tmp_path / "m.onnx", metadata=overrides)
    with pytest.raises(ModelError, match=match) as info:
        OnnxClassifier(tiny.path, device="cpu")
    assert "\n" not in str(info.value)


def test_metadata_size_disagreeing_with_the_input(tmp_path: Path) -> None:
    tiny = make_tiny_model(tmp_path / "m.onnx", metadata={"input_height": "50"})
    with pytest.raises(ModelError, match=r"shape \['N', 48, 64, 3\], expected \(N, 50, 64, 3\)"):
        OnnxClassifier(tiny.path, device="cpu")


def test_label_count_disagreeing_with_the_outputs(tmp_path: Path) -> None:
    meta = {"class_ids": json.dumps(["a", "b"]), "labels": json.dumps(["a", "b"])}
    tiny = make_tiny_model(tmp_path / "m.onnx", metadata=meta)
    with pytest.raises(ModelError, match="'probs' has 10 classes but the metadata lists 2 labels"):
        OnnxClassifier(tiny.path, device="cpu")


def test_stride_disagreeing_with_the_cams(tmp_path: Path) -> None:
    tiny = make_tiny_model(tmp_path / "m.onnx", metadata={"feature_stride": "8"})
    with pytest.raises(ModelError, match="'cams' is 3x4 but input 48x64 with feature_stride 8 implies 6x8"):
        OnnxClassifier(tiny.path, device="cpu")


# -- ModelError: graph inputs and outputs (edited tiny models)


def _edited(tmp_path: Path, edit: Callable[[onnx.ModelProto], None], **kwargs: object) -> Path:
    model, _, _ = build_tiny_model_proto(**kwargs)  # type: ignore[arg-type]
    edit(model)
    onnx.checker.check_model(model)
    path = tmp_path / "edited.onnx"
    onnx.save(model, str(path))
    return path


def _rename_input(model: onnx.ModelProto) -> None:
    model.graph.input[0].name = "pixels"
    for node in model.graph.node:
        node.input[:] = ["pixels" if n == "images" else n for n in node.input]


def _float_input(model: onnx.ModelProto) -> None:
    model.graph.input[0].type.tensor_type.elem_type = TensorProto.FLOAT


def _reshape_images_to_48x64(model: onnx.ModelProto, declared: list[int | str]) -> None:
    """Declare ``images`` with shape ``declared`` and reshape it to (N, 48, 64, 3) inside the graph."""
    model.graph.initializer.append(
        onnx.numpy_helper.from_array(np.array([-1, 48, 64, 3], np.int64), "nhwc_shape")
    )
    for node in model.graph.node:
        node.input[:] = ["images_nhwc" if n == "images" else n for n in node.input]
    model.graph.node.insert(0, helper.make_node("Reshape", ["images", "nhwc_shape"], ["images_nhwc"]))
    model.graph.input[0].CopyFrom(helper.make_tensor_value_info("images", TensorProto.UINT8, declared))


def _flat_input(model: onnx.ModelProto) -> None:
    """images is (N, 48*64*3) and reshaped inside the graph: rank 2."""
    _reshape_images_to_48x64(model, ["N", 48 * 64 * 3])


def _drop_cams(model: onnx.ModelProto) -> None:
    del model.graph.output[1]


def _flat_cams(model: onnx.ModelProto) -> None:
    for node in model.graph.node:
        node.output[:] = ["cams_4d" if n == "cams" else n for n in node.output]
    model.graph.node.append(helper.make_node("Flatten", ["cams_4d"], ["cams"], axis=1))
    model.graph.output[1].CopyFrom(helper.make_tensor_value_info("cams", TensorProto.FLOAT, ["N", 120]))


def _double_probs(model: onnx.ModelProto) -> None:
    for node in model.graph.node:
        node.output[:] = ["probs_f32" if n == "probs" else n for n in node.output]
    model.graph.node.append(helper.make_node("Cast", ["probs_f32"], ["probs"], to=TensorProto.DOUBLE))
    model.graph.output[0].type.tensor_type.elem_type = TensorProto.DOUBLE


def _symbolic_outputs(model: onnx.ModelProto) -> None:
    """Declare the class and map dims symbolic so only a real run reveals them."""
    for out, dims in ((model.graph.output[0], ["N", "C"]), (model.graph.output[1], ["N", "C", "h", "w"])):
        out.CopyFrom(helper.make_tensor_value_info(out.name, TensorProto.FLOAT, dims))


@pytest.mark.parametrize(
    "edit, match",
    [
        (_rename_input, "exactly one input named 'images', has 'pixels'"),
        (_float_input, "input 'images' must be uint8.*is tensor\\(float\\)"),
        (_flat_input, r"has shape \['N', 9216\], expected \(N, 48, 64, 3\)"),
        (_drop_cams, "lacks output\\(s\\) 'cams'"),
        (_flat_cams, "'cams' must have rank 4"),
        (_double_probs, "'probs' must be float32"),
    ],
)
def test_graph_breaking_the_contract(
    tmp_path: Path, edit: Callable[[onnx.ModelProto], None], match: str
) -> None:
    path = _edited(tmp_path, edit)
    with pytest.raises(ModelError, match=match) as info:
        OnnxClassifier(path, device="cpu")
    assert "\n" not in str(info.value)


def test_warmup_catches_what_symbolic_shapes_hide(tmp_path: Path) -> None:
    meta = {"class_ids": json.dumps(["a", "b"]), "labels": json.dumps(["a", "b"])}
    path = _edited(tmp_path, _symbolic_outputs, metadata=meta)
    with pytest.raises(ModelError, match="has 10 classes but the metadata lists 2"):
        OnnxClassifier(path, device="cpu")
    path = _edited(tmp_path, _symbolic_outputs, metadata={"feature_stride": "8"})
    with pytest.raises(ModelError, match="implies 6x8"):
        OnnxClassifier(path, device="cpu")
    # The same model with correct metadata loads.
    assert _cpu(_edited(tmp_path, _symbolic_outputs)).cam_size == (3, 4)


# -- providers


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
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
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


def test_tensorrt_cache_defaults_under_the_home_cache(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(runtime, "available_providers", lambda: [TENSORRT, CUDA, CPU])
    monkeypatch.setattr(runtime, "provider_works", lambda name: True)
    monkeypatch.setattr(Path, "home", classmethod(lambda cls: tmp_path))
    (_, options), *_ = resolve_providers("tensorrt")
    assert options["trt_engine_cache_path"] == str(tmp_path / ".cache" / "drivercam" / "trt")
    assert options["trt_fp16_enable"] == "False"


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
        frames = _frames(2)
        np.testing.assert_allclose(clf(frames)[0], tiny_model.probs(_resized(frames, 48, 64)), atol=1e-4)


# -- install checks and default path


def test_this_install_is_sound() -> None:
    assert len(installed_onnxruntime_distributions()) == 1
    assert hasattr(check_onnxruntime_install(), "InferenceSession")


def test_both_onnxruntime_builds_installed_is_reported() -> None:
    with pytest.raises(
        ModelError, match="pip uninstall -y onnxruntime onnxruntime-gpu && pip install"
    ) as info:
        check_onnxruntime_install(distributions=["onnxruntime-gpu", "onnxruntime"])
    assert "\n" not in str(info.value)


def test_onnxruntime_import_failure_is_reported() -> None:
    def broken(name: str) -> ModuleType:
        raise ImportError("libonnxruntime.so: cannot open shared object file")

    with pytest.raises(
        ModelError, match="cannot import onnxruntime.*pip uninstall -y onnxruntime-gpu"
    ) as info:
        check_onnxruntime_install(distributions=["onnxruntime-gpu"], import_module=broken)
    assert isinstance(info.value.__cause__, ImportError)


def test_default_model_path() -> None:
    expected = REPO_ROOT / "models" / "drivercam.onnx"
    if expected.is_file():
        assert default_model_path() == expected
    else:
        with pytest.raises(ModelError, match="pass --model"):
            default_model_path()


def test_contract_checks_work_on_plain_tensor_descriptions() -> None:
    from typing import NamedTuple

    class Info(NamedTuple):
        name: str
        type: str
        shape: list[object]

    spec = parse_metadata(default_metadata(3, 32, 48, 16, "RGB", "probs"))
    assert spec.cam_size == (2, 3) and spec.color_order == "RGB" and spec.labels[0] == "class 0"
    images = Info("images", "tensor(uint8)", ["batch", 32, 48, 3])
    outputs = [
        Info("probs", "tensor(float)", ["batch", 3]),
        Info("cams", "tensor(float)", ["batch", 3, 2, 3]),
    ]
    check_io(spec, [images], outputs)  # symbolic batch names are fine
    with pytest.raises(ModelError, match="exactly one input named 'images', has 'images', 'extra'"):
        check_io(spec, [images, Info("extra", "tensor(float)", [1])], outputs)
    with pytest.raises(ModelError, match=r"batch sizes 2 and 1 for 2 images"):
        check_output_shapes(spec, (2, 3), (1, 3, 2, 3), 2)
    with pytest.raises(ModelError, match=r"expected \(N, C\) and \(N, C, h, w\)"):
        check_output_shapes(spec, (2, 3), (2, 3, 6), 2)


def _symbolic_input_reshaped_to_48x64(model: onnx.ModelProto) -> None:
    """Input and output sizes left open in the declarations; the graph only works at 48x64."""
    _symbolic_outputs(model)
    _reshape_images_to_48x64(model, ["N", "H", "W", 3])


def test_a_graph_that_fails_to_run_is_reported_at_load(tmp_path: Path) -> None:
    path = _edited(tmp_path, _symbolic_input_reshaped_to_48x64, metadata={"input_height": "40"})
    with pytest.raises(ModelError, match="failed its warm-up run on one black 40x64 frame") as info:
        OnnxClassifier(path, device="cpu")
    assert "\n" not in str(info.value) and info.value.__cause__ is not None
    assert _cpu(_edited(tmp_path, _symbolic_input_reshaped_to_48x64)).input_size == (48, 64)
