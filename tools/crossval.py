"""Leave-drivers-out cross-validation of a training recipe, and the final model on all drivers.

The 20 drivers of ``statefarm/labels.csv`` are split into five fixed folds of four
(sorted ids shuffled with ``--fold-seed``, then dealt round-robin; the layout is
written into every result). Each fold trains on the other 16 drivers and is
measured on its four, so every driver is held out exactly once.

The frozen early blocks' maps are cached ONCE for all drivers (``OUT/cache``):
per 320x240 photo a clean view, ``--views - 1`` augmented views and a clean grey
view; one augmented view of a ``--lowres`` share of the 80x60 photos. A fold
trains on its 16 drivers' rows (clean, augmented, grey and low-res) and is
measured on its held-out drivers' clean rows (colour accuracy) and grey rows
(greyscale accuracy). The held-out drivers' augmented rows are never used.

A finished fold writes ``foldK.json`` (held-out drivers, accuracy, per-driver
accuracy, per-class recall, confusion matrix, greyscale accuracy, per-epoch
history, wall time, the settings) and ``foldK-predictions.json`` (every held-out
photo's probabilities) into ``--results``, which is committed; a rerun skips the
folds found there even when the run folder is gone, and continues an unfinished
fold from ``OUT/foldK/last.pt``. After the last fold (or with ``--report``)
``summary.json`` and ``summary.md`` aggregate the folds: mean and spread of
accuracy, every driver's accuracy with the worst named, pooled per-class recall
and greyscale accuracy.

``--final`` then trains the shipped model on all 20 drivers with the same recipe
(``OUT/final/model.pt``, for ``export_onnx.py``).

The default recipe, ``adv-cutmix``, adds levers against identity shortcuts to
the fine-tuning of ``train.py`` (see ``finetune.py`` and models/README.md):
stronger colour and grey augmentation (``--augment identity``), the training
drivers' grey views, a driver-adversarial head (``--adversary-weight 0.1``) and
CutMix between same-class photos of different drivers (``--cutmix 0.5``). Its
size fits 2 CPU cores: 3 epochs x 9,600 samples is 450 steps of 64 per fold
(about 20 min at 2.6 s per step), five folds plus the shared cache (23,216 rows
at about 31 rows/s) about 2 h.

Example::

    python tools/crossval.py --out runs/crossval-adv-cutmix --name adv-cutmix
    python tools/crossval.py --out runs/crossval-adv-cutmix --name adv-cutmix --report
    python tools/crossval.py --out runs/crossval-adv-cutmix --name adv-cutmix --final
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from crossval_summary import fold_metrics, summarise, write_json
from dataset import (
    CLASS_IDS,
    Sample,
    default_data_dir,
    read_samples,
    subject_folds,
)
from effnet_lite import EfficientNetLite0, load_imagenet_weights
from featcache import CacheJob, build_cache
from finetune import EvalRows, Recipe, TrainablePart, TrainRows, fine_tune, predict
from train import AUGMENTS, add_recipe_arguments, parse_size, recipe_from_args

log = logging.getLogger("crossval")

REPO = Path(__file__).resolve().parent.parent
VIEW_CODE = {"clean": 0, "aug": 1, "grey": 2}

# The recipe this command runs unless told otherwise (see models/README.md).
DEFAULT_RECIPE = Recipe(epochs=3, samples_per_epoch=9600, adversary_weight=0.1, cutmix_p=0.5)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, default=None, help="data folder (default: $DRIVERCAM_DATA or ../shared/data)")
    p.add_argument(
        "--out", type=Path, required=True, help="run folder: shared cache, per-fold checkpoints (not committed)"
    )
    p.add_argument("--name", default="adv-cutmix", help="recipe name; names the default results folder")
    p.add_argument(
        "--results", type=Path, default=None, help="committed results folder (default: models/crossval/NAME)"
    )
    p.add_argument("--folds", type=int, default=5, help="number of folds (default 5: four drivers each)")
    p.add_argument("--fold-seed", type=int, default=0, help="seeds the fixed assignment of drivers to folds")
    p.add_argument("--max-folds", type=int, default=0, help="stop after working on this many folds (0 = all)")
    p.add_argument(
        "--max-epochs", type=int, default=0, help="stop after this many epochs in this invocation (0 = no limit)"
    )
    p.add_argument("--report", action="store_true", help="only aggregate the finished folds into summary.json/md")
    p.add_argument("--final", action="store_true", help="after the folds, train the shipped model on all drivers")
    p.add_argument(
        "--final-only",
        action="store_true",
        help="train the model on all drivers now, leaving unfinished folds for later (the summary says which ran)",
    )
    p.add_argument("--input-size", type=parse_size, default=(192, 256), help="HxW, multiples of 32 (default 192x256)")
    p.add_argument("--output-stride", type=int, choices=(16, 32), default=16)
    p.add_argument("--freeze-through", type=int, default=7, help="last frozen block index (default 7)")
    p.add_argument(
        "--views", type=int, default=3, help="colour views per 320x240 photo: 1 clean + augmented (default 3)"
    )
    p.add_argument("--augment", choices=sorted(AUGMENTS), default="identity", help="strength of the augmented views")
    p.add_argument(
        "--lowres", type=float, default=0.4, help="share of the 80x60 photos cached (one augmented view each)"
    )
    p.add_argument(
        "--no-train-grey",
        dest="train_grey",
        action="store_false",
        help="do not train on the training drivers' grey views",
    )
    p.add_argument("--dropout", type=float, default=0.3)
    add_recipe_arguments(p, DEFAULT_RECIPE)
    p.add_argument("--limit-per-driver", type=int, default=0, help="use only this many photos per driver (quick tests)")
    p.add_argument("--threads", type=int, default=0, help="torch threads (0 = all cores)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-progress", action="store_true")
    return p


@dataclass(frozen=True)
class CacheTable:
    """Every cached row's photo, view, class and driver."""

    jobs: list[CacheJob]
    labels: np.ndarray
    subjects: np.ndarray
    views: np.ndarray
    lowres: np.ndarray
    drivers: tuple[str, ...]


def make_folds(drivers: list[str], k: int, seed: int) -> list[list[str]]:
    """``k`` disjoint, sorted groups of drivers covering all of them, in a fixed order."""
    if not 1 < k <= len(drivers):
        raise ValueError(f"--folds must be in [2, {len(drivers)}] for {len(drivers)} drivers, got {k}")
    folds = [sorted(group) for group in subject_folds(drivers, k, seed)]
    if sorted(d for f in folds for d in f) != sorted(drivers):
        raise AssertionError("folds do not cover every driver exactly once")
    return folds


def pick(samples: list[Sample], per_driver: int, rng: np.random.Generator) -> list[Sample]:
    """At most ``per_driver`` photos of each driver, drawn at random, in their original order."""
    by_driver: dict[str, list[int]] = {}
    for i, s in enumerate(samples):
        by_driver.setdefault(s.subject, []).append(i)
    keep: list[int] = []
    for idx in by_driver.values():
        keep += [idx[j] for j in rng.permutation(len(idx))[:per_driver]]
    return [samples[i] for i in sorted(keep)]


def cache_table(data: Path, args: argparse.Namespace) -> CacheTable:
    photos = read_samples(data / "statefarm" / "labels.csv")
    low: list[Sample] = []
    if args.lowres > 0:
        low_all = read_samples(data / "statefarm" / "lowres_labels.csv")
        keep = np.random.default_rng(args.seed).permutation(len(low_all))[: int(len(low_all) * args.lowres)]
        low = [low_all[i] for i in sorted(keep)]
    if args.limit_per_driver:
        rng = np.random.default_rng(args.seed)
        photos = pick(photos, args.limit_per_driver, rng)
        low = pick(low, max(1, int(args.limit_per_driver * args.lowres)), rng) if low else []
    jobs: list[CacheJob] = []
    for s in photos:
        jobs += [CacheJob(s, "clean")] + [CacheJob(s, "aug")] * (args.views - 1) + [CacheJob(s, "grey")]
    n_high = len(jobs)
    jobs += [CacheJob(s, "aug") for s in low]
    drivers = tuple(sorted({s.subject for s in photos}))
    index = {d: i for i, d in enumerate(drivers)}
    missing = {s.subject for s in low} - set(drivers)
    if missing:
        raise ValueError(f"low-res photos of drivers without 320x240 photos: {sorted(missing)}; check {data}")
    return CacheTable(
        jobs=jobs,
        labels=np.array([j.sample.label for j in jobs], dtype=np.int64),
        subjects=np.array([index[j.sample.subject] for j in jobs], dtype=np.int64),
        views=np.array([VIEW_CODE[j.view] for j in jobs], dtype=np.int64),
        lowres=np.arange(len(jobs)) >= n_high,
        drivers=drivers,
    )


def cache_settings(args: argparse.Namespace, table: CacheTable) -> dict[str, object]:
    listing = hashlib.sha1(
        "\n".join(f"{j.sample.path.name},{j.sample.label},{j.sample.subject},{j.view}" for j in table.jobs).encode()
    ).hexdigest()[:12]
    return {
        "input_size": list(args.input_size),
        "freeze_through": args.freeze_through,
        "views": args.views,
        "augment": args.augment,
        "lowres": args.lowres,
        "limit_per_driver": args.limit_per_driver,
        "seed": args.seed,
        "rows": len(table.jobs),
        "listing": listing,
    }


def settings_of(args: argparse.Namespace, recipe: Recipe, folds: list[list[str]]) -> dict[str, object]:
    """Everything a fold's result depends on; a result with other settings is not reused."""
    return {
        "name": args.name,
        "folds": folds,
        "fold_seed": args.fold_seed,
        "input_size": list(args.input_size),
        "output_stride": args.output_stride,
        "freeze_through": args.freeze_through,
        "views": args.views,
        "augment": args.augment,
        "lowres": args.lowres,
        "train_grey": args.train_grey,
        "dropout": args.dropout,
        "limit_per_driver": args.limit_per_driver,
        "seed": args.seed,
        "recipe": recipe.as_dict(),
    }


def finished_fold(results: Path, k: int, settings: dict[str, object]) -> bool:
    path = results / f"fold{k}.json"
    if not path.is_file():
        return False
    found = json.loads(path.read_text()).get("settings")
    if found != settings:
        raise ValueError(
            f"{path} was made with other settings ({found}) than this run ({settings}); "
            "pass another --name or --results, or delete the old results"
        )
    return True


def new_model(args: argparse.Namespace) -> EfficientNetLite0:
    model = EfficientNetLite0(10, output_stride=args.output_stride, dropout=args.dropout)
    load_imagenet_weights(model)
    return model


def train_rows(table: CacheTable, feats: np.ndarray, train_grey: bool, exclude: set[str]) -> TrainRows:
    keep_drivers = [d for d in table.drivers if d not in exclude]
    remap = np.full(len(table.drivers), -1, dtype=np.int64)
    remap[[table.drivers.index(d) for d in keep_drivers]] = np.arange(len(keep_drivers))
    views_ok = np.isin(table.views, [0, 1, 2] if train_grey else [0, 1])
    rows = np.flatnonzero(views_ok & (remap[table.subjects] >= 0))
    return TrainRows(feats, rows, table.labels[rows], remap[table.subjects[rows]], tuple(keep_drivers))


def run_fold(
    k: int,
    heldout: list[str],
    table: CacheTable,
    feats: np.ndarray,
    args: argparse.Namespace,
    recipe: Recipe,
    settings: dict[str, object],
    results: Path,
    max_epochs: int | None,
) -> tuple[bool, int]:
    """Train and measure fold ``k``.

    Returns:
        Whether its result was written, and how many epochs ran in this call.
    """
    t0 = time.time()
    fold_dir = args.out / f"fold{k}"
    fold_dir.mkdir(parents=True, exist_ok=True)
    held = np.isin(np.array(table.drivers)[table.subjects], heldout) & ~table.lowres
    clean = np.flatnonzero(held & (table.views == 0))
    grey = np.flatnonzero(held & (table.views == 2))
    if not len(clean) or [table.jobs[i].sample for i in clean] != [table.jobs[i].sample for i in grey]:
        raise AssertionError(f"fold {k}: held-out clean and grey rows do not pair up")
    train = train_rows(table, feats, args.train_grey, set(heldout))
    if set(train.drivers) & set(heldout):
        raise AssertionError(f"fold {k}: a held-out driver is among the training drivers")
    log.info(
        "fold %d: held out %s (%d photos); training on %d rows of %d drivers",
        k,
        heldout,
        len(clean),
        len(train.rows),
        len(train.drivers),
    )
    torch.manual_seed(args.seed + k)
    model = new_model(args)
    part = TrainablePart(model, args.freeze_through + 1)
    evals = {"heldout": EvalRows(feats, clean, table.labels[clean]), "grey": EvalRows(feats, grey, table.labels[grey])}
    fold_recipe = Recipe(**{**recipe.as_dict(), "seed": recipe.seed + k})
    result = fine_tune(
        part,
        train,
        evals,
        fold_recipe,
        fold_dir / "last.pt",
        max_epochs=max_epochs,
        progress=not args.no_progress,
        desc=f"fold {k} ",
    )
    if not result.finished:
        return False, result.epochs_run
    probs = result.probs.get("heldout")
    grey_probs = result.probs.get("grey")
    if probs is None or grey_probs is None:
        probs, grey_probs = predict(part, feats, clean), predict(part, feats, grey)
    labels = table.labels[clean]
    subjects = [table.drivers[s] for s in table.subjects[clean]]
    torch.save(
        {"model": model.state_dict(), "config": model_config(args, list(train.drivers), heldout, result.history)},
        fold_dir / "model.pt",
    )
    record = {
        "fold": k,
        "heldout_drivers": heldout,
        "train_drivers": list(train.drivers),
        "train_rows": len(train.rows),
        **fold_metrics(probs, grey_probs, labels, subjects),
        "history": result.history,
        "resumed_at_epoch": result.resumed_at,
        "train_time_s": round(sum(float(h.get("epoch_s", 0)) for h in result.history), 1),
        "wall_time_this_run_s": round(time.time() - t0, 1),
        "settings": settings,
    }
    data = args.data or default_data_dir()
    preds = {
        "fold": k,
        "class_ids": list(CLASS_IDS),
        "photos": [
            {
                "path": str(table.jobs[i].sample.path.relative_to(data))
                if table.jobs[i].sample.path.is_relative_to(data)
                else table.jobs[i].sample.path.name,
                "subject": subj,
                "label": int(lab),
                "probs": [round(float(v), 4) for v in p],
                "grey_probs": [round(float(v), 4) for v in g],
            }
            for i, subj, lab, p, g in zip(clean, subjects, labels, probs, grey_probs, strict=True)
        ],
    }
    write_json(results / f"fold{k}-predictions.json", preds)
    write_json(results / f"fold{k}.json", record)
    summarise(results, settings["folds"])  # type: ignore[arg-type]  # partial until the last fold
    log.info(
        "fold %d done: accuracy %.4f, grey %.4f, per driver %s",
        k,
        record["accuracy"],
        record["grey_accuracy"],
        {d: round(v, 3) for d, v in record["per_driver_accuracy"].items()},
    )
    return True, result.epochs_run


def model_config(
    args: argparse.Namespace, train_drivers: list[str], heldout: list[str], history: list[dict[str, object]]
) -> dict[str, object]:
    """The ``config`` export_onnx.py reads from a model.pt."""
    return {
        "architecture": "efficientnet-lite0",
        "num_classes": 10,
        "output_stride": args.output_stride,
        "dilate": False,
        "input_size": list(args.input_size),
        "train_subjects": train_drivers,
        "heldout_subjects": heldout,
        "history": history,
        "recipe_name": args.name,
    }


def train_final(
    table: CacheTable,
    feats: np.ndarray,
    args: argparse.Namespace,
    recipe: Recipe,
    results: Path,
    max_epochs: int | None,
) -> bool:
    """Train on every driver with the recipe; writes OUT/final/model.pt for export_onnx.py."""
    final_dir = args.out / "final"
    final_dir.mkdir(parents=True, exist_ok=True)
    train = train_rows(table, feats, args.train_grey, set())
    log.info("final model: training on %d rows of all %d drivers", len(train.rows), len(train.drivers))
    torch.manual_seed(args.seed)
    model = new_model(args)
    part = TrainablePart(model, args.freeze_through + 1)
    result = fine_tune(
        part,
        train,
        {},
        recipe,
        final_dir / "last.pt",
        max_epochs=max_epochs,
        progress=not args.no_progress,
        desc="final ",
    )
    if not result.finished:
        return False
    config = model_config(args, list(train.drivers), [], result.history)
    summary_path = results / "summary.json"
    if summary_path.is_file():
        s = json.loads(summary_path.read_text())
        config["crossval"] = {
            k: s[k]
            for k in ("accuracy_mean", "accuracy_min", "accuracy_max", "worst_driver", "grey_accuracy_mean", "complete")
        }
        config["c0_bias"] = s.get("chosen_c0_bias", 0.0)
        if "with_chosen_c0_bias" in s:  # what the exported model, which carries the bias, should be expected to do
            config["crossval"].update(
                {
                    k: s["with_chosen_c0_bias"][k]
                    for k in ("accuracy_mean", "accuracy_min", "accuracy_max", "worst_driver", "grey_accuracy_mean")
                }
            )
            config["crossval"]["c0_bias"] = config["c0_bias"]
    torch.save({"model": model.state_dict(), "config": config}, final_dir / "model.pt")
    write_json(final_dir / "metrics.json", config)
    log.info("wrote %s", final_dir / "model.pt")
    return True


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)
    recipe = recipe_from_args(args)
    data = args.data or default_data_dir()
    results = args.results or REPO / "models" / "crossval" / args.name
    drivers = sorted({s.subject for s in read_samples(data / "statefarm" / "labels.csv")})
    folds = make_folds(drivers, args.folds, args.fold_seed)
    settings = settings_of(args, recipe, folds)
    results.mkdir(parents=True, exist_ok=True)
    if args.report:
        summarise(results, folds)
        log.info("wrote %s", results / "summary.md")
        return 0
    log.info("folds: %s", {k: f for k, f in enumerate(folds, 1)})
    todo = [k for k in range(1, len(folds) + 1) if not finished_fold(results, k, settings)]
    if args.final_only:
        if todo:
            log.info("--final-only: folds %s stay unfinished; the final model's crossval block says so", todo)
        todo, args.final = [], True
    if todo:
        log.info("folds to run: %s (finished ones in %s are skipped)", todo, results)
    elif not args.final_only:
        log.info("all %d folds finished in %s", len(folds), results)
    max_epochs = args.max_epochs or None
    stopped = False
    if todo or args.final:
        t0 = time.time()
        args.out.mkdir(parents=True, exist_ok=True)
        table = cache_table(data, args)
        cset = cache_settings(args, table)
        key = hashlib.sha1(json.dumps(cset, sort_keys=True).encode()).hexdigest()[:12]
        cache_dir = args.out / "cache"
        cache_dir.mkdir(parents=True, exist_ok=True)
        write_json(cache_dir / f"cache-{key}.json", cset)
        log.info(
            "cache: %d rows (%d photos x %d views + grey, %d low-res)",
            len(table.jobs),
            int((table.views == 0).sum()),
            args.views,
            int(table.lowres.sum()),
        )
        model = new_model(args)
        feats = build_cache(
            model,
            table.jobs,
            cache_dir / f"cache-{key}.npy",
            input_size=args.input_size,
            freeze_through=args.freeze_through,
            seed=args.seed,
            aug_cfg=AUGMENTS[args.augment],
            progress=not args.no_progress,
            desc="cache",
        )
        log.info("cache ready: %d maps of shape %s (%.0f s)", len(feats), feats.shape[1:], time.time() - t0)
        stopped = False
        for worked, k in enumerate(todo):
            if args.max_folds and worked >= args.max_folds:
                log.info("stopping after %d fold(s) (--max-folds); rerun the same command to continue", worked)
                stopped = True
                break
            finished, ran = run_fold(k, folds[k - 1], table, feats, args, recipe, settings, results, max_epochs)
            if max_epochs is not None:
                max_epochs -= ran
            if not finished or max_epochs == 0:
                log.info("stopping (--max-epochs); rerun the same command to continue")
                stopped = True
                break
    if any((results / f"fold{k}.json").is_file() for k in range(1, len(folds) + 1)):
        summary = summarise(results, folds)
        log.info(
            "summary (%s): mean %.4f, min %.4f, max %.4f, worst driver %s, grey %.4f",
            "complete" if summary["complete"] else "partial",
            summary["accuracy_mean"],
            summary["accuracy_min"],
            summary["accuracy_max"],
            summary["worst_driver"],
            summary["grey_accuracy_mean"],
        )
    if args.final and not stopped:
        train_final(table, feats, args, recipe, results, max_epochs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
