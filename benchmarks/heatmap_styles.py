"""Time the two heatmap styles per frame: the classic full-frame blend and the evidence blend.

Times, per 640x480 frame (or the video's size), the whole heatmap step from the
(C, h, w) CAMs to the blended frame:

- ``full (one-step)``: ``heatmap_for_frame`` + ``blend_heatmap``, the path
  before the evidence style existed;
- ``full``: ``cam_levels`` + ``blend_levels(style="full")``;
- ``evidence``: ``cam_levels`` + ``blend_levels(style="evidence")``.

Each figure is the best of ``--rounds`` rounds of the mean over all maps
(shared machines make single calls noisy; the best round is the least
disturbed). The maps are synthetic (one warm blob, as CAMs usually have) unless
``--video`` is given, in which case the model runs on its first ``--frames``
frames and their real maps are used (nothing is written).

Example::

    python benchmarks/heatmap_styles.py
    python benchmarks/heatmap_styles.py --video clip.mp4 --frames 60
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from drivercam.render.heatmap import blend_heatmap, blend_levels, cam_levels, heatmap_for_frame


def synthetic_maps(count: int, seed: int = 0) -> list[np.ndarray]:
    """(10, 12, 16) CAMs with one warm blob each, at random places, over weak noise."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:12, 0:16]
    maps = []
    for _ in range(count):
        cams = rng.standard_normal((10, 12, 16)).astype(np.float32) * 0.3
        cy, cx = rng.uniform(2, 10), rng.uniform(2, 14)
        cams[0] += 5.0 * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / 6.0)
        maps.append(cams)
    return maps


def video_maps(video: Path, frames: int, model: Path | None) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The first ``frames`` frames of ``video`` and the model's CAMs of each (its predicted class first)."""
    from drivercam.model import OnnxClassifier, default_model_path
    from drivercam.sources import VideoFileSource

    classifier = OnnxClassifier(model or default_model_path())
    images, maps = [], []
    with VideoFileSource(video) as source:
        while len(images) < frames:
            frame = source.read()
            if frame is None:
                break
            probs, cams = classifier([frame.image])
            top = int(np.argmax(probs[0]))
            images.append(frame.image)
            maps.append(np.concatenate([cams[0][top : top + 1], np.delete(cams[0], top, axis=0)]))
    return images, maps


def best_ms(
    step: Callable[[np.ndarray, np.ndarray], object], images: list[np.ndarray], maps: list[np.ndarray], rounds: int
) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for i, cams in enumerate(maps):
            step(images[i % len(images)], cams)
        times.append(1000.0 * (time.perf_counter() - start) / len(maps))
    return min(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--video", type=Path, help="use this video's frames and the model's real maps")
    parser.add_argument("--model", type=Path, help="model for --video (default: the bundled one)")
    parser.add_argument("--frames", type=int, default=100, help="maps to time (default: 100)")
    parser.add_argument("--rounds", type=int, default=9, help="rounds; the best counts (default: 9)")
    parser.add_argument("--alpha", type=float, default=0.45)
    args = parser.parse_args(argv)

    if args.video is not None:
        images, maps = video_maps(args.video, args.frames, args.model)
    else:
        images = [np.random.default_rng(1).integers(0, 256, (480, 640, 3), dtype=np.uint8)]
        maps = synthetic_maps(args.frames)
    alpha = args.alpha
    steps: dict[str, Callable[[np.ndarray, np.ndarray], object]] = {
        "full (one-step)": lambda f, c: blend_heatmap(f, heatmap_for_frame(c, 0, f.shape, "jet"), alpha),
        "full": lambda f, c: blend_levels(f, cam_levels(c, 0, f.shape), alpha, "jet", "full"),
        "evidence": lambda f, c: blend_levels(f, cam_levels(c, 0, f.shape), alpha, "jet", "evidence"),
    }
    for step in steps.values():  # warm up
        step(images[0], maps[0])
    h, w = images[0].shape[:2]
    print(f"{len(maps)} maps, {w}x{h} frames, best of {args.rounds} rounds, ms per frame:")
    for name, step in steps.items():
        print(f"  {name:<16} {best_ms(step, images, maps, args.rounds):6.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
