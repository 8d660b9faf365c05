"""fp16 and int8 variants of an exported drivercam model, measured against fp32.

- fp16: weights and activations in float16, inputs and outputs kept as the
  contract says (uint8 in, float32 out). Meant for GPU providers; on most CPUs
  ONNX Runtime runs it slower than fp32.
- int8: static quantisation (QDQ, per-channel weights) calibrated on real photos
  of training drivers. The last 1x1 convolution that computes the CAMs and the
  classifier stay in float, so the CAM remains ``W f`` of the (dequantised)
  feature maps. So does the stem, the first convolution, which sees the
  normalised pixels: quantising it cost 2.2 points of held-out accuracy on one
  cross-validation fold (778 photos), keeping it in float 0.6.

Each variant is compared with fp32 on held-out photos: top-1 agreement, accuracy,
largest probability difference, and CAM agreement (mean Pearson correlation of the
predicted class's map, and the largest difference of min-max-normalised maps).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import onnx


def cams_node_names(model: onnx.ModelProto) -> list[str]:
    """Names of the nodes producing ``cams`` and ``probs`` and the classifier feeding ``probs``."""
    producers = {out: node for node in model.graph.node for out in node.output}
    names = []
    for output in ("cams", "probs"):
        node = producers.get(output)
        if node is not None:
            names.append(node.name)
            if node.op_type == "Softmax":
                names.append(producers[node.input[0]].name)
    return names


def stem_node_name(model: onnx.ModelProto) -> str:
    """Name of the first convolution of the graph (the stem, fed by the normalised image)."""
    return next(node.name for node in model.graph.node if node.op_type == "Conv")


def to_fp16(src: Path, dst: Path) -> None:
    from onnxruntime.transformers.float16 import convert_float_to_float16

    model = onnx.load(str(src))
    # The uint8 -> float preprocessing stays in float32; everything after the cast runs in fp16.
    half = convert_float_to_float16(
        model, keep_io_types=True, op_block_list=["Cast", "Gather", "Sub", "Div", "Transpose"]
    )
    onnx.save(half, str(dst))


def to_int8(src: Path, dst: Path, calibration: np.ndarray) -> None:
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self._batches: Iterator[np.ndarray] = iter(np.split(calibration, len(calibration)))

        def get_next(self) -> dict[str, np.ndarray] | None:
            batch = next(self._batches, None)
            return None if batch is None else {"images": batch}

    model = onnx.load(str(src))
    quantize_static(
        str(src),
        str(dst),
        Reader(),
        quant_format=QuantFormat.QDQ,
        per_channel=True,
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
        op_types_to_quantize=["Conv"],
        nodes_to_exclude=[stem_node_name(model), *cams_node_names(model)],
    )
    # quantize_static drops nothing we need, but keep the metadata explicitly.
    out = onnx.load(str(dst))
    del out.metadata_props[:]
    for prop in model.metadata_props:
        out.metadata_props.add(key=prop.key, value=prop.value)
    onnx.save(out, str(dst))


def _norm(cam: np.ndarray) -> np.ndarray:
    cam = np.maximum(cam, 0)
    span = cam.max() - cam.min()
    return (cam - cam.min()) / span if span > 0 else np.zeros_like(cam)


def compare(reference: Path, variant: Path, images: np.ndarray, labels: np.ndarray | None) -> dict[str, float]:
    """Agreement of ``variant`` with ``reference`` on uint8 NHWC ``images``."""
    import onnxruntime as ort

    def run(path: Path) -> tuple[np.ndarray, np.ndarray, float]:
        sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        probs, cams = [], []
        sess.run(None, {"images": images[:1]})
        times = []
        for i in range(len(images)):
            t0 = time.perf_counter()
            p, c = sess.run(["probs", "cams"], {"images": images[i : i + 1]})
            times.append(time.perf_counter() - t0)
            probs.append(p[0])
            cams.append(c[0])
        return np.stack(probs), np.stack(cams), float(np.median(times) * 1000)

    p_ref, c_ref, ms_ref = run(reference)
    p_var, c_var, ms_var = run(variant)
    top = p_ref.argmax(1)
    corr, diff = [], []
    for i, c in enumerate(top):
        a, b = c_ref[i, c].ravel(), c_var[i, c].ravel()
        corr.append(float(np.corrcoef(a, b)[0, 1]) if a.std() > 0 and b.std() > 0 else 1.0)
        diff.append(float(np.abs(_norm(c_ref[i, c]) - _norm(c_var[i, c])).max()))
    result = {
        "photos": float(len(images)),
        "top1_agreement": float((p_var.argmax(1) == top).mean()),
        "max_prob_difference": float(np.abs(p_var - p_ref).max()),
        "cam_correlation_mean": float(np.mean(corr)),
        "cam_max_normalised_difference": float(np.max(diff)),
        "ms_per_frame_fp32_cpu": ms_ref,
        "ms_per_frame_variant_cpu": ms_var,
    }
    if labels is not None:
        result["accuracy_fp32"] = float((top == labels).mean())
        result["accuracy_variant"] = float((p_var.argmax(1) == labels).mean())
    return result
