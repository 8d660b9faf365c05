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
import dataclasses
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from crossval_summary import FoldPredictions, c0_bias_table, choose_c0_bias, paired_predictions, with_c0_bias
from ensemble import geometric_mean

REPO = Path(__file__).resolve().parent.parent


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
    try:
        paired = paired_predictions([a, b], root)
    except ValueError as e:
        raise SystemExit(f"{e}; they cannot be compared") from None
    if not paired:
        raise SystemExit(f"no fold finished by both {a} and {b}")
    folds = [k for k, _ in paired]
    rows_a = [p for _, (photos, _) in paired for p in photos]
    rows_b = [p for _, (_, photos) in paired for p in photos]
    fold_ids = [k for k, (photos, _) in paired for _ in photos]

    # Both recipes' photos pooled over the common folds (fold number 0: the pool), and their ensemble.
    data = {a: FoldPredictions.of(0, rows_a), b: FoldPredictions.of(0, rows_b)}
    ensemble = f"{a}+{b}"
    data[ensemble] = dataclasses.replace(
        data[a],
        probs=geometric_mean([data[a].probs, data[b].probs]),
        grey=geometric_mean([data[a].grey, data[b].grey]),
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
        pool = data[name]
        chosen = choose_c0_bias(c0_bias_table(pool.probs, pool.grey, pool.labels, pool.drivers))
        for bias in sorted({0.0, chosen}):
            f = figures(pool.probs, pool.grey, pool.labels, np.array(pool.drivers), bias)
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
