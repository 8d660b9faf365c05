"""Draw docs/heatmap-styles.png: the two heatmap styles side by side on a synthetic cabin.

Everything in the picture is generated here: a cartoon driver holding a phone
to the ear, and a class activation map with its evidence on the hand and the
phone (plus the weak, spread-out values real maps have). The left half is the
classic full-frame blend (``--heatmap-style full``), the right half the default
evidence blend, both drawn by drivercam's own ``render_overlay``. No photo or
video of a real driver is used, so the picture may be committed.

Example::

    python docs/make_heatmap_styles.py            # writes docs/heatmap-styles.png
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
from dataset import LABELS  # the training tools' class labels, the bundled model's order

from drivercam.render.overlay import OverlayOptions, render_overlay

PHONE = 2


def cabin(height: int = 480, width: int = 640) -> np.ndarray:
    """A cartoon side view of a driver phoning with the right hand, BGR uint8."""
    img = np.zeros((height, width, 3), np.uint8)
    # Window (sky to trees), dashboard, seat.
    sky = np.linspace(235, 170, 200)[:, None]
    img[:200] = np.stack([sky + 10, sky - 5, sky - 40], axis=-1).clip(0, 255).astype(np.uint8)
    cv2.rectangle(img, (0, 150), (width, 200), (70, 120, 80), cv2.FILLED)
    img[200:] = (60, 58, 55)
    cv2.rectangle(img, (40, 170), (200, 470), (45, 45, 50), cv2.FILLED)  # seat back
    cv2.rectangle(img, (420, 230), (640, 300), (35, 35, 38), cv2.FILLED)  # dashboard
    # Driver: shirt, trousers, neck, head, hair, arm bent up to the ear.
    skin = (140, 170, 215)
    cv2.rectangle(img, (110, 240), (290, 420), (190, 140, 90), cv2.FILLED)  # shirt
    cv2.rectangle(img, (200, 380), (470, 440), (90, 60, 50), cv2.FILLED)  # thigh
    cv2.rectangle(img, (185, 200), (215, 250), skin, cv2.FILLED)  # neck
    cv2.circle(img, (200, 165), 52, skin, cv2.FILLED)  # head
    cv2.ellipse(img, (190, 140), (56, 40), 0, 180, 360, (40, 50, 60), cv2.FILLED)  # hair
    cv2.circle(img, (232, 158), 5, (60, 60, 60), cv2.FILLED)  # eye
    cv2.line(img, (250, 290), (300, 250), (190, 140, 90), 34)  # upper arm
    cv2.line(img, (300, 250), (255, 185), (190, 140, 90), 30)  # forearm
    cv2.circle(img, (252, 178), 17, skin, cv2.FILLED)  # hand
    cv2.rectangle(img, (238, 140), (252, 190), (25, 25, 25), cv2.FILLED)  # phone
    # Steering wheel and the other arm on it.
    cv2.ellipse(img, (470, 280), (30, 95), 0, 0, 360, (30, 30, 30), 12)
    cv2.line(img, (270, 300), (450, 300), (190, 140, 90), 28)
    cv2.circle(img, (455, 300), 15, skin, cv2.FILLED)
    return img


def phone_cam(seed: int = 0) -> np.ndarray:
    """(10, 12, 16) maps: the phoning class's evidence on the hand and phone, weak elsewhere."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:12, 0:16]
    cams = rng.normal(0.0, 0.25, (len(LABELS), 12, 16)).astype(np.float32)
    # 640x480 frame, 40 px per cell: the phone at about (245, 165) is cell (4.1, 6.1).
    cams[PHONE] += 3.0 * np.exp(-((yy - 3.9) ** 2 + (xx - 6.0) ** 2) / 3.0)
    cams[PHONE] += 1.0 * np.exp(-((yy - 7.0) ** 2 + (xx - 11.0) ** 2) / 6.0)  # some on the wheel hand
    return cams


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "heatmap-styles.png")
    args = parser.parse_args(argv)
    frame = cabin()
    probs = np.full(len(LABELS), 0.02, np.float32)
    probs[PHONE] = 1.0 - 0.02 * (len(LABELS) - 1)
    cams = phone_cam()
    halves = []
    for style, title in (("full", "--heatmap-style full"), ("evidence", "--heatmap-style evidence (default)")):
        image = render_overlay(frame, probs, cams, LABELS, OverlayOptions(heatmap_style=style, top_k=2))
        caption = np.full((36, image.shape[1], 3), 255, np.uint8)
        cv2.putText(caption, title, (12, 25), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (40, 40, 40), 2, cv2.LINE_AA)
        halves.append(np.vstack([caption, image]))
    gap = np.full((halves[0].shape[0], 12, 3), 255, np.uint8)
    picture = np.hstack([halves[0], gap, halves[1]])
    picture = cv2.resize(picture, (picture.shape[1] * 3 // 4, picture.shape[0] * 3 // 4), interpolation=cv2.INTER_AREA)
    if not cv2.imwrite(str(args.out), picture, [cv2.IMWRITE_PNG_COMPRESSION, 9]):
        print(f"could not write {args.out}", file=sys.stderr)
        return 1
    print(f"wrote {args.out} ({picture.shape[1]}x{picture.shape[0]})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
