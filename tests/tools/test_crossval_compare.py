"""Tests of tools/crossval_compare.py: two recipes scored on the same held-out photos."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch", reason="tools/ tests need torch (pip install -e '.[tools]')")

import crossval_compare


def _write(
    root: Path,
    name: str,
    fold: int,
    labels: list[int],
    preds: list[int],
    paths: list[str],
    confidence: list[float] | None = None,
) -> None:
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    photos = []
    for i, (label, pred, path) in enumerate(zip(labels, preds, paths, strict=True)):
        top = 0.82 if confidence is None else confidence[i]
        probs = np.full(10, (1 - top) / 9)
        probs[pred] = top
        photos.append(
            {
                "path": path,
                "subject": f"p{fold}{int(path[-1]) % 2}",
                "label": label,
                "probs": probs.tolist(),
                "grey_probs": probs.tolist(),
            }
        )
    (folder / f"fold{fold}-predictions.json").write_text(json.dumps({"fold": fold, "photos": photos}))


def test_compares_only_folds_both_finished_and_counts_disagreements(tmp_path: Path) -> None:
    labels = [0, 1, 2, 9]
    paths = [f"img{i}" for i in range(4)]
    _write(tmp_path, "a", 1, labels, [0, 1, 2, 0], paths)  # 3 of 4
    _write(tmp_path, "b", 1, labels, [0, 5, 2, 9], paths)  # 3 of 4, other mistakes
    _write(tmp_path, "a", 2, labels, labels, paths)  # only a finished fold 2
    out = crossval_compare.compare("a", "b", tmp_path)
    assert "Folds finished by both: [1] (4 held-out photos" in out
    assert "| a | 0.0 | 75.0 |" in out and "| b | 0.0 | 75.0 |" in out
    assert "1 photos right by a only, 1 by b only" in out


def test_refuses_folds_with_other_photos(tmp_path: Path) -> None:
    _write(tmp_path, "a", 1, [0], [0], ["img0"])
    _write(tmp_path, "b", 1, [0], [0], ["img1"])
    with pytest.raises(SystemExit, match="different photos"):
        crossval_compare.compare("a", "b", tmp_path)


def test_ensemble_row_combines_both_models_per_photo(tmp_path: Path) -> None:
    labels = [1, 9]
    paths = ["img0", "img1"]
    # Each recipe is right where it is confident and wrong where it hesitates: together they get both.
    _write(tmp_path, "a", 1, labels, [1, 0], paths, confidence=[0.9, 0.3])
    _write(tmp_path, "b", 1, labels, [5, 9], paths, confidence=[0.3, 0.9])
    out = crossval_compare.compare("a", "b", tmp_path)
    assert "| a | 0.0 | 50.0 |" in out and "| b | 0.0 | 50.0 |" in out
    assert "| a+b | 0.0 | 100.0 |" in out
