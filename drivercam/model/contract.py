"""The drivercam model contract (docs/model-contract.md) as checks.

Pure Python: parses the metadata and checks the declared and actual tensor
shapes, raising a one-line ModelError that names the problem and the fix.
The classifier feeds it what ONNX Runtime reports; tests can feed it anything.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from drivercam.errors import ModelError
from drivercam.model.preprocess import COLOR_ORDERS

CONTRACT_VERSION = "1"
INPUT_NAME = "images"
OUTPUT_NAMES = ("probs", "cams")
REQUIRED_METADATA = (
    "drivercam_contract",
    "class_ids",
    "labels",
    "input_height",
    "input_width",
    "color_order",
    "normalization",
    "scores",
    "feature_stride",
)


class TensorInfo(Protocol):
    """What ONNX Runtime's ``NodeArg`` tells about an input or output."""

    @property
    def name(self) -> str: ...

    @property
    def type(self) -> str: ...

    @property
    def shape(self) -> Sequence[Any]: ...


@dataclass(frozen=True)
class ModelSpec:
    """A model's contract metadata, parsed and checked.

    Attributes:
        class_ids: short class ids (``c0`` ...), one per class.
        labels: human-readable labels, one per class.
        input_size: model input (height, width).
        color_order: ``"BGR"`` or ``"RGB"``, the channel order of the input.
        scores: ``"probs"`` or ``"logits"``, what the ``probs`` output holds.
        feature_stride: input pixels per CAM cell.
        normalization: the parsed ``normalization`` object (informative only).
    """

    class_ids: tuple[str, ...]
    labels: tuple[str, ...]
    input_size: tuple[int, int]
    color_order: str
    scores: str
    feature_stride: int
    normalization: dict[str, Any]

    @property
    def cam_size(self) -> tuple[int, int]:
        """CAM (h, w): the input size divided by the feature stride, rounded up."""
        h, w = self.input_size
        return (math.ceil(h / self.feature_stride), math.ceil(w / self.feature_stride))


def _json_list(meta: Mapping[str, str], key: str) -> list[str]:
    try:
        value = json.loads(meta[key])
    except json.JSONDecodeError as e:
        raise ModelError(f"model metadata {key!r} is not valid JSON ({e}); it must be a JSON list of strings") from e
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise ModelError(f"model metadata {key!r} must be a non-empty JSON list of strings, got {meta[key]!r}")
    return value


def _positive_int(meta: Mapping[str, str], key: str) -> int:
    try:
        value = int(meta[key])
    except ValueError:
        value = 0
    if value < 1:
        raise ModelError(f"model metadata {key!r} must be a positive integer, got {meta[key]!r}")
    return value


def parse_metadata(meta: Mapping[str, str]) -> ModelSpec:
    """Check the contract's metadata_props and return them parsed.

    Raises:
        ModelError: a required key is missing or malformed.
    """
    missing = [key for key in REQUIRED_METADATA if key not in meta]
    if missing:
        raise ModelError(
            f"model metadata lacks {', '.join(repr(k) for k in missing)}; this is not a drivercam model "
            "(see docs/model-contract.md) or was exported without metadata; "
            "re-export it with tools/export_onnx.py"
        )
    if meta["drivercam_contract"] != CONTRACT_VERSION:
        raise ModelError(
            f"model follows drivercam contract {meta['drivercam_contract']!r} but this drivercam reads "
            f"contract {CONTRACT_VERSION!r}; use a matching drivercam version or re-export the model"
        )
    class_ids = _json_list(meta, "class_ids")
    labels = _json_list(meta, "labels")
    if len(class_ids) != len(labels):
        raise ModelError(
            f"model metadata has {len(class_ids)} class_ids but {len(labels)} labels; they must pair up one to one"
        )
    color_order = meta["color_order"]
    if color_order not in COLOR_ORDERS:
        raise ModelError(f"model metadata 'color_order' must be BGR or RGB, got {color_order!r}")
    scores = meta["scores"]
    if scores not in ("probs", "logits"):
        raise ModelError(f"model metadata 'scores' must be 'probs' or 'logits', got {scores!r}")
    try:
        normalization = json.loads(meta["normalization"])
    except json.JSONDecodeError as e:
        raise ModelError(f"model metadata 'normalization' is not valid JSON ({e}); see docs/model-contract.md") from e
    if not isinstance(normalization, dict) or normalization.get("applied") != "in_graph":
        raise ModelError(
            'model metadata \'normalization\' must be a JSON object with "applied": "in_graph" '
            f"(drivercam feeds raw uint8 pixels), got {meta['normalization']!r}"
        )
    return ModelSpec(
        class_ids=tuple(class_ids),
        labels=tuple(labels),
        input_size=(_positive_int(meta, "input_height"), _positive_int(meta, "input_width")),
        color_order=color_order,
        scores=scores,
        feature_stride=_positive_int(meta, "feature_stride"),
        normalization=normalization,
    )


def _static(dim: object) -> int | None:
    """A fixed dimension, or None for a symbolic/unknown one."""
    return dim if isinstance(dim, int) and dim > 0 else None


def check_io(spec: ModelSpec, inputs: Sequence[TensorInfo], outputs: Sequence[TensorInfo]) -> None:
    """Check the declared graph inputs and outputs against ``spec``.

    Symbolic dimensions pass here; :func:`check_output_shapes` on a real run
    catches them.

    Raises:
        ModelError: wrong input name, dtype, rank or size; missing outputs or
            wrong output dtype or rank; class count or CAM size disagreeing
            with the metadata.
    """
    h, w = spec.input_size
    if len(inputs) != 1 or inputs[0].name != INPUT_NAME:
        names = ", ".join(repr(i.name) for i in inputs)
        raise ModelError(
            f"model must have exactly one input named {INPUT_NAME!r}, has {names}; "
            "re-export it per docs/model-contract.md"
        )
    arg = inputs[0]
    if arg.type != "tensor(uint8)":
        raise ModelError(
            f"model input {INPUT_NAME!r} must be uint8 (raw pixels; the graph normalises), is {arg.type}; "
            "re-export it per docs/model-contract.md"
        )
    shape = list(arg.shape)
    expected = (None, h, w, 3)
    if len(shape) != 4 or any(
        want is not None and _static(got) is not None and got != want for got, want in zip(shape, expected)
    ):
        raise ModelError(
            f"model input {INPUT_NAME!r} has shape {shape}, expected (N, {h}, {w}, 3) NHWC as its metadata "
            "input_height/input_width say; fix the metadata or re-export the model"
        )
    by_name = {o.name: o for o in outputs}
    missing = [name for name in OUTPUT_NAMES if name not in by_name]
    if missing:
        raise ModelError(
            f"model lacks output(s) {', '.join(map(repr, missing))} (has {', '.join(map(repr, by_name))}); "
            "a drivercam model returns 'probs' and 'cams' from one run, see docs/model-contract.md"
        )
    for name, rank in (("probs", 2), ("cams", 4)):
        o = by_name[name]
        if o.type != "tensor(float)":
            raise ModelError(f"model output {name!r} must be float32, is {o.type}; re-export the model")
        if len(o.shape) != rank:
            raise ModelError(
                f"model output {name!r} must have rank {rank}, has shape {list(o.shape)}; see docs/model-contract.md"
            )
    _check_dims(spec, list(by_name["probs"].shape), list(by_name["cams"].shape), None)


def check_output_shapes(spec: ModelSpec, probs_shape: Sequence[int], cams_shape: Sequence[int], batch: int) -> None:
    """Check the shapes a real run on ``batch`` images returned.

    Raises:
        ModelError: ranks, class count, CAM size or batch size are off.
    """
    if len(probs_shape) != 2 or len(cams_shape) != 4:
        raise ModelError(
            f"model returned probs {tuple(probs_shape)} and cams {tuple(cams_shape)}, expected (N, C) and (N, C, h, w)"
        )
    _check_dims(spec, list(probs_shape), list(cams_shape), batch)


def _check_dims(spec: ModelSpec, probs_shape: list[Any], cams_shape: list[Any], batch: int | None) -> None:
    c = len(spec.labels)
    for name, got in (("probs", probs_shape[1]), ("cams", cams_shape[1])):
        if _static(got) is not None and got != c:
            raise ModelError(
                f"model output {name!r} has {got} classes but the metadata lists {c} labels; "
                "fix the labels/class_ids metadata or re-export the model"
            )
    ch, cw = spec.cam_size
    got_hw = cams_shape[2:]
    if any(_static(g) is not None and g != want for g, want in zip(got_hw, (ch, cw))):
        h, w = spec.input_size
        raise ModelError(
            f"model output 'cams' is {got_hw[0]}x{got_hw[1]} but input {h}x{w} with feature_stride "
            f"{spec.feature_stride} implies {ch}x{cw}; fix the feature_stride metadata or re-export the model"
        )
    if batch is not None and (probs_shape[0] != batch or cams_shape[0] != batch):
        raise ModelError(
            f"model returned batch sizes {probs_shape[0]} and {cams_shape[0]} for {batch} images; "
            "its batch dimension must be dynamic and shared by both outputs"
        )
