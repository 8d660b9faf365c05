"""Tests for drivercam.sinks.jsonl: the prediction log, one JSON line per frame."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from drivercam.errors import SinkError
from drivercam.sinks import PredictionLog


def test_prediction_log_lines_parse(tmp_path: Path) -> None:
    path = tmp_path / "pred.jsonl"
    with PredictionLog(path) as log:
        log.write({"frame": 0, "label": "safe driving", "probs": np.array([0.25, 0.75], np.float32)})
        log.write({"frame": np.int64(1), "confidence": np.float32(0.5), "score": math.nan, "src": "é"})
        # Flushed per line: readable before close.
        assert len(path.read_text(encoding="utf-8").splitlines()) == 2
        assert log.records_written == 2
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert lines[0] == {"frame": 0, "label": "safe driving", "probs": [0.25, 0.75]}
    assert lines[1] == {"frame": 1, "confidence": 0.5, "score": None, "src": "é"}
    log.close()  # idempotent
    with pytest.raises(SinkError, match="already closed"):
        log.write({"frame": 2})


def test_prediction_log_unwritable(tmp_path: Path) -> None:
    with pytest.raises(SinkError, match=r"cannot write prediction log '.*nope/p\.jsonl': No such file"):
        PredictionLog(tmp_path / "nope" / "p.jsonl")


# --------------------------------------------------------------------------- window
