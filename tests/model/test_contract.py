"""Tests for drivercam.model.contract: models that break the contract are refused with a one-line ModelError."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper
from support.model_inputs import cpu
from support.tiny_models import (
    STATEFARM_LABELS,
    build_tiny_model_proto,
    default_metadata,
    make_tiny_model,
)

from drivercam.errors import ModelError
from drivercam.model import (
    REQUIRED_METADATA,
    OnnxClassifier,
    check_io,
    check_output_shapes,
    parse_metadata,
)

# -- parity with the numpy recomputation


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
    model.graph.initializer.append(onnx.numpy_helper.from_array(np.array([-1, 48, 64, 3], np.int64), "nhwc_shape"))
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
def test_graph_breaking_the_contract(tmp_path: Path, edit: Callable[[onnx.ModelProto], None], match: str) -> None:
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
    assert cpu(_edited(tmp_path, _symbolic_outputs)).cam_size == (3, 4)


# -- providers


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
    assert cpu(_edited(tmp_path, _symbolic_input_reshaped_to_48x64)).input_size == (48, 64)
