"""What a cross-validation's finished folds say: per-fold figures, their summary and the safe-driving bias.

``crossval.py`` writes each fold's metrics with :func:`fold_metrics` and calls
:func:`summarise` after every fold; ``crossval_compare.py`` and the tests use the
bias helpers. Everything here reads the committed ``foldK.json`` and
``foldK-predictions.json`` files, so a summary can be rebuilt on any machine
without the run folder (``crossval.py --report``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from dataset import CLASS_IDS, LABELS


def confusion(truth: np.ndarray, pred: np.ndarray, n: int = 10) -> np.ndarray:
    cm = np.zeros((n, n), dtype=np.int64)
    np.add.at(cm, (truth, pred), 1)
    return cm


def recall_of(cm: np.ndarray) -> list[float | None]:
    return [float(cm[c, c] / cm[c].sum()) if cm[c].sum() else None for c in range(len(cm))]


def fold_metrics(
    probs: np.ndarray, grey_probs: np.ndarray, labels: np.ndarray, subjects: list[str]
) -> dict[str, object]:
    pred = probs.argmax(1)
    cm = confusion(labels, pred)
    subj = np.array(subjects)
    per_driver = {d: float((pred[subj == d] == labels[subj == d]).mean()) for d in sorted(set(subjects))}
    grey_pred = grey_probs.argmax(1)
    return {
        "photos": len(labels),
        "accuracy": float((pred == labels).mean()),
        "per_driver_accuracy": per_driver,
        "per_class_recall": dict(zip(CLASS_IDS, recall_of(cm), strict=True)),
        "confusion": cm.tolist(),
        "grey_accuracy": float((grey_pred == labels).mean()),
        "grey_per_driver_accuracy": {d: float((grey_pred[subj == d] == labels[subj == d]).mean()) for d in per_driver},
        "grey_confusion": confusion(labels, grey_pred).tolist(),
    }


def write_json(path: Path, obj: object) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(obj, indent=1) + "\n")
    tmp.replace(path)


def aggregate(per_fold: list[dict], fold_ids: list[int]) -> dict[str, object]:
    """Headline figures over folds from each fold's :func:`fold_metrics`: means, pooled, per driver and class."""
    accs = np.array([f["accuracy"] for f in per_fold])
    cm = sum(np.array(f["confusion"]) for f in per_fold)
    grey_cm = sum(np.array(f["grey_confusion"]) for f in per_fold)
    per_driver = {d: a for f in per_fold for d, a in f["per_driver_accuracy"].items()}
    grey_driver = {d: a for f in per_fold for d, a in f["grey_per_driver_accuracy"].items()}
    worst = min(per_driver, key=per_driver.__getitem__)
    off = cm - np.diag(np.diag(cm))
    top = np.dstack(np.unravel_index(np.argsort(off, axis=None)[::-1][:5], off.shape))[0]
    return {
        "accuracy_mean": float(accs.mean()),
        "accuracy_std": float(accs.std()),
        "accuracy_min": float(accs.min()),
        "accuracy_max": float(accs.max()),
        "pooled_accuracy": float(np.trace(cm) / cm.sum()),
        "per_fold_accuracy": {k: f["accuracy"] for k, f in zip(fold_ids, per_fold, strict=True)},
        "per_fold_grey_accuracy": {k: f["grey_accuracy"] for k, f in zip(fold_ids, per_fold, strict=True)},
        "per_driver_accuracy": dict(sorted(per_driver.items())),
        "worst_driver": {"driver": worst, "accuracy": per_driver[worst]},
        "drivers_below_75": sorted(d for d, a in per_driver.items() if a < 0.75),
        "per_class_recall": dict(zip(CLASS_IDS, recall_of(cm), strict=True)),
        "grey_accuracy_mean": float(np.mean([f["grey_accuracy"] for f in per_fold])),
        "grey_pooled_accuracy": float(np.trace(grey_cm) / grey_cm.sum()),
        "grey_per_class_recall": dict(zip(CLASS_IDS, recall_of(grey_cm), strict=True)),
        "grey_per_driver_accuracy": dict(sorted(grey_driver.items())),
        "top_confusions": [
            {"truth": CLASS_IDS[t], "predicted": CLASS_IDS[p], "photos": int(off[t, p])} for t, p in top
        ],
        "confusion": cm.tolist(),
    }


def with_c0_bias(probs: np.ndarray, bias: float) -> np.ndarray:
    """Log-probabilities with ``bias`` added to safe driving (c0): the scores the biased classifier argmaxes."""
    shift = np.zeros(probs.shape[1])
    shift[0] = bias
    return np.log(np.maximum(probs, 1e-12)) + shift


def summarise(results: Path, folds: list[list[str]]) -> dict[str, object]:
    """Aggregate the finished ``foldK.json`` files into ``summary.json`` and ``summary.md``."""
    done = [
        json.loads((results / f"fold{k}.json").read_text())
        for k in range(1, len(folds) + 1)
        if (results / f"fold{k}.json").is_file()
    ]
    if not done:
        raise FileNotFoundError(f"no finished folds in {results}; run the folds first")
    summary = {
        "name": done[0]["settings"]["name"],
        "complete": len(done) == len(folds),
        "folds_done": [f["fold"] for f in done],
        "folds": folds,
        **aggregate(done, [f["fold"] for f in done]),
        "train_time_s": sum(f["train_time_s"] for f in done),
        "settings": done[0]["settings"],
    }
    predictions = read_predictions(results, len(folds))  # read once for the bias table and the biased figures
    table = c0_bias_table(*pooled(predictions))
    summary["c0_bias_table"] = table
    summary["chosen_c0_bias"] = choose_c0_bias(table)
    summary["with_chosen_c0_bias"] = biased_summary(predictions, summary["chosen_c0_bias"])
    write_confusion(results, np.array(summary["with_chosen_c0_bias"]["confusion"]))
    write_json(results / "summary.json", summary)
    (results / "summary.md").write_text(summary_markdown(summary, done))
    return summary


# Biases tried on the safe-driving log-probability, on the folds' saved predictions.
C0_BIASES = tuple(round(0.25 * i, 2) for i in range(13))


@dataclass(frozen=True)
class FoldPredictions:
    """One finished fold's held-out photos: colour and grey probabilities, labels, drivers."""

    fold: int
    probs: np.ndarray
    grey: np.ndarray
    labels: np.ndarray
    drivers: list[str]

    @classmethod
    def of(cls, fold: int, photos: list[dict]) -> FoldPredictions:
        """From the ``photos`` list of a ``foldK-predictions.json``."""
        return cls(
            fold,
            np.array([p["probs"] for p in photos]),
            np.array([p["grey_probs"] for p in photos]),
            np.array([p["label"] for p in photos]),
            [p["subject"] for p in photos],
        )


def read_predictions(results: Path, n_folds: int) -> list[FoldPredictions]:
    """Every finished fold's ``foldK-predictions.json`` under ``results``, in fold order."""
    return [
        FoldPredictions.of(k, json.loads(path.read_text())["photos"])
        for k in range(1, n_folds + 1)
        if (path := results / f"fold{k}-predictions.json").is_file()
    ]


def paired_predictions(names: list[str], root: Path) -> list[tuple[int, list[list[dict]]]]:
    """The folds every recipe in ``names`` finished, each recipe's photos in the same order.

    Returns:
        ``(fold, [photos of names[0], photos of names[1], ...])`` per common fold.

    Raises:
        ValueError: the recipes hold out different photos in a fold.
    """
    out = []
    for k in range(1, 100):
        paths = [root / name / f"fold{k}-predictions.json" for name in names]
        found = [p.is_file() for p in paths]
        if k > 5 and not any(found):
            break
        if not all(found):
            continue
        runs = [{ph["path"]: ph for ph in json.loads(p.read_text())["photos"]} for p in paths]
        keys = sorted(runs[0])
        if any(sorted(r) != keys for r in runs[1:]):
            raise ValueError(f"fold {k}: {' and '.join(names)} hold out different photos")
        out.append((k, [[r[key] for key in keys] for r in runs]))
    return out


def pooled(folds: list[FoldPredictions]) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """All folds' photos together, as :func:`c0_bias_table` takes them."""
    return (
        np.concatenate([f.probs for f in folds]),
        np.concatenate([f.grey for f in folds]),
        np.concatenate([f.labels for f in folds]),
        [d for f in folds for d in f.drivers],
    )


def c0_bias_table(
    probs: np.ndarray, grey: np.ndarray, labels: np.ndarray, drivers: list[str], biases: tuple[float, ...] = C0_BIASES
) -> list[dict[str, float]]:
    """Held-out figures when ``bias`` is added to the safe-driving log-probability before the argmax.

    The bias is the decision rule's one free parameter: it trades false alarms
    (safe driving called a distraction) against missed talking to the
    passenger. Added to the classifier's c0 bias it changes the scores only;
    the CAMs (the linear weights applied to the feature maps) stay the same.
    """
    subj = np.array(drivers)
    rows = []
    for bias in biases:
        pred = with_c0_bias(probs, bias).argmax(1)
        grey_pred = with_c0_bias(grey, bias).argmax(1)
        recall = recall_of(confusion(labels, pred))
        per_driver = [float((pred[subj == d] == labels[subj == d]).mean()) for d in sorted(set(drivers))]
        rows.append(
            {
                "bias": bias,
                "accuracy": float((pred == labels).mean()),
                "grey_accuracy": float((grey_pred == labels).mean()),
                "worst_driver_accuracy": min(per_driver),
                "safe_driving_recall": recall[0] or 0.0,
                "talking_recall": recall[9] or 0.0,
            }
        )
    return rows


# Biases whose pooled accuracy is this close to the best count as equally accurate.
C0_BIAS_TOLERANCE = 0.0025


def biased_summary(folds: list[FoldPredictions], bias: float) -> dict[str, object]:
    """The headline figures again, with ``bias`` added to every held-out photo's safe-driving log-probability."""
    per_fold = [
        fold_metrics(with_c0_bias(f.probs, bias), with_c0_bias(f.grey, bias), f.labels, f.drivers) for f in folds
    ]
    return {"c0_bias": bias, **aggregate(per_fold, [f.fold for f in folds])}


def write_confusion(results: Path, cm: np.ndarray) -> None:
    """``confusion.txt`` and ``confusion.png``: every held-out photo of every fold, with the chosen bias."""
    import cv2
    from evaluate import confusion_png, confusion_text

    (results / "confusion.txt").write_text(confusion_text(cm, list(CLASS_IDS)))
    cv2.imwrite(str(results / "confusion.png"), confusion_png(cm, list(LABELS)))


def choose_c0_bias(table: list[dict[str, float]], tolerance: float = C0_BIAS_TOLERANCE) -> float:
    """Among the biases within ``tolerance`` of the best pooled accuracy, the one with the most safe-driving recall.

    Accuracy alone is nearly flat around its peak; there, fewer false alarms
    (safe driving called a distraction) are worth more to a driver than the
    last few photos of accuracy.
    """
    best = max(row["accuracy"] for row in table)
    near = [row for row in table if row["accuracy"] >= best - tolerance]
    return max(near, key=lambda row: (row["safe_driving_recall"], -row["bias"]))["bias"]


def _pct(v: float | None) -> str:
    return "n/a" if v is None else f"{100 * v:.1f}"


def summary_markdown(s: dict, done: list[dict]) -> str:
    lines = [f"# Cross-validation: {s['name']}", ""]
    if not s["complete"]:
        lines += [f"**Partial: folds {s['folds_done']} of {len(s['folds'])} finished.**", ""]
    lines += [
        (
            f"Accuracy over folds: mean **{_pct(s['accuracy_mean'])} %** (std {_pct(s['accuracy_std'])}, "
            f"min {_pct(s['accuracy_min'])}, max {_pct(s['accuracy_max'])}); pooled {_pct(s['pooled_accuracy'])} %. "
            f"Greyscale: mean {_pct(s['grey_accuracy_mean'])} %. Worst driver: **{s['worst_driver']['driver']} "
            f"{_pct(s['worst_driver']['accuracy'])} %**."
        ),
        "",
        "| fold | held-out drivers | photos | accuracy % | greyscale % | per driver % |",
        "|---|---|---|---|---|---|",
    ]
    for f in done:
        drivers = " ".join(f"{d} {_pct(a)}" for d, a in f["per_driver_accuracy"].items())
        lines.append(
            f"| {f['fold']} | {' '.join(f['heldout_drivers'])} | {f['photos']} | {_pct(f['accuracy'])} | "
            f"{_pct(f['grey_accuracy'])} | {drivers} |"
        )
    lines += [
        "",
        *_recall_table(s),
        "",
        "Largest confusions (truth -> predicted, photos): " + _confusions(s),
        "",
        "A bias added to the safe-driving log-probability (pooled held-out predictions). The shipped model takes, "
        f"among the biases within {100 * C0_BIAS_TOLERANCE:.2f} points of the best accuracy, the one with the most "
        f"safe-driving recall: **{s['chosen_c0_bias']}**.",
        "",
        "| c0 bias | accuracy % | greyscale % | worst driver % | safe-driving recall % | talking recall % |",
        "|---|---|---|---|---|---|",
    ]
    for row in s["c0_bias_table"]:
        lines.append(
            f"| {row['bias']} | {_pct(row['accuracy'])} | {_pct(row['grey_accuracy'])} | "
            f"{_pct(row['worst_driver_accuracy'])} | {_pct(row['safe_driving_recall'])} | "
            f"{_pct(row['talking_recall'])} |"
        )
    b = s["with_chosen_c0_bias"]
    lines += [
        "",
        f"With the chosen bias ({b['c0_bias']}): mean **{_pct(b['accuracy_mean'])} %** over folds (std "
        f"{_pct(b['accuracy_std'])}, min {_pct(b['accuracy_min'])}, max {_pct(b['accuracy_max'])}), greyscale "
        f"{_pct(b['grey_accuracy_mean'])} %, worst driver {b['worst_driver']['driver']} "
        f"{_pct(b['worst_driver']['accuracy'])} %; per fold: "
        + ", ".join(f"{k} {_pct(a)}" for k, a in b["per_fold_accuracy"].items())
        + "; per driver: "
        + ", ".join(f"{d} {_pct(a)}" for d, a in b["per_driver_accuracy"].items())
        + ".",
        "",
        *_recall_table(b),
        "",
        "Largest confusions: " + _confusions(b),
        "",
    ]
    return "\n".join(lines)


def _recall_table(block: dict) -> list[str]:
    """Markdown rows of per-class recall in colour and grey."""
    rows = ["| class | recall % (colour) | recall % (grey) |", "|---|---|---|"]
    for cid, label in zip(CLASS_IDS, LABELS, strict=True):
        rows.append(
            f"| {cid} {label} | {_pct(block['per_class_recall'][cid])} | {_pct(block['grey_per_class_recall'][cid])} |"
        )
    return rows


def _confusions(block: dict) -> str:
    return ", ".join(f"{c['truth']} -> {c['predicted']} {c['photos']}" for c in block["top_confusions"])
