"""How should a 16:9 frame meet the model's 4:3 input? Measure stretch, pad and centre-crop.

The held-out drivers' photos (4:3) are widened to 16:9 by adding cabin at the
sides, made from the photo's own edge columns (replicated, then blurred, so
the bands carry no sharp structure), either evenly on both sides or split at a
seeded random ratio (the driver off-centre, as in a real wide camera). Each
widened photo then meets the model three ways:

* ``stretch``: resized to the input, squeezing it horizontally (drivercam's default);
* ``pad``: scaled to fit the input's width, with grey bands above and below;
* ``crop``: the central 4:3 part, resized to the input;

plus ``roi``: the original photo region, as ``--roi`` would give it.

    python tools/eval_aspect.py models/drivercam.onnx [--data ../shared/data] [--limit N]

Prints the top-1 accuracy of each handling and writes nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dataset import default_data_dir, load_bgr, read_samples

from drivercam.model import OnnxClassifier


def widen(image: np.ndarray, left_share: float) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """The photo widened to 16:9 with blurred edge bands; returns it and the photo's (x, y, w, h) in it."""
    h, w = image.shape[:2]
    extra = round(h * 16 / 9) - w
    left = round(extra * left_share)
    wide = cv2.copyMakeBorder(image, 0, 0, left, extra - left, cv2.BORDER_REPLICATE)
    blurred = cv2.GaussianBlur(wide, (0, 0), 8)
    out = blurred.copy()
    out[:, left : left + w] = image
    return out, (left, 0, w, h)


def fit(image: np.ndarray, how: str, size_hw: tuple[int, int]) -> np.ndarray:
    """The model input made from ``image`` by one handling (before the classifier's own resize)."""
    h, w = image.shape[:2]
    th, tw = size_hw
    if how == "stretch":
        return image
    if how == "crop":
        cw = min(w, round(h * tw / th))
        x = (w - cw) // 2
        return image[:, x : x + cw]
    if how == "pad":
        scale = tw / w
        nh = round(h * scale)
        small = cv2.resize(image, (tw, nh), interpolation=cv2.INTER_AREA)
        top = (th - nh) // 2
        return cv2.copyMakeBorder(small, top, th - nh - top, 0, 0, cv2.BORDER_CONSTANT, value=(128, 128, 128))
    raise ValueError(f"unknown handling {how!r}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--limit", type=int, default=None, help="photos at most (every held-out photo by default)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    classifier = OnnxClassifier(args.model)
    subjects = set(json.loads(classifier.metadata.get("heldout_subjects", "[]")))
    if not subjects:
        raise SystemExit(f"{args.model} names no held-out drivers (metadata heldout_subjects)")
    data = args.data or default_data_dir()
    samples = read_samples(data / "statefarm" / "labels.csv")
    samples = [s for s in samples if s.subject in subjects][: args.limit]
    size_hw = classifier.input_size
    rng = np.random.default_rng(args.seed)
    hows = ("stretch", "pad", "crop")
    correct = {(layout, how): 0 for layout in ("centred", "off-centre") for how in (*hows, "roi")}
    for sample in samples:
        photo = load_bgr(sample.path)
        truth = sample.label
        for layout, share in (("centred", 0.5), ("off-centre", float(rng.uniform(0, 1)))):
            wide, (x, y, w, h) = widen(photo, share)
            inputs = [fit(wide, how, size_hw) for how in hows] + [wide[y : y + h, x : x + w]]
            probs, _ = classifier(inputs)
            for how, p in zip((*hows, "roi"), probs):
                correct[(layout, how)] += int(np.argmax(p) == truth)
    print(f"{len(samples)} held-out photos of {', '.join(sorted(subjects))}, widened from 4:3 to 16:9")
    print("| widening | stretch | pad | centre-crop | ROI (the photo) |")
    print("|---|---|---|---|---|")
    for layout in ("centred", "off-centre"):
        cells = [f"{100 * correct[(layout, how)] / len(samples):.1f} %" for how in (*hows, "roi")]
        print(f"| {layout} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
