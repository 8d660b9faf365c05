"""The ONNX model: check the contract, pick execution providers, run.

- :mod:`drivercam.model.contract`: the model contract (docs/model-contract.md)
  as pure checks on metadata and tensor shapes.
- :mod:`drivercam.model.runtime`: the one place that imports onnxruntime
  (lazily): install check, provider probing and resolution.
- :mod:`drivercam.model.classifier`: ``OnnxClassifier``, frames in, probs and CAMs out.

Importing this package does not import onnxruntime; loading a model does.
"""

from __future__ import annotations

from drivercam.model.classifier import OnnxClassifier, default_model_path, softmax
from drivercam.model.contract import (
    CONTRACT_VERSION,
    INPUT_NAME,
    OUTPUT_NAMES,
    REQUIRED_METADATA,
    ModelSpec,
    check_io,
    check_output_shapes,
    parse_metadata,
)
from drivercam.model.runtime import (
    CPU,
    CUDA,
    DEVICES,
    PROBE_MODEL,
    TENSORRT,
    ProviderSpec,
    available_providers,
    check_onnxruntime_install,
    default_trt_cache_dir,
    import_onnxruntime,
    installed_onnxruntime_distributions,
    provider_works,
    resolve_providers,
    runs_on_cpu,
    split_providers,
)

__all__ = [
    "CONTRACT_VERSION",
    "CPU",
    "CUDA",
    "DEVICES",
    "INPUT_NAME",
    "OUTPUT_NAMES",
    "PROBE_MODEL",
    "REQUIRED_METADATA",
    "TENSORRT",
    "ModelSpec",
    "OnnxClassifier",
    "ProviderSpec",
    "available_providers",
    "check_io",
    "check_onnxruntime_install",
    "check_output_shapes",
    "default_model_path",
    "default_trt_cache_dir",
    "import_onnxruntime",
    "installed_onnxruntime_distributions",
    "parse_metadata",
    "provider_works",
    "resolve_providers",
    "runs_on_cpu",
    "split_providers",
    "softmax",
]
