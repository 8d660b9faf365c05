"""The per-frame prediction log: the record of one frame, and a JSON-lines file flushed line by line."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np

from drivercam.errors import SinkError, reason
from drivercam.sinks._common import _SinkBase
from drivercam.types import Result


def prediction_record(result: Result, class_ids: Sequence[str], source: str | None = None) -> dict[str, Any]:
    """The JSON object logged for one frame.

    Keys: ``frame``, ``time_s``, ``class_index``, ``class_id``, ``label``,
    ``confidence``, ``probs`` (class id -> probability for every class, in the
    model's order), ``source`` (the frame's own source, e.g. the image path of
    a folder, else ``source``) and ``inference_ms``.
    """
    prediction = result.prediction
    index = prediction.class_index
    return {
        "frame": result.frame.index,
        "time_s": round(float(result.frame.time_s), 6),
        "class_index": index,
        "class_id": class_ids[index],
        "label": prediction.label,
        "confidence": round(prediction.confidence, 6),
        "probs": {cid: round(float(p), 6) for cid, p in zip(class_ids, prediction.probs)},
        "source": result.frame.source or source,
        "inference_ms": round(result.inference_ms, 3),
    }


class PredictionLog(_SinkBase):
    """One JSON object per line, flushed per line so a crash loses nothing written.

    NumPy scalars and arrays are converted to plain JSON; NaN and infinity
    become ``null`` (JSON has no NaN).

    Args:
        path: the .jsonl file to create (overwritten if present).

    Raises:
        SinkError: at construction when the file cannot be created.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self._file: IO[str] | None = open(self.path, "w", encoding="utf-8")  # noqa: SIM115
        except OSError as exc:
            raise SinkError(
                f"cannot write prediction log {str(self.path)!r}: {reason(exc)}; "
                "check that the folder exists and is writable"
            ) from exc
        self.records_written = 0

    def write(self, record: Mapping[str, Any]) -> None:
        """Append ``record`` as one line.

        Raises:
            SinkError: if the log is closed or the line cannot be written.
        """
        if self._file is None:
            raise SinkError(f"prediction log {str(self.path)!r} is already closed")
        line = json.dumps(_jsonable(record), ensure_ascii=False, allow_nan=False)
        try:
            self._file.write(line + "\n")
            self._file.flush()
        except OSError as exc:
            raise SinkError(f"could not write to {str(self.path)!r}: {reason(exc)}") from exc
        self.records_written += 1

    def close(self) -> None:
        """Close the file. Idempotent."""
        if self._file is not None:
            self._file.close()
            self._file = None


def _jsonable(value: Any) -> Any:
    """Convert NumPy types to JSON types, and non-finite floats to None."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.generic):
        return _jsonable(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Path):
        return str(value)
    return value
