"""Evaluate a drivercam ONNX model on labelled photos: accuracy, per-class results, CAMs.

Input is either a labels CSV (``path,class,subject``, paths relative to the CSV)
or a folder with one sub-folder per class id (``c0/``, ``c1/``, ...). Writes to
``--out``:

- ``metrics.json``: accuracy, per-class precision / recall / F1, confusion matrix;
- ``confusion.txt`` and ``confusion.png``: the confusion matrix (counts, rows = truth);
- ``contact_sheet.png`` (with ``--contact-sheet``): for every class, real frames
  with the CAM of the predicted class blended over them and the prediction written
  on them. Pictures made from the data set are for looking at, not for committing.

Accuracy is only meaningful on drivers the model never saw: by default the
drivers listed in the model's ``heldout_subjects`` metadata are used.

Example::

    python tools/evaluate.py models/drivercam.onnx --out out/eval --contact-sheet
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from dataset import CLASS_IDS, Sample, default_data_dir, load_bgr, read_samples

from drivercam.model import OnnxClassifier
from drivercam.render.cam import cam_for_frame
from drivercam.render.heatmap import blend_levels, cam_levels
from drivercam.render.overlay import draw_label

log = logging.getLogger("evaluate")


def folder_samples(folder: Path) -> list[Sample]:
    samples = []
    for label, cid in enumerate(CLASS_IDS):
        for path in sorted((folder / cid).glob("*")):
            if path.suffix.lower() in (".jpg", ".jpeg", ".png", ".bmp"):
                samples.append(Sample(path, label, "unknown"))
    if not samples:
        raise SystemExit(f"evaluate: no images in class folders {folder}/c0 ... {folder}/c9")
    return samples


def confusion_matrix(truth: np.ndarray, pred: np.ndarray, n: int) -> np.ndarray:
    cm = np.zeros((n, n), dtype=np.int64)
    np.add.at(cm, (truth, pred), 1)
    return cm


def per_class_scores(cm: np.ndarray) -> list[dict[str, float]]:
    rows = []
    for c in range(cm.shape[0]):
        tp = cm[c, c]
        support = cm[c].sum()
        predicted = cm[:, c].sum()
        precision = tp / predicted if predicted else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        rows.append({"precision": float(precision), "recall": float(recall), "f1": float(f1), "support": int(support)})
    return rows


def confusion_text(cm: np.ndarray, ids: list[str]) -> str:
    width = max(5, len(str(cm.max())) + 1)
    lines = ["truth \\ pred " + "".join(f"{i:>{width}}" for i in ids)]
    for i, row in enumerate(cm):
        lines.append(f"{ids[i]:>13} " + "".join(f"{v:>{width}}" for v in row))
    return "\n".join(lines) + "\n"


def confusion_png(cm: np.ndarray, labels: list[str], cell: int = 56) -> np.ndarray:
    """A white chart: cells shaded by row-normalised value, counts written in them."""
    n = cm.shape[0]
    left, top = 230, 40
    image = np.full((top + n * cell + 20, left + n * cell + 20, 3), 255, np.uint8)
    norm = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    font = cv2.FONT_HERSHEY_SIMPLEX
    for i in range(n):
        cv2.putText(
            image, f"c{i} {labels[i]}"[:28], (6, top + i * cell + cell // 2 + 5), font, 0.45, (0, 0, 0), 1, cv2.LINE_AA
        )
        cv2.putText(image, f"c{i}", (left + i * cell + cell // 2 - 10, top - 12), font, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
        for j in range(n):
            shade = int(255 - 200 * norm[i, j])
            color = (255, shade, shade) if i != j else (shade, 255, shade)
            x0, y0 = left + j * cell, top + i * cell
            cv2.rectangle(image, (x0, y0), (x0 + cell, y0 + cell), color, -1)
            cv2.rectangle(image, (x0, y0), (x0 + cell, y0 + cell), (200, 200, 200), 1)
            if cm[i, j]:
                text_color = (255, 255, 255) if norm[i, j] > 0.6 else (0, 0, 0)
                cv2.putText(image, str(cm[i, j]), (x0 + 8, y0 + cell // 2 + 5), font, 0.45, text_color, 1, cv2.LINE_AA)
    cv2.putText(
        image,
        "rows: true class, columns: predicted",
        (left, top + n * cell + 15),
        font,
        0.45,
        (60, 60, 60),
        1,
        cv2.LINE_AA,
    )
    return image


def contact_sheet(
    items: dict[int, list[tuple[np.ndarray, np.ndarray, np.ndarray]]],
    labels: list[str],
    *,
    tile: tuple[int, int] = (180, 240),
) -> np.ndarray:
    """One row per true class: frames with the CAM of their predicted class blended in."""
    th, tw = tile
    per_row = max((len(v) for v in items.values()), default=1)
    rows = []
    for c in range(len(labels)):
        tiles = []
        for image, probs, cams in items.get(c, []):
            pred = int(np.argmax(probs))
            shown = blend_levels(image, cam_levels(cams, pred, image.shape), 0.45, "jet", "evidence")
            shown = draw_label(
                shown, labels[pred], float(probs[pred]), subtitle=f"truth: {labels[c]}" if pred != c else None
            )
            tiles.append(cv2.resize(shown, (tw, th), interpolation=cv2.INTER_AREA))
        tiles += [np.full((th, tw, 3), 255, np.uint8)] * (per_row - len(tiles))
        header = np.full((24, tw * per_row, 3), 255, np.uint8)
        cv2.putText(header, f"c{c} {labels[c]}", (6, 17), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (0, 0, 0), 1, cv2.LINE_AA)
        rows += [header, np.hstack(tiles)]
    return np.vstack(rows)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("model", type=Path)
    src = p.add_mutually_exclusive_group()
    src.add_argument("--csv", type=Path, help="labels CSV (default: DATA/statefarm/labels.csv)")
    src.add_argument("--folder", type=Path, help="folder with c0 ... c9 class sub-folders")
    p.add_argument("--data", type=Path, default=None, help="data folder (default: $DRIVERCAM_DATA or ../shared/data)")
    p.add_argument(
        "--subjects",
        default=None,
        help="comma-separated drivers to evaluate on (default: the model's held-out drivers; 'all' = every photo)",
    )
    p.add_argument("--limit", type=int, default=0, help="evaluate at most this many photos")
    p.add_argument("--out", type=Path, default=Path("out/eval"))
    p.add_argument("--contact-sheet", action="store_true", help="also draw real frames with their CAMs")
    p.add_argument("--per-class", type=int, default=4, help="frames per class on the contact sheet")
    p.add_argument("--device", default="cpu")
    p.add_argument("--batch-size", type=int, default=16)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    clf = OnnxClassifier(args.model, device=args.device, max_batch=args.batch_size)
    labels = list(clf.labels)
    if args.folder:
        samples = folder_samples(args.folder)
    else:
        samples = read_samples(args.csv or (args.data or default_data_dir()) / "statefarm" / "labels.csv")
        if args.subjects != "all":
            wanted = (
                set(args.subjects.split(","))
                if args.subjects
                else set(json.loads(clf.metadata.get("heldout_subjects", "[]")))
            )
            if not wanted:
                raise SystemExit(
                    "evaluate: the model names no held-out drivers; pass --subjects p0xx,... or --subjects all"
                )
            seen = set(json.loads(clf.metadata.get("train_subjects", "[]")))
            if wanted & seen:
                log.warning(
                    "drivers %s were in the training set: this accuracy is not on unseen drivers", sorted(wanted & seen)
                )
            samples = [s for s in samples if s.subject in wanted]
    if args.limit:
        rng = np.random.default_rng(0)
        samples = [samples[i] for i in sorted(rng.permutation(len(samples))[: args.limit])]
    if not samples:
        raise SystemExit("evaluate: no photos to evaluate")

    truth = np.array([s.label for s in samples])
    preds = np.zeros(len(samples), dtype=np.int64)
    hot_area = np.zeros(len(samples), dtype=np.float64)
    rng = np.random.default_rng(0)
    sheet_picks = {
        c: set(rng.permutation(np.flatnonzero(truth == c))[: args.per_class].tolist()) for c in range(len(labels))
    }
    sheet: dict[int, list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = {}
    for start in tqdm(range(0, len(samples), args.batch_size), desc="evaluate", unit="batch"):
        chunk = samples[start : start + args.batch_size]
        images = [load_bgr(s.path) for s in chunk]
        probs, cams = clf(images)
        preds[start : start + len(chunk)] = probs.argmax(1)
        for k, image in enumerate(images):
            # Share of the frame where the predicted class's map is at least half its peak:
            # smaller means a more focused (sharper) map.
            cam = cam_for_frame(cams[k], int(probs[k].argmax()), image.shape)
            hot_area[start + k] = float((cam >= 0.5).mean())
        if args.contact_sheet:
            for k, image in enumerate(images):
                i = start + k
                if i in sheet_picks[truth[i]]:
                    sheet.setdefault(int(truth[i]), []).append((image, probs[k], cams[k]))

    subjects = np.array([s.subject for s in samples])
    cm = confusion_matrix(truth, preds, len(labels))
    per_class = per_class_scores(cm)
    result = {
        "model": str(args.model),
        "photos": len(samples),
        "subjects": np.unique(subjects).tolist(),
        "accuracy": float((truth == preds).mean()),
        "per_subject_accuracy": {
            subj: float((truth[subjects == subj] == preds[subjects == subj]).mean()) for subj in np.unique(subjects)
        },
        "cam_size": list(clf.cam_size),
        "cam_hot_area_mean": float(hot_area.mean()),
        "per_class": {f"c{i} {labels[i]}": v for i, v in enumerate(per_class)},
        "confusion_matrix": cm.tolist(),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "metrics.json").write_text(json.dumps(result, indent=2) + "\n")
    text = confusion_text(cm, list(clf.class_ids))
    (args.out / "confusion.txt").write_text(text)
    cv2.imwrite(str(args.out / "confusion.png"), confusion_png(cm, labels))
    print(f"accuracy {result['accuracy']:.4f} on {len(samples)} photos of {len(result['subjects'])} drivers")
    per_subject = result["per_subject_accuracy"]
    print("  per driver: " + ", ".join(f"{k} {v:.3f}" for k, v in per_subject.items()))
    print(
        f"  CAM {clf.cam_size[0]}x{clf.cam_size[1]}; mean share of the frame at >= half the peak: {hot_area.mean():.3f}"
    )
    for i, row in enumerate(per_class):
        print(
            f"  c{i} {labels[i]:<22} precision {row['precision']:.3f}  recall {row['recall']:.3f}  n={row['support']}"
        )
    print(text, end="")
    if args.contact_sheet:
        cv2.imwrite(str(args.out / "contact_sheet.png"), contact_sheet(sheet, labels))
        print(f"contact sheet: {args.out / 'contact_sheet.png'}")
    print(f"wrote {args.out}/metrics.json, confusion.txt, confusion.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
