"""Train the drivercam classifier on labelled in-cabin photos, split by driver.

Training runs in two phases so that it is practical on a laptop CPU:

1. **Cache.** The first ``--freeze-through`` + 1 blocks of the ImageNet-pretrained
   EfficientNet-Lite0 stay frozen. Their output for every photo (one clean view
   plus ``--views - 1`` augmented views of each full-resolution photo, one
   augmented view of each low-resolution photo) is computed once and stored as
   float16 in the run folder. This is where most of the FLOPs are, and it is done
   once, not once per epoch.
2. **Fine-tune.** The remaining blocks, the 1x1 head convolution and the linear
   classifier train on the cached maps (AdamW, warm-up then cosine decay, label
   smoothing), evaluated after every epoch on drivers held out of training.

Every epoch writes ``last.pt`` (model, optimiser, epoch, metrics); ``--resume``
continues from it, and a cache with the same settings is reused (an interrupted
cache build continues where it stopped). The fine-tuning loop and its optional
levers against identity shortcuts (``--adversary-weight``, ``--cutmix``,
``--safe-weight``) live in ``finetune.py``, shared with ``crossval.py``, which
estimates a recipe over five leave-drivers-out folds and trains the shipped
model on all drivers (``crossval.py --final``). The final
``model.pt`` holds the whole network and its settings for ``export_onnx.py``.

Example::

    python tools/train.py --out runs/s16 --holdout p014,p024,p047,p051
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dataset import (
    IDENTITY_AUGMENT,
    AugmentConfig,
    Sample,
    default_data_dir,
    read_samples,
    split_by_subject,
)
from effnet_lite import EfficientNetLite0, load_imagenet_weights
from featcache import CacheJob, build_cache
from finetune import EvalRows, Recipe, TrainablePart, TrainRows, fine_tune

log = logging.getLogger("train")

AUGMENTS = {"standard": AugmentConfig(), "identity": IDENTITY_AUGMENT}


def parse_size(text: str) -> tuple[int, int]:
    try:
        h, w = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must look like 192x256 (HxW), got {text!r}") from None
    if h % 32 or w % 32:
        raise argparse.ArgumentTypeError(f"height and width must be multiples of 32, got {h}x{w}")
    return h, w


def add_recipe_arguments(p: argparse.ArgumentParser, defaults: Recipe | None = None) -> None:
    """The fine-tuning options shared by train.py and crossval.py."""
    defaults = defaults or Recipe()
    g = p.add_argument_group("fine-tuning recipe")
    g.add_argument("--epochs", type=int, default=defaults.epochs)
    g.add_argument("--samples-per-epoch", type=int, default=defaults.samples_per_epoch)
    g.add_argument("--batch-size", type=int, default=defaults.batch_size)
    g.add_argument("--lr", type=float, default=defaults.lr)
    g.add_argument("--weight-decay", type=float, default=defaults.weight_decay)
    g.add_argument("--label-smoothing", type=float, default=defaults.label_smoothing)
    g.add_argument(
        "--adversary-weight",
        type=float,
        default=defaults.adversary_weight,
        help="gradient-reversal coefficient of the driver-adversarial head (0 = off)",
    )
    g.add_argument(
        "--cutmix",
        type=float,
        default=defaults.cutmix_p,
        help="probability of CutMix with a same-class photo of another driver (0 = off)",
    )
    g.add_argument("--safe-weight", type=float, default=defaults.safe_weight, help="loss weight of c0 safe driving")


def recipe_from_args(args: argparse.Namespace) -> Recipe:
    return Recipe(
        epochs=args.epochs,
        samples_per_epoch=args.samples_per_epoch,
        batch_size=args.batch_size,
        lr=args.lr,
        weight_decay=args.weight_decay,
        label_smoothing=args.label_smoothing,
        adversary_weight=args.adversary_weight,
        cutmix_p=args.cutmix,
        safe_weight=args.safe_weight,
        seed=args.seed,
    )


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, default=None, help="data folder (default: $DRIVERCAM_DATA or ../shared/data)")
    p.add_argument("--out", type=Path, required=True, help="run folder for cache, checkpoints and model.pt")
    p.add_argument(
        "--cache-dir",
        type=Path,
        default=None,
        help="where frozen-block maps are cached (default: OUT); "
        "runs that differ only after the frozen blocks can share it",
    )
    p.add_argument(
        "--holdout", default="p014,p024,p047,p051", help="comma-separated driver ids never trained on ('' = none)"
    )
    p.add_argument("--input-size", type=parse_size, default=(192, 256), help="HxW, multiples of 32 (default 192x256)")
    p.add_argument("--output-stride", type=int, choices=(16, 32), default=16)
    p.add_argument("--dilate", action="store_true", help="dilate the depthwise convs after the removed stride")
    p.add_argument(
        "--freeze-through", type=int, default=7, help="last frozen block index (default 7: train stages 5-7)"
    )
    p.add_argument("--views", type=int, default=4, help="cached views per full-resolution photo (1 clean + augmented)")
    p.add_argument(
        "--augment", choices=sorted(AUGMENTS), default="standard", help="strength of the cached augmented views"
    )
    p.add_argument("--lowres", type=float, default=1.0, help="fraction of low-resolution photos to use (0 = none)")
    p.add_argument("--dropout", type=float, default=0.3)
    add_recipe_arguments(p)
    p.add_argument("--limit", type=int, default=0, help="use only this many photos per split (quick tests)")
    p.add_argument("--threads", type=int, default=0, help="torch threads (0 = all cores)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--resume", action="store_true", help="continue from OUT/last.pt")
    p.add_argument("--no-progress", action="store_true")
    return p


def cache_key(args: argparse.Namespace, n_train: int, n_val: int) -> str:
    keys = dict(
        size=args.input_size,
        freeze=args.freeze_through,
        views=args.views,
        lowres=args.lowres,
        holdout=args.holdout,
        limit=args.limit,
        seed=args.seed,
        n_train=n_train,
        n_val=n_val,
        augment=args.augment,
        rows="per-row-seed",
    )
    return hashlib.sha1(json.dumps(keys, sort_keys=True).encode()).hexdigest()[:12]


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if args.threads:
        torch.set_num_threads(args.threads)
    # Denormal floats in late training make CPU kernels crawl; flushing them changes nothing measurable.
    torch.set_flush_denormal(True)
    torch.manual_seed(args.seed)
    recipe = recipe_from_args(args)
    data = args.data or default_data_dir()
    args.out.mkdir(parents=True, exist_ok=True)
    t0 = time.time()

    holdout = {s for s in args.holdout.split(",") if s}
    samples = read_samples(data / "statefarm" / "labels.csv")
    train, val = split_by_subject(samples, holdout)
    lowres: list[Sample] = []
    if args.lowres > 0:
        low_train, _ = split_by_subject(read_samples(data / "statefarm" / "lowres_labels.csv"), holdout)
        rng = np.random.default_rng(args.seed)
        keep = rng.permutation(len(low_train))[: int(len(low_train) * args.lowres)]
        lowres = [low_train[i] for i in sorted(keep)]
    if args.limit:
        rng = np.random.default_rng(args.seed)
        train = [train[i] for i in rng.permutation(len(train))[: args.limit]]
        val = [val[i] for i in rng.permutation(len(val))[: args.limit]] if val else []
        lowres = lowres[: args.limit]
    train_subjects = sorted({s.subject for s in train})
    log.info(
        "train: %d photos + %d low-res of %d drivers; held out: %d photos of %s",
        len(train),
        len(lowres),
        len(train_subjects),
        len(val),
        sorted(holdout),
    )

    model = EfficientNetLite0(10, output_stride=args.output_stride, dilate=args.dilate, dropout=args.dropout)
    load_imagenet_weights(model)

    jobs = [CacheJob(s, "clean" if v == 0 else "aug") for s in train for v in range(args.views)]
    jobs += [CacheJob(s, "aug") for s in lowres]
    key = cache_key(args, len(jobs), len(val))
    cache_dir = args.cache_dir or args.out
    common = dict(
        input_size=args.input_size,
        freeze_through=args.freeze_through,
        seed=args.seed,
        aug_cfg=AUGMENTS[args.augment],
        progress=not args.no_progress,
    )
    train_feats = build_cache(model, jobs, cache_dir / f"cache-train-{key}.npy", desc="cache train", **common)
    evals: dict[str, EvalRows] = {}
    if val:
        val_feats = build_cache(
            model, [CacheJob(s, "clean") for s in val], cache_dir / f"cache-val-{key}.npy", desc="cache val", **common
        )
        evals["heldout"] = EvalRows(val_feats, np.arange(len(val)), np.array([s.label for s in val], dtype=np.int64))
    log.info(
        "cache ready: %s train maps of shape %s (%.0f s)", len(train_feats), train_feats.shape[1:], time.time() - t0
    )

    subject_index = {s: i for i, s in enumerate(train_subjects)}
    rows = TrainRows(
        feats=train_feats,
        rows=np.arange(len(jobs)),
        labels=np.array([j.sample.label for j in jobs], dtype=np.int64),
        subjects=np.array([subject_index[j.sample.subject] for j in jobs], dtype=np.int64),
        drivers=tuple(train_subjects),
    )
    part = TrainablePart(model, args.freeze_through + 1)
    result = fine_tune(
        part, rows, evals, recipe, args.out / "last.pt", resume=args.resume, progress=not args.no_progress
    )
    history = result.history

    config = {
        "architecture": "efficientnet-lite0",
        "num_classes": 10,
        "output_stride": args.output_stride,
        "dilate": args.dilate,
        "input_size": list(args.input_size),
        "train_subjects": train_subjects,
        "heldout_subjects": sorted(holdout),
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "recipe": recipe.as_dict(),
        "history": history,
        "wall_time_s": round(time.time() - t0, 1),
        "torch_threads": torch.get_num_threads(),
    }
    torch.save({"model": model.state_dict(), "config": config}, args.out / "model.pt")
    (args.out / "metrics.json").write_text(json.dumps(config, indent=2) + "\n")
    log.info("wrote %s (%.0f s)", args.out / "model.pt", time.time() - t0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
