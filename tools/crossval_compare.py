"""Two cross-validated recipes side by side, on the folds both have finished.

Reads ``models/crossval/<name>/foldK-predictions.json`` of each recipe. The folds
hold the same drivers (``crossval.py`` refuses other layouts under one name;
this command checks that the held-out drivers match), so the comparison is
paired: the same photos, each scored by two models that never saw its driver.
Printed as a Markdown table: accuracy per fold and pooled, greyscale, the worst
driver, safe-driving and talking-to-the-passenger recall, without a bias and
with each recipe's own chosen safe-driving bias (chosen on its finished folds),
how many photos one recipe gets right that the other gets wrong, and the two
recipes' ensemble (the mean of both models' log-probabilities, with its own
bias): what two models together get, a rough ceiling for distilling them into
one model of the shipped size.

Example::

    python tools/crossval_compare.py adv-cutmix baseline
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from crossval_summary import c0_bias_table, choose_c0_bias, with_c0_bias
from ensemble import geometric_mean

REPO = Path(__file__).resolve().parent.parent


def load(results: Path, fold: int) -> dict | None:
    path = results / f"fold{fold}-predictions.json"
    return json.loads(path.read_text()) if path.is_file() else None


def figures(probs: np.ndarray, grey: np.ndarray, labels: np.ndarray, drivers: np.ndarray, bias: float) -> dict:
    pred = with_c0_bias(probs, bias).argmax(1)
    grey_pred = with_c0_bias(grey, bias).argmax(1)
    per_driver = {d: float((pred[drivers == d] == labels[drivers == d]).mean()) for d in sorted(set(drivers))}
    worst = min(per_driver, key=per_driver.__getitem__)
    return {
        "correct": pred == labels,
        "accuracy": float((pred == labels).mean()),
        "grey": float((grey_pred == labels).mean()),
        "worst": (worst, per_driver[worst]),
        "safe": float((pred[labels == 0] == 0).mean()),
        "talking": float((pred[labels == 9] == 9).mean()),
    }


def compare(a: str, b: str, root: Path) -> str:
    rows_a: list[dict] = []
    rows_b: list[dict] = []
    folds: list[int] = []
    fold_ids: list[int] = []
    for k in range(1, 100):
        pa, pb = load(root / a, k), load(root / b, k)
        if pa is None and pb is None and k > 5:
            break
        if pa is None or pb is None:
            continue
        key_a = sorted((p["path"], p["subject"]) for p in pa["photos"])
        key_b = sorted((p["path"], p["subject"]) for p in pb["photos"])
        if key_a != key_b:
            raise SystemExit(f"fold {k}: {a} and {b} hold out different photos; they cannot be compared")
        order_b = {p["path"]: p for p in pb["photos"]}
        rows_a += pa["photos"]
        rows_b += [order_b[p["path"]] for p in pa["photos"]]
        fold_ids += [k] * len(pa["photos"])
        folds.append(k)
    if not folds:
        raise SystemExit(f"no fold finished by both {a} and {b}")

    def arrays(rows: list[dict]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        return (
            np.array([r["probs"] for r in rows]),
            np.array([r["grey_probs"] for r in rows]),
            np.array([r["label"] for r in rows]),
            np.array([r["subject"] for r in rows]),
        )

    data = {a: arrays(rows_a), b: arrays(rows_b)}
    ensemble = f"{a}+{b}"
    data[ensemble] = (
        geometric_mean([data[a][0], data[b][0]]),
        geometric_mean([data[a][1], data[b][1]]),
        *data[a][2:],
    )
    lines = [
        f"Folds finished by both: {folds} ({len(rows_a)} held-out photos, the same for both).",
        "",
        "| recipe | bias | accuracy % | per fold % | greyscale % | worst driver % | safe-driving recall % "
        "| talking recall % |",
        "|---|---|---|---|---|---|---|---|",
    ]
    fold_of = np.array(fold_ids)
    results = {}
    for name in (a, b, ensemble):
        probs, grey, labels, drivers = data[name]
        chosen = choose_c0_bias(c0_bias_table(probs, grey, labels, list(drivers)))
        for bias in sorted({0.0, chosen}):
            f = figures(probs, grey, labels, drivers, bias)
            results[(name, bias == 0.0)] = f
            per_fold = " / ".join(f"{100 * f['correct'][fold_of == k].mean():.1f}" for k in folds)
            lines.append(
                f"| {name} | {bias} | {100 * f['accuracy']:.1f} | {per_fold} | {100 * f['grey']:.1f} | "
                f"{f['worst'][0]} {100 * f['worst'][1]:.1f} | {100 * f['safe']:.1f} | {100 * f['talking']:.1f} |"
            )
    ca, cb = results[(a, True)]["correct"], results[(b, True)]["correct"]
    lines += [
        "",
        f"Without a bias: {int((ca & ~cb).sum())} photos right by {a} only, {int((cb & ~ca).sum())} by {b} only.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("a", help="recipe name (folder under models/crossval)")
    p.add_argument("b", help="the other recipe")
    p.add_argument("--root", type=Path, default=REPO / "models" / "crossval")
    args = p.parse_args(argv)
    print(compare(args.a, args.b, args.root), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
