"""drivercam: real-time driver-distraction monitor with class activation maps.

Importing the package is cheap: ONNX Runtime is imported only when a model is
loaded (``drivercam.model``), torch never.
"""

from __future__ import annotations

from drivercam.errors import (
    DrivercamError,
    ModelError,
    PipelineError,
    SinkError,
    SourceError,
)
from drivercam.monitoring.monitor import Monitor
from drivercam.pipeline import FpsMeter, Pipeline, PipelineStats
from drivercam.types import Classifier, Frame, FrameSource, Prediction, Result

__version__ = "0.1.0"

__all__ = [
    "Classifier",
    "DrivercamError",
    "FpsMeter",
    "Frame",
    "FrameSource",
    "ModelError",
    "Monitor",
    "Pipeline",
    "PipelineError",
    "PipelineStats",
    "Prediction",
    "Result",
    "SinkError",
    "SourceError",
    "__version__",
]
