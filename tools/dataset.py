"""Labelled in-cabin photos: CSV reading, driver-wise splits, and augmentations.

The augmentations suit a fixed in-cabin camera: light and colour changes, blur,
sensor noise, small shifts, scales and rotations, and occluding patches. There is
deliberately no horizontal flip: a mirrored driver texting with the right hand
looks like one texting with the left, which is another class.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

CLASS_IDS = tuple(f"c{i}" for i in range(10))
LABELS = (
    "safe driving",
    "texting - right hand",
    "phone - right hand",
    "texting - left hand",
    "phone - left hand",
    "operating the radio",
    "drinking",
    "reaching behind",
    "hair and makeup",
    "talking to passenger",
)


def default_data_dir() -> Path:
    """``$DRIVERCAM_DATA`` or ``../shared/data`` next to the repository."""
    env = os.environ.get("DRIVERCAM_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parent.parent.parent / "shared" / "data"


@dataclass(frozen=True)
class Sample:
    path: Path
    label: int
    subject: str


def read_samples(csv_path: Path) -> list[Sample]:
    """Rows ``path,class,subject`` of a labels CSV; paths are relative to the CSV's folder."""
    if not csv_path.is_file():
        raise FileNotFoundError(f"labels file not found: {csv_path}; set --data to the data folder")
    samples = []
    with csv_path.open(newline="") as fh:
        for row in csv.DictReader(fh):
            cls = row["class"]
            if cls not in CLASS_IDS:
                raise ValueError(f"{csv_path}: unknown class {cls!r}; expected one of {CLASS_IDS}")
            samples.append(Sample(csv_path.parent / row["path"], CLASS_IDS.index(cls), row["subject"]))
    return samples


def split_by_subject(samples: list[Sample], holdout: set[str]) -> tuple[list[Sample], list[Sample]]:
    """Train on every driver not in ``holdout``; validate on the held-out drivers only."""
    train = [s for s in samples if s.subject not in holdout]
    val = [s for s in samples if s.subject in holdout]
    if set(s.subject for s in train) & set(s.subject for s in val):
        raise AssertionError("a driver is on both sides of the split")
    return train, val


def subject_folds(subjects: list[str], k: int, seed: int) -> list[set[str]]:
    """Partition drivers into ``k`` disjoint held-out groups."""
    rng = np.random.default_rng(seed)
    order = sorted(subjects)
    rng.shuffle(order)
    return [set(order[i::k]) for i in range(k)]


def load_bgr(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise OSError(f"could not read image {path}")
    return image


def interpolation_for(src_hw: tuple[int, int], dst_hw: tuple[int, int]) -> int:
    """The runtime's resize rule: INTER_AREA when shrinking in both directions, else INTER_LINEAR.

    Kept here rather than imported so that tools/ does not depend on where the
    runtime package keeps its preprocessing; ``tests/tools/test_crossval.py``
    checks that both rules agree.
    """
    shrinking = dst_hw[0] <= src_hw[0] and dst_hw[1] <= src_hw[1]
    return cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR


def resize(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize as the runtime does (same interpolation rule), so training sees what inference sees."""
    interp = interpolation_for(image.shape[:2], (height, width))
    return cv2.resize(image, (width, height), interpolation=interp)


@dataclass(frozen=True)
class AugmentConfig:
    """Strength of each augmentation; all are applied with independent probabilities."""

    max_shift: float = 0.06
    max_scale: float = 0.10
    max_rotate_deg: float = 6.0
    brightness: float = 0.30
    contrast: float = 0.30
    saturation: float = 0.35
    hue_deg: float = 8.0
    blur_p: float = 0.3
    noise_p: float = 0.3
    occlusion_p: float = 0.4
    grayscale_p: float = 0.1


# Stronger appearance changes for training that should not recognise drivers by
# skin tone, hair colour, clothing or the car's light: a quarter of the views in
# grey (a night-time infrared camera gives grey frames), wider hue, saturation,
# brightness and contrast swings, and more occluding patches. Geometry stays as
# mild as in the default: the camera is fixed.
IDENTITY_AUGMENT = AugmentConfig(
    brightness=0.35, contrast=0.35, saturation=0.5, hue_deg=18.0, occlusion_p=0.5, grayscale_p=0.25
)


def to_greyscale(image: np.ndarray) -> np.ndarray:
    """BGR uint8 -> the same photo in grey, still three channels (what a mono camera feeds the model)."""
    return cv2.cvtColor(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)


def augment(image: np.ndarray, rng: np.random.Generator, cfg: AugmentConfig = AugmentConfig()) -> np.ndarray:
    """Random photometric and small geometric changes of a BGR uint8 image (no flips)."""
    h, w = image.shape[:2]
    scale = 1.0 + rng.uniform(-cfg.max_scale, cfg.max_scale)
    angle = rng.uniform(-cfg.max_rotate_deg, cfg.max_rotate_deg)
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, scale)
    matrix[0, 2] += rng.uniform(-cfg.max_shift, cfg.max_shift) * w
    matrix[1, 2] += rng.uniform(-cfg.max_shift, cfg.max_shift) * h
    out = cv2.warpAffine(image, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)

    hsv = cv2.cvtColor(out, cv2.COLOR_BGR2HSV).astype(np.float32)
    hsv[..., 0] = (hsv[..., 0] + rng.uniform(-cfg.hue_deg, cfg.hue_deg) / 2.0) % 180.0
    hsv[..., 1] *= 1.0 + rng.uniform(-cfg.saturation, cfg.saturation)
    out = cv2.cvtColor(np.clip(hsv, 0, 255).astype(np.uint8), cv2.COLOR_HSV2BGR).astype(np.float32)
    out = out * (1.0 + rng.uniform(-cfg.contrast, cfg.contrast))
    out += rng.uniform(-cfg.brightness, cfg.brightness) * 128.0
    if rng.random() < cfg.grayscale_p:
        gray = out.mean(axis=2, keepdims=True)
        out = np.repeat(gray, 3, axis=2)
    if rng.random() < cfg.noise_p:
        out += rng.normal(0.0, rng.uniform(2.0, 8.0), out.shape).astype(np.float32)
    out = np.clip(out, 0, 255).astype(np.uint8)
    if rng.random() < cfg.blur_p:
        k = int(rng.choice([3, 5]))
        out = cv2.GaussianBlur(out, (k, k), 0)
    if rng.random() < cfg.occlusion_p:
        oh = int(h * rng.uniform(0.1, 0.3))
        ow = int(w * rng.uniform(0.1, 0.3))
        y0 = int(rng.integers(0, h - oh + 1))
        x0 = int(rng.integers(0, w - ow + 1))
        out[y0 : y0 + oh, x0 : x0 + ow] = rng.integers(0, 256, 3, dtype=np.uint8)
    return out


def to_tensor_input(bgr: np.ndarray) -> np.ndarray:
    """BGR uint8 (H, W, 3) -> float32 (3, H, W) scaled as the ImageNet weights expect."""
    rgb = bgr[..., ::-1].astype(np.float32)
    return np.ascontiguousarray(((rgb - 127.0) / 128.0).transpose(2, 0, 1))
