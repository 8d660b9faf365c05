"""OnnxClassifier: a drivercam ONNX model behind the ``Classifier`` protocol."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from drivercam.errors import ModelError, describe
from drivercam.model.contract import (
    INPUT_NAME,
    OUTPUT_NAMES,
    ModelSpec,
    check_io,
    check_output_shapes,
    parse_metadata,
)
from drivercam.model.preprocess import Preprocessor
from drivercam.model.runtime import import_onnxruntime, resolve_providers, spec_name
from drivercam.types import Frame

logger = logging.getLogger(__name__)


def default_model_path() -> Path:
    """``<repo root>/models/drivercam.onnx``; ModelError when it is not there."""
    path = Path(__file__).resolve().parents[2] / "models" / "drivercam.onnx"
    if not path.is_file():
        raise ModelError(
            f"no model at the default location {path}; pass --model PATH to a drivercam ONNX model "
            "(or export one there with tools/export_onnx.py)"
        )
    return path


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax in float32, stable for large logits."""
    z = logits.astype(np.float32, copy=True)
    z -= z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    return z


class OnnxClassifier:
    """A drivercam ONNX model: BGR frames in, class probabilities and CAMs out.

    Implements the ``drivercam.types.PreparingClassifier`` protocol. Calling it
    resizes into a shared buffer under a lock, so concurrent calls never mix
    frames; :meth:`prepare` and :meth:`run_batch` take no lock (each prepared
    input is its own array, and ONNX Runtime sessions allow concurrent runs),
    so the pipeline's inference threads run side by side. ``InferenceSession.run``
    releases the GIL, so one inference thread keeps an accelerator busy.

    Args:
        path: the ``.onnx`` file.
        device: see :func:`resolve_providers`.
        intra_op_threads: threads inside one operator (ONNX Runtime default: all cores).
        inter_op_threads: threads across operators.
        trt_cache_dir: TensorRT engine cache folder (default ``~/.cache/drivercam/trt``).
        trt_fp16: let TensorRT use float16.
        max_batch: batch size to preallocate the input buffer for.
        warmup: run once on a black batch after loading, which also checks the
            output shapes the model really produces.

    Raises:
        ModelError: the file is missing or unreadable, is not ONNX, breaks the
            contract, or the device cannot be used.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        device: str = "auto",
        intra_op_threads: int | None = None,
        inter_op_threads: int | None = None,
        trt_cache_dir: str | Path | None = None,
        trt_fp16: bool = False,
        max_batch: int = 1,
        warmup: bool = True,
    ) -> None:
        for name, value in (("intra_op_threads", intra_op_threads), ("inter_op_threads", inter_op_threads)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
                raise ValueError(f"{name} must be an int >= 0 (0 = ONNX Runtime decides), got {value!r}")
        self._path = Path(path)
        self._check_file()
        ort = import_onnxruntime()
        specs = resolve_providers(device, trt_cache_dir=trt_cache_dir, trt_fp16=trt_fp16)
        if not isinstance(specs[0], str):
            # TensorRT writes its engine cache here but does not create the folder.
            Path(specs[0][1]["trt_engine_cache_path"]).mkdir(parents=True, exist_ok=True)
        options = ort.SessionOptions()
        # ONNX Runtime's pool threads busy-wait between operators and runs by
        # default. In drivercam the decode, render and encode threads need those
        # cores; on 2 cores spinning cost ~14 ms of CPU per frame and a third of
        # the pipeline's throughput (benchmarks/README.md).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        if intra_op_threads is not None:
            options.intra_op_num_threads = intra_op_threads
        if inter_op_threads is not None:
            options.inter_op_num_threads = inter_op_threads
        try:
            self._session = ort.InferenceSession(str(self._path), sess_options=options, providers=specs)
        # ORT's load errors (InvalidProtobuf, InvalidGraph, Fail, ...) subclass Exception directly.
        except Exception as e:
            raise ModelError(
                f"ONNX Runtime cannot load {self._path} ({describe(e, line='first')}); is it a complete .onnx file? "
                "re-export or re-download it"
            ) from e
        self._providers = tuple(self._session.get_providers())
        if spec_name(specs[0]) not in self._providers:
            raise ModelError(
                f"asked for {spec_name(specs[0])} but ONNX Runtime fell back to {', '.join(self._providers)}; "
                "check the GPU libraries or use --device cpu"
            )
        logger.info("loaded %s with execution providers %s", self._path, ", ".join(self._providers))

        self._metadata = dict(self._session.get_modelmeta().custom_metadata_map)
        self._spec = parse_metadata(self._metadata)
        check_io(self._spec, self._session.get_inputs(), self._session.get_outputs())
        h, w = self._spec.input_size
        self._preprocess = Preprocessor(h, w, self._spec.color_order, max_batch)
        self._lock = threading.Lock()
        if warmup:
            try:
                probs, cams = self.run_batch(np.zeros((1, h, w, 3), np.uint8))
            except Exception as e:
                raise ModelError(
                    f"model {self._path} failed its warm-up run on one black {h}x{w} frame "
                    f"({describe(e, line='first')}); check that its graph matches its metadata or re-export it"
                ) from e
            check_output_shapes(self._spec, probs.shape, cams.shape, 1)

    # -- checks

    def _check_file(self) -> None:
        p = self._path
        if not p.exists():
            raise ModelError(f"model file not found: {p}; pass --model PATH to a drivercam .onnx file")
        if not p.is_file():
            raise ModelError(f"model path {p} is not a file; pass --model PATH to a drivercam .onnx file")
        if not os.access(p, os.R_OK):
            raise ModelError(f"model file {p} is not readable; fix its permissions (chmod a+r) or copy it")

    # -- properties

    @property
    def path(self) -> Path:
        return self._path

    @property
    def labels(self) -> tuple[str, ...]:
        return self._spec.labels

    @property
    def class_ids(self) -> tuple[str, ...]:
        return self._spec.class_ids

    @property
    def input_size(self) -> tuple[int, int]:
        """Model input (height, width)."""
        return self._spec.input_size

    @property
    def cam_size(self) -> tuple[int, int]:
        """CAM (h, w): the input size divided by the feature stride, rounded up."""
        return self._spec.cam_size

    @property
    def color_order(self) -> str:
        return self._spec.color_order

    @property
    def feature_stride(self) -> int:
        return self._spec.feature_stride

    @property
    def spec(self) -> ModelSpec:
        """The parsed contract metadata."""
        return self._spec

    @property
    def metadata(self) -> dict[str, str]:
        """All metadata_props of the model, as strings."""
        return dict(self._metadata)

    @property
    def providers(self) -> tuple[str, ...]:
        """Execution providers ONNX Runtime actually uses, best first."""
        return self._providers

    # -- running

    def run_batch(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Run on an already resized uint8 (N, H, W, 3) batch in the model's colour order.

        Returns:
            probs (N, C) float32 probabilities (softmaxed here when the model
            returns logits) and cams (N, C, h, w) float32 raw maps.
        """
        h, w = self._spec.input_size
        if batch.dtype != np.uint8 or batch.ndim != 4 or batch.shape[1:] != (h, w, 3):
            raise ValueError(f"batch must be uint8 (N, {h}, {w}, 3), got {batch.dtype} {batch.shape}")
        probs, cams = self._session.run(list(OUTPUT_NAMES), {INPUT_NAME: batch})
        probs = np.asarray(probs, dtype=np.float32)
        cams = np.asarray(cams, dtype=np.float32)
        if self._spec.scores == "logits":
            probs = softmax(probs)
        return probs, cams

    def prepare(self, image: np.ndarray) -> np.ndarray:
        """Resize one BGR uint8 frame into a new model input (H, W, 3), in the model's colour order.

        Thread-safe: the pipeline calls it on the capture thread while the
        inference thread runs the model; ``run_batch`` takes the results stacked.
        """
        return self._preprocess.one(image)

    def prepare_frame(self, frame: Frame) -> np.ndarray:
        """One frame into a new model input: from the decoder's I420 picture when the frame carries one.

        Every route that classifies frames of a video file goes through here
        (the pipeline's capture thread, ``drivercam batch``'s workers), so the
        model sees the same input whichever runs it. Thread-safe.
        """
        return self._preprocess.frame(frame)

    def __call__(self, images: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Classify BGR uint8 frames of any size.

        Returns:
            probs (N, C) float32 and cams (N, C, h, w) float32, one row per image.
        """
        if len(images) == 0:
            c = len(self._spec.labels)
            return np.zeros((0, c), np.float32), np.zeros((0, c, *self._spec.cam_size), np.float32)
        with self._lock:
            return self.run_batch(self._preprocess(images))

    def __repr__(self) -> str:
        return f"OnnxClassifier({str(self._path)!r}, providers={list(self._providers)!r})"
