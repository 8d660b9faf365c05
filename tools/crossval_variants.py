"""fp16 and int8 variants measured on the cross-validation folds' held-out photos.

For every finished fold of a recipe (``OUT/foldK/model.pt`` from ``crossval.py``)
the fold model is exported as the shipped model is (fp32, with the
cross-validation's safe-driving bias), converted to fp16 and to int8 (calibrated
on photos of the fold's training drivers only), and all three are run with ONNX
Runtime on every 320x240 photo of the fold's four held-out drivers. So each
variant is measured on drivers no model in the chain has seen, over all 20
drivers in the end, instead of on one group.

Written to ``models/crossval/<name>/variants.json`` and ``variants.md``: per fold
and pooled, each variant's accuracy, its top-1 agreement with fp32, the largest
probability difference, and the agreement of the predicted class's CAM with
fp32's (mean Pearson correlation; largest difference of min-max-normalised maps).
Folds already measured are kept (resumable).

Example::

    python tools/crossval_variants.py --out runs/crossval-adv-cutmix --name adv-cutmix
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import variants
from dataset import default_data_dir, load_bgr, read_samples, resize
from export_onnx import apply_c0_bias, export, load_network

log = logging.getLogger("crossval_variants")

REPO = Path(__file__).resolve().parent.parent
VARIANTS = ("fp16", "int8")


def heldout_photos(data: Path, drivers: list[str], size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Every 320x240 photo of ``drivers``, resized as the runtime does; uint8 BGR NHWC and labels."""
    samples = [s for s in read_samples(data / "statefarm" / "labels.csv") if s.subject in set(drivers)]
    images = np.stack([resize(load_bgr(s.path), *size) for s in samples])
    return images, np.array([s.label for s in samples])


def calibration_photos(data: Path, drivers: list[str], count: int, size: tuple[int, int]) -> np.ndarray:
    samples = [s for s in read_samples(data / "statefarm" / "labels.csv") if s.subject in set(drivers)]
    rng = np.random.default_rng(2)
    chosen = [samples[i] for i in rng.permutation(len(samples))[:count]]
    return np.stack([resize(load_bgr(s.path), *size) for s in chosen])


def measure_fold(fold_dir: Path, data: Path, c0_bias: float, calibration: int) -> dict[str, object]:
    net, cfg = load_network(fold_dir / "model.pt")
    apply_c0_bias(net, c0_bias)
    size = (int(cfg["input_size"][0]), int(cfg["input_size"][1]))
    fp32 = fold_dir / "fold.onnx"
    export(net, fp32, input_size=size, stride=cfg["output_stride"], metadata={"c0_bias": str(c0_bias)})
    images, labels = heldout_photos(data, cfg["heldout_subjects"], size)
    result: dict[str, object] = {"heldout_drivers": cfg["heldout_subjects"], "photos": len(labels)}
    for name in VARIANTS:
        dst = fold_dir / f"fold-{name}.onnx"
        if name == "fp16":
            variants.to_fp16(fp32, dst)
        else:
            variants.to_int8(fp32, dst, calibration_photos(data, cfg["train_subjects"], calibration, size))
        result[name] = variants.compare(fp32, dst, images, labels)
        log.info("%s %s: %s", fold_dir.name, name, result[name])
    return result


def pooled(folds: dict[str, dict]) -> dict[str, dict[str, float]]:
    """Photo-weighted means over folds; maxima for the largest differences."""
    out = {}
    photos = np.array([f["photos"] for f in folds.values()], dtype=float)
    for name in VARIANTS:
        rows = [f[name] for f in folds.values()]

        def weighted(key: str, rows: list[dict] = rows) -> float:
            return float(np.average([r[key] for r in rows], weights=photos))

        out[name] = {
            "photos": float(photos.sum()),
            "accuracy_fp32": weighted("accuracy_fp32"),
            "accuracy_variant": weighted("accuracy_variant"),
            "accuracy_change_points": 100 * (weighted("accuracy_variant") - weighted("accuracy_fp32")),
            "top1_agreement": weighted("top1_agreement"),
            "cam_correlation_mean": weighted("cam_correlation_mean"),
            "max_prob_difference": max(r["max_prob_difference"] for r in rows),
            "cam_max_normalised_difference": max(r["cam_max_normalised_difference"] for r in rows),
            "ms_per_frame_fp32_cpu": float(np.median([r["ms_per_frame_fp32_cpu"] for r in rows])),
            "ms_per_frame_variant_cpu": float(np.median([r["ms_per_frame_variant_cpu"] for r in rows])),
        }
    return out


def markdown(name: str, report: dict) -> str:
    lines = [
        f"# fp16 and int8 on the held-out drivers of every fold: {name}",
        "",
        f"Folds measured: {sorted(report['folds'])}; {int(report['pooled']['int8']['photos'])} held-out photos; "
        f"safe-driving bias {report['c0_bias']} in every variant.",
        "",
        "| variant | accuracy % (fp32) | accuracy % (variant) | change, points | top-1 agreement % "
        "| CAM correlation (mean) | largest probability difference |",
        "|---|---|---|---|---|---|---|",
    ]
    for v in VARIANTS:
        r = report["pooled"][v]
        lines.append(
            f"| {v} | {100 * r['accuracy_fp32']:.1f} | {100 * r['accuracy_variant']:.1f} | "
            f"{r['accuracy_change_points']:+.2f} | {100 * r['top1_agreement']:.1f} | {r['cam_correlation_mean']:.4f} | "
            f"{r['max_prob_difference']:.3f} |"
        )
    lines += ["", "| fold | photos | int8 accuracy change, points | fp16 accuracy change, points |"]
    lines += ["|---|---|---|---|"]
    for k, f in sorted(report["folds"].items()):
        i8 = 100 * (f["int8"]["accuracy_variant"] - f["int8"]["accuracy_fp32"])
        f16 = 100 * (f["fp16"]["accuracy_variant"] - f["fp16"]["accuracy_fp32"])
        lines.append(f"| {k} | {f['photos']} | {i8:+.2f} | {f16:+.2f} |")
    lines += ["", "Speed is not compared here (`drivercam bench --model A --model B` does, side by side).", ""]
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, required=True, help="the cross-validation's run folder (holds foldK/model.pt)")
    p.add_argument("--name", required=True, help="recipe name")
    p.add_argument("--results", type=Path, default=None, help="results folder (default: models/crossval/NAME)")
    p.add_argument("--data", type=Path, default=None, help="data folder (default: $DRIVERCAM_DATA or ../shared/data)")
    p.add_argument("--calibration-photos", type=int, default=64, help="int8 calibration photos per fold")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    results = args.results or REPO / "models" / "crossval" / args.name
    summary_path = results / "summary.json"
    if not summary_path.is_file():
        print(f"error: no {summary_path}; run tools/crossval.py --name {args.name} first", file=sys.stderr)
        return 1
    c0_bias = float(json.loads(summary_path.read_text()).get("chosen_c0_bias", 0.0))
    data = args.data or default_data_dir()
    out_json = results / "variants.json"
    report = json.loads(out_json.read_text()) if out_json.is_file() else {"folds": {}}
    if report.get("c0_bias", c0_bias) != c0_bias:
        report = {"folds": {}}  # measured with another decision rule: start again
    report["c0_bias"] = c0_bias
    fold_dirs = sorted(d for d in args.out.glob("fold*") if (d / "model.pt").is_file())
    if not fold_dirs:
        print(f"error: no fold models in {args.out} (foldK/model.pt); run tools/crossval.py first", file=sys.stderr)
        return 1
    for fold_dir in fold_dirs:
        k = fold_dir.name.removeprefix("fold")
        if k in report["folds"]:
            log.info("fold %s already measured", k)
            continue
        t0 = time.time()
        report["folds"][k] = measure_fold(fold_dir, data, c0_bias, args.calibration_photos)
        log.info("fold %s measured in %.0f s", k, time.time() - t0)
        report["pooled"] = pooled(report["folds"])
        out_json.write_text(json.dumps(report, indent=1) + "\n")
    report["pooled"] = pooled(report["folds"])
    out_json.write_text(json.dumps(report, indent=1) + "\n")
    (results / "variants.md").write_text(markdown(args.name, report))
    log.info("wrote %s and %s", out_json, results / "variants.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
