"""Cache of the frozen early blocks' feature maps, built once and resumable.

Training on 2 CPU cores is practical only because the ImageNet-pretrained early
blocks stay frozen: their output for every view of every photo is computed once
and stored as float16, and fine-tuning then runs on the stored maps.

A view is one of:

- ``clean``: the photo resized to the input size, as the runtime sees it;
- ``aug``: the resized photo after :func:`dataset.augment` (never mirrored);
- ``grey``: the resized photo in grey (:func:`dataset.to_greyscale`), as a
  night-time infrared camera gives it.

Each row's augmentation is drawn from its own generator seeded with
``(seed, row)``, so a build interrupted at any point continues where it stopped
(``<cache>.progress`` counts the rows written) and gives exactly the rows an
uninterrupted build gives.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from dataset import (
    AugmentConfig,
    Sample,
    augment,
    load_bgr,
    resize,
    to_greyscale,
    to_tensor_input,
)
from effnet_lite import EfficientNetLite0
from tqdm import tqdm

log = logging.getLogger("featcache")

VIEWS = ("clean", "aug", "grey")


@dataclass(frozen=True)
class CacheJob:
    """One row of the cache: a photo and the view of it to store."""

    sample: Sample
    view: str

    def __post_init__(self) -> None:
        if self.view not in VIEWS:
            raise ValueError(f"view must be one of {VIEWS}, got {self.view!r}")


def render_view(job: CacheJob, size: tuple[int, int], rng: np.random.Generator, aug_cfg: AugmentConfig) -> np.ndarray:
    """The BGR uint8 image (H, W, 3) that row ``job`` stores the frozen maps of."""
    image = resize(load_bgr(job.sample.path), *size)
    if job.view == "aug":
        return augment(image, rng, aug_cfg)
    if job.view == "grey":
        return to_greyscale(image)
    return image


def frozen_maps(model: EfficientNetLite0, x: torch.Tensor, freeze_through: int) -> torch.Tensor:
    """Output of the stem and blocks ``0..freeze_through`` (the part that is never trained)."""
    return model.run_blocks(model.stem(x), 0, freeze_through + 1)


@torch.no_grad()
def build_cache(
    model: EfficientNetLite0,
    jobs: Sequence[CacheJob],
    path: Path,
    *,
    input_size: tuple[int, int],
    freeze_through: int,
    seed: int,
    aug_cfg: AugmentConfig,
    batch_size: int = 64,
    progress: bool = True,
    desc: str = "cache",
) -> np.ndarray:
    """Frozen-block maps of every job as a read-only float16 memmap (rows in job order).

    Args:
        model: network whose stem and first ``freeze_through + 1`` blocks are used (eval mode).
        jobs: the rows to compute.
        path: ``.npy`` file; ``.progress`` and ``.done`` files beside it track the build.
        input_size: (H, W) the photos are resized to.
        freeze_through: index of the last frozen block.
        seed: seeds each row's augmentation together with the row's index.
        aug_cfg: augmentation strength for ``aug`` rows.
        batch_size: rows per forward pass.
        progress: show a tqdm bar.
        desc: the bar's label.

    Returns:
        The cached maps, shape (len(jobs), C, h, w).
    """
    done_path = path.with_suffix(".done")
    progress_path = path.with_suffix(".progress")
    if done_path.exists():
        feats = np.load(path, mmap_mode="r")
        if len(feats) != len(jobs):
            raise RuntimeError(f"{path} holds {len(feats)} rows but {len(jobs)} were asked for; delete it to rebuild")
        return feats
    h, w = input_size
    model.eval()
    start = 0
    if path.exists() and progress_path.exists():
        feats = np.load(path, mmap_mode="r+")
        start = int(progress_path.read_text().strip() or 0)
        if len(feats) != len(jobs):
            raise RuntimeError(f"{path} holds {len(feats)} rows but {len(jobs)} were asked for; delete it to rebuild")
        log.info("continuing %s at row %d of %d", path.name, start, len(jobs))
    else:
        probe = frozen_maps(model, torch.zeros(1, 3, h, w), freeze_through)
        path.parent.mkdir(parents=True, exist_ok=True)
        feats = np.lib.format.open_memmap(path, mode="w+", dtype=np.float16, shape=(len(jobs), *probe.shape[1:]))
        progress_path.write_text("0\n")
    starts = range(start - start % batch_size, len(jobs), batch_size)
    bar = tqdm(
        starts,
        desc=desc,
        unit="batch",
        disable=not progress,
        initial=start // batch_size,
        total=-(-len(jobs) // batch_size),
    )
    for i, first in enumerate(bar):
        chunk = jobs[first : first + batch_size]
        images = [
            render_view(job, (h, w), np.random.default_rng([seed, first + j]), aug_cfg) for j, job in enumerate(chunk)
        ]
        x = torch.from_numpy(np.stack([to_tensor_input(im) for im in images]))
        feats[first : first + len(chunk)] = frozen_maps(model, x, freeze_through).numpy().astype(np.float16)
        if i % 8 == 7 or first + len(chunk) >= len(jobs):
            feats.flush()
            progress_path.write_text(f"{first + len(chunk)}\n")
    feats.flush()
    del feats
    done_path.write_text("ok\n")
    progress_path.unlink(missing_ok=True)
    return np.load(path, mmap_mode="r")
