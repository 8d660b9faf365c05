"""Tiny ONNX models that obey docs/model-contract.md, built with ``onnx.helper``.

``make_tiny_model`` writes a seeded model to disk and returns its weights, so a
test can recompute features, probabilities and CAMs in plain numpy and compare
them with what ONNX Runtime returns.

Graph (all inside the ONNX file, as the contract demands)::

    images uint8 (N, H, W, 3)
      -> Cast float -> [Gather channels 2,1,0 when color_order is BGR]
      -> (x - 127) / 128 -> Transpose NCHW
      -> Conv(kernel = stride = feature_stride, zero pad bottom/right up to a
         multiple of the stride) -> Relu                      = f (N, K, h, w)
      -> GlobalAveragePool -> Flatten -> Gemm(W, b) -> Softmax = probs (N, C)
    f -> Conv 1x1 with W reshaped (C, K, 1, 1), no bias        = cams (N, C, h, w)
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

STATEFARM_CLASS_IDS = tuple(f"c{i}" for i in range(10))
STATEFARM_LABELS = (
    "safe driving",
    "texting - right hand",
    "talking on the phone - right hand",
    "texting - left hand",
    "talking on the phone - left hand",
    "operating the radio",
    "drinking",
    "reaching behind",
    "hair and makeup",
    "talking to passenger",
)

# The same ten classes with short labels, for tests of episodes and reports.
SHORT_LABELS = (
    "safe driving",
    "texting - right",
    "phone - right",
    "texting - left",
    "phone - left",
    "operating the radio",
    "drinking",
    "reaching behind",
    "hair and makeup",
    "talking to passenger",
)

MEAN = 127.0
STD = 128.0


@dataclass(frozen=True)
class TinyModel:
    """A tiny contract model on disk plus the weights needed to recompute it.

    Attributes:
        path: where the ONNX file was written.
        conv_weight: (K, 3, s, s) float32 patch-embedding weights (RGB input planes).
        conv_bias: (K,) float32.
        linear_weight: (C, K) float32, the classifier ``W`` (CAM weights).
        linear_bias: (C,) float32.
        height, width: model input size.
        stride: feature stride ``s``.
        color_order: channel order the model expects at its input.
        scores: ``"probs"`` or ``"logits"``, what the ``probs`` output holds.
        metadata: the metadata_props actually written.
    """

    path: Path
    conv_weight: np.ndarray
    conv_bias: np.ndarray
    linear_weight: np.ndarray
    linear_bias: np.ndarray
    height: int
    width: int
    stride: int
    color_order: str
    scores: str
    metadata: dict[str, str]

    @property
    def num_classes(self) -> int:
        return int(self.linear_weight.shape[0])

    @property
    def cam_size(self) -> tuple[int, int]:
        return (math.ceil(self.height / self.stride), math.ceil(self.width / self.stride))

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(json.loads(self.metadata["labels"]))

    def features(self, batch: np.ndarray) -> np.ndarray:
        """Recompute ``f`` (N, K, h, w) in numpy from a uint8 (N, H, W, 3) model input."""
        if batch.shape[1:] != (self.height, self.width, 3) or batch.dtype != np.uint8:
            raise ValueError(f"expected uint8 (N, {self.height}, {self.width}, 3), got {batch.dtype} {batch.shape}")
        x = batch.astype(np.float64)
        if self.color_order == "BGR":
            x = x[..., ::-1]
        x = (x - MEAN) / STD
        h, w = self.cam_size
        s = self.stride
        padded = np.zeros((x.shape[0], h * s, w * s, 3))
        padded[:, : self.height, : self.width] = x
        # Non-overlapping s x s patches: (N, h, s, w, s, 3).
        patches = padded.reshape(x.shape[0], h, s, w, s, 3)
        f = np.einsum("nhpwqc,kcpq->nkhw", patches, self.conv_weight.astype(np.float64))
        f += self.conv_bias.astype(np.float64)[None, :, None, None]
        return np.maximum(f, 0.0)

    def logits(self, batch: np.ndarray) -> np.ndarray:
        f = self.features(batch)
        pooled = f.mean(axis=(2, 3))
        return pooled @ self.linear_weight.astype(np.float64).T + self.linear_bias.astype(np.float64)

    def probs(self, batch: np.ndarray) -> np.ndarray:
        z = self.logits(batch)
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def cams(self, batch: np.ndarray) -> np.ndarray:
        """CAM_c(x, y) = sum_k W[c, k] f_k(x, y), bias excluded, no ReLU."""
        return np.einsum("ck,nkhw->nchw", self.linear_weight.astype(np.float64), self.features(batch))


def default_metadata(
    num_classes: int, height: int, width: int, stride: int, color_order: str, scores: str
) -> dict[str, str]:
    if num_classes == 10:
        class_ids, labels = list(STATEFARM_CLASS_IDS), list(STATEFARM_LABELS)
    else:
        class_ids = [f"c{i}" for i in range(num_classes)]
        labels = [f"class {i}" for i in range(num_classes)]
    return {
        "drivercam_contract": "1",
        "class_ids": json.dumps(class_ids),
        "labels": json.dumps(labels),
        "input_height": str(height),
        "input_width": str(width),
        "color_order": color_order,
        "normalization": json.dumps({"mean": [MEAN] * 3, "std": [STD] * 3, "applied": "in_graph"}),
        "scores": scores,
        "feature_stride": str(stride),
        "architecture": "tiny test model: patch conv + ReLU + GAP + linear",
        "training_data": "none (random weights)",
        "license": "Apache-2.0",
        "description": "drivercam test fixture",
    }


def build_tiny_model_proto(
    *,
    num_classes: int = 10,
    height: int = 48,
    width: int = 64,
    stride: int = 16,
    channels: int = 8,
    seed: int = 0,
    color_order: str = "BGR",
    scores: str = "probs",
    metadata: Mapping[str, str | None] | None = None,
    opset: int = 17,
) -> tuple[onnx.ModelProto, dict[str, np.ndarray], dict[str, str]]:
    """Build the model in memory: (ModelProto, weights, metadata written)."""
    if color_order not in ("BGR", "RGB"):
        raise ValueError(f"color_order must be 'BGR' or 'RGB', got {color_order!r}")
    if scores not in ("probs", "logits"):
        raise ValueError(f"scores must be 'probs' or 'logits', got {scores!r}")
    rng = np.random.default_rng(seed)
    k, c, s = channels, num_classes, stride
    conv_w = (rng.standard_normal((k, 3, s, s)) / (s * math.sqrt(3.0))).astype(np.float32)
    conv_b = (0.1 * rng.standard_normal(k)).astype(np.float32)
    lin_w = rng.standard_normal((c, k)).astype(np.float32)
    lin_b = (0.1 * rng.standard_normal(c)).astype(np.float32)
    h, w = math.ceil(height / s), math.ceil(width / s)
    pad_h, pad_w = h * s - height, w * s - width

    inits = [
        numpy_helper.from_array(np.array(MEAN, dtype=np.float32), "mean"),
        numpy_helper.from_array(np.array(STD, dtype=np.float32), "std"),
        numpy_helper.from_array(conv_w, "conv_w"),
        numpy_helper.from_array(conv_b, "conv_b"),
        numpy_helper.from_array(lin_w, "fc_w"),
        numpy_helper.from_array(lin_b, "fc_b"),
        numpy_helper.from_array(lin_w.reshape(c, k, 1, 1), "cam_w"),
    ]
    nodes = [helper.make_node("Cast", ["images"], ["x_float"], to=TensorProto.FLOAT)]
    x = "x_float"
    if color_order == "BGR":
        inits.append(numpy_helper.from_array(np.array([2, 1, 0], dtype=np.int64), "bgr_to_rgb"))
        nodes.append(helper.make_node("Gather", [x, "bgr_to_rgb"], ["x_rgb"], axis=3))
        x = "x_rgb"
    nodes += [
        helper.make_node("Sub", [x, "mean"], ["x_centered"]),
        helper.make_node("Div", ["x_centered", "std"], ["x_norm"]),
        helper.make_node("Transpose", ["x_norm"], ["x_nchw"], perm=[0, 3, 1, 2]),
        helper.make_node(
            "Conv",
            ["x_nchw", "conv_w", "conv_b"],
            ["f_pre"],
            kernel_shape=[s, s],
            strides=[s, s],
            pads=[0, 0, pad_h, pad_w],
        ),
        helper.make_node("Relu", ["f_pre"], ["features"]),
        helper.make_node("GlobalAveragePool", ["features"], ["pooled"]),
        helper.make_node("Flatten", ["pooled"], ["pooled_flat"], axis=1),
        helper.make_node("Gemm", ["pooled_flat", "fc_w", "fc_b"], ["logits"], transB=1),
        helper.make_node("Conv", ["features", "cam_w"], ["cams"], kernel_shape=[1, 1]),
    ]
    if scores == "probs":
        nodes.append(helper.make_node("Softmax", ["logits"], ["probs"], axis=1))
    else:
        nodes.append(helper.make_node("Identity", ["logits"], ["probs"]))

    graph = helper.make_graph(
        nodes,
        "drivercam_tiny",
        inputs=[helper.make_tensor_value_info("images", TensorProto.UINT8, ["N", height, width, 3])],
        outputs=[
            helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["N", c]),
            helper.make_tensor_value_info("cams", TensorProto.FLOAT, ["N", c, h, w]),
        ],
        initializer=inits,
    )
    opsets = [helper.make_opsetid("", opset)]
    model = helper.make_model(
        graph,
        opset_imports=opsets,
        producer_name="drivercam-tests",
        # The oldest IR version that carries this opset, so older ONNX Runtimes load it too.
        ir_version=helper.find_min_ir_version_for(opsets),
    )
    meta = default_metadata(c, height, width, s, color_order, scores)
    for key, value in (metadata or {}).items():
        if value is None:
            meta.pop(key, None)
        else:
            meta[key] = value
    helper.set_model_props(model, meta)
    onnx.checker.check_model(model)
    weights = {"conv_w": conv_w, "conv_b": conv_b, "fc_w": lin_w, "fc_b": lin_b}
    return model, weights, meta


def make_tiny_model(
    path: str | Path,
    *,
    num_classes: int = 10,
    height: int = 48,
    width: int = 64,
    stride: int = 16,
    channels: int = 8,
    seed: int = 0,
    color_order: str = "BGR",
    scores: str = "probs",
    metadata: Mapping[str, str | None] | None = None,
    opset: int = 17,
) -> TinyModel:
    """Write a tiny contract model to ``path`` and return it with its weights.

    Args:
        metadata: overrides for the metadata_props; a value of None deletes the key
            (to build models that break the contract).
    """
    model, weights, meta = build_tiny_model_proto(
        num_classes=num_classes,
        height=height,
        width=width,
        stride=stride,
        channels=channels,
        seed=seed,
        color_order=color_order,
        scores=scores,
        metadata=metadata,
        opset=opset,
    )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return TinyModel(
        path=path,
        conv_weight=weights["conv_w"],
        conv_bias=weights["conv_b"],
        linear_weight=weights["fc_w"],
        linear_bias=weights["fc_b"],
        height=height,
        width=width,
        stride=stride,
        color_order=color_order,
        scores=scores,
        metadata=meta,
    )
