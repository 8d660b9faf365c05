"""Export a trained drivercam network to ONNX, with the class activation maps inside.

The exported graph takes ``images``: uint8 (N, H, W, 3) BGR frames already resized
to the model's input size, and returns from one run:

- ``probs`` (N, C): softmax class probabilities;
- ``cams`` (N, C, h, w): ``CAM_c(x, y) = sum_k w_ck f_k(x, y)``, the final linear
  layer's weights applied to the last feature maps (Zhou et al. 2016).

Casting, BGR->RGB, the ``(rgb - 127) / 128`` scaling and the NHWC->NCHW transpose
are folded into the graph, so the runtime only resizes. The batch is dynamic.

Before writing anything the export checks that

1. the network's head is global average pooling followed by one linear layer
   (otherwise the CAM would not explain the score), by comparing the network's own
   logits with ``fc(mean(features))`` on real photos;
2. ONNX Runtime reproduces PyTorch's probabilities and CAMs on real photos within
   ``--atol-probs`` and ``--rtol-cams`` (relative to the largest CAM magnitude).

Example::

    python tools/export_onnx.py runs/s16/model.pt -o models/drivercam.onnx
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import torch
from torch import nn
from torch.nn import functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dataset import CLASS_IDS, LABELS, default_data_dir, load_bgr, read_samples, resize
from effnet_lite import IMAGENET_MEAN, IMAGENET_STD, EfficientNetLite0

log = logging.getLogger("export_onnx")

REPO = Path(__file__).resolve().parent.parent

TRAINING_DATA = (
    "State Farm Distracted Driver Detection (Kaggle, 2016): side-view in-cabin photos of "
    "20 drivers, 10 classes. The dataset's terms limit it, and models trained on it, to "
    "non-commercial research use."
)


class HeadError(ValueError):
    """The network's head is not global average pooling followed by one linear layer."""


class CamModel(nn.Module):
    """uint8 BGR NHWC frames -> (softmax probabilities, all-class CAMs) in one pass."""

    def __init__(self, net: nn.Module, *, color_order: str = "BGR", include_cams: bool = True) -> None:
        super().__init__()
        self.include_cams = include_cams
        if color_order not in ("BGR", "RGB"):
            raise ValueError(f"color_order must be 'BGR' or 'RGB', got {color_order!r}")
        self.net = net
        self.color_order = color_order
        fc = net._fc
        # (C, K, 1, 1): the CAM is a 1x1 convolution of the feature maps with the fc weights.
        self.register_buffer("cam_weight", fc.weight.detach().clone()[:, :, None, None])
        self.register_buffer("channel_order", torch.tensor([2, 1, 0] if color_order == "BGR" else [0, 1, 2]))

    def network_input(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 NHWC frames -> the normalised NCHW float input the network was trained on."""
        x = images.to(torch.float32).index_select(3, self.channel_order)
        return ((x - IMAGENET_MEAN) / IMAGENET_STD).permute(0, 3, 1, 2)

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor] | torch.Tensor:
        feats = self.net.features(self.network_input(images))
        logits = self.net._fc(feats.mean(dim=(2, 3)))
        probs = torch.softmax(logits, dim=1)
        if not self.include_cams:
            return probs
        return probs, F.conv2d(feats, self.cam_weight)


def check_gap_head(net: nn.Module, x: torch.Tensor, atol: float = 1e-4) -> None:
    """Refuse a network whose logits are not ``fc(GAP(features(x)))`` with one linear ``fc``.

    Raises:
        HeadError: naming what differs.
    """
    if not callable(getattr(net, "features", None)):
        raise HeadError("the network has no features() method returning the last feature maps")
    fc = getattr(net, "_fc", None)
    if not isinstance(fc, nn.Linear):
        raise HeadError(f"the classifier must be one nn.Linear named _fc, got {type(fc).__name__}")
    net.eval()
    with torch.no_grad():
        feats = net.features(x)
        if feats.ndim != 4:
            raise HeadError(f"features() must return (N, K, h, w) maps, got shape {tuple(feats.shape)}")
        expected = fc(feats.mean(dim=(2, 3)))
        actual = net(x)
    if actual.shape != expected.shape or not torch.allclose(actual, expected, atol=atol, rtol=0):
        diff = (actual - expected).abs().max().item() if actual.shape == expected.shape else float("inf")
        raise HeadError(
            "the network's output is not fc(global-average-pool(features)) "
            f"(max difference {diff:.3g}); a CAM exported from it would not explain its scores"
        )


def load_network(path: Path) -> tuple[EfficientNetLite0, dict]:
    ckpt = torch.load(path, map_location="cpu", weights_only=False)
    cfg = ckpt["config"]
    net = EfficientNetLite0(cfg["num_classes"], output_stride=cfg["output_stride"], dilate=cfg["dilate"])
    net.load_state_dict(ckpt["model"])
    net.eval()
    return net, cfg


def real_photos(
    data: Path, subjects: list[str] | None, count: int, size: tuple[int, int], seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """``count`` labelled photos (preferably of ``subjects``) resized to ``size``.

    Returns:
        uint8 BGR NHWC images and their class indices.
    """
    samples = read_samples(data / "statefarm" / "labels.csv")
    if subjects:
        picked = [s for s in samples if s.subject in set(subjects)]
        samples = picked or samples
    rng = np.random.default_rng(seed)
    chosen = [samples[i] for i in rng.permutation(len(samples))[:count]]
    images = np.stack([resize(load_bgr(s.path), *size) for s in chosen])
    return images, np.array([s.label for s in chosen])


def export(
    net: nn.Module,
    out: Path,
    *,
    input_size: tuple[int, int],
    stride: int,
    metadata: dict[str, str],
    opset: int = 17,
    include_cams: bool = True,
) -> None:
    """Write the ONNX file; ``include_cams=False`` gives the same network without the
    ``cams`` output (not a drivercam model; only for measuring what the CAM costs)."""
    h, w = input_size
    wrapper = CamModel(net, include_cams=include_cams).eval()
    outputs = ["probs", "cams"] if include_cams else ["probs"]
    dummy = torch.zeros(2, h, w, 3, dtype=torch.uint8)
    tmp = out.with_suffix(".tmp.onnx")
    torch.onnx.export(
        wrapper,
        (dummy,),
        str(tmp),
        input_names=["images"],
        output_names=outputs,
        dynamic_axes={name: {0: "N"} for name in ["images", *outputs]},
        opset_version=opset,
        dynamo=False,
    )
    model = onnx.load(str(tmp))
    tmp.unlink()
    meta = {
        "drivercam_contract": "1",
        "class_ids": json.dumps(list(CLASS_IDS)),
        "labels": json.dumps(list(LABELS)),
        "input_height": str(h),
        "input_width": str(w),
        "color_order": "BGR",
        "normalization": json.dumps({"mean": [IMAGENET_MEAN] * 3, "std": [IMAGENET_STD] * 3, "applied": "in_graph"}),
        "scores": "probs",
        "feature_stride": str(stride),
        **metadata,
    }
    del model.metadata_props[:]
    for key, value in meta.items():
        model.metadata_props.add(key=key, value=value)
    model.producer_name = "drivercam-export"
    onnx.checker.check_model(model)
    onnx.save(model, str(out))


def check_parity(
    net: nn.Module, onnx_path: Path, images: np.ndarray, *, atol_probs: float, rtol_cams: float
) -> dict[str, float]:
    """ORT vs PyTorch on the same uint8 frames; raise if they disagree beyond tolerance."""
    import onnxruntime as ort

    wrapper = CamModel(net).eval()
    with torch.no_grad():
        p_ref, c_ref = (t.numpy() for t in wrapper(torch.from_numpy(images)))
    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    p_ort, c_ort = sess.run(["probs", "cams"], {"images": images})
    probs_err = float(np.abs(p_ort - p_ref).max())
    cams_err = float(np.abs(c_ort - c_ref).max() / max(np.abs(c_ref).max(), 1e-12))
    agree = float((p_ort.argmax(1) == p_ref.argmax(1)).mean())
    result = {"max_abs_probs_error": probs_err, "max_rel_cams_error": cams_err, "top1_agreement": agree}
    if probs_err > atol_probs or cams_err > rtol_cams:
        raise RuntimeError(
            f"ONNX Runtime disagrees with PyTorch: probs error {probs_err:.2e} (limit {atol_probs:.0e}), "
            f"CAM error {cams_err:.2e} relative (limit {rtol_cams:.0e})"
        )
    return result


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("checkpoint", type=Path, help="model.pt written by tools/train.py")
    p.add_argument("-o", "--output", type=Path, default=Path("models/drivercam.onnx"))
    p.add_argument("--data", type=Path, default=None, help="data folder for the parity check photos")
    p.add_argument("--parity-photos", type=int, default=16)
    p.add_argument("--atol-probs", type=float, default=1e-4)
    p.add_argument("--rtol-cams", type=float, default=1e-3)
    p.add_argument("--opset", type=int, default=17)
    p.add_argument("--description", default="", help="free text stored in the metadata")
    p.add_argument(
        "--c0-bias",
        type=float,
        default=None,
        help="added to the safe-driving logit (default: the checkpoint's c0_bias, chosen by crossval.py; else 0)",
    )
    p.add_argument(
        "--ensemble-with",
        type=Path,
        action="append",
        default=[],
        metavar="MODEL_PT",
        help="export CHECKPOINT and these networks as one model (stacked feature maps, averaged classifiers)",
    )
    p.add_argument(
        "--ensemble-recipes",
        default="",
        metavar="A,B",
        help="with --ensemble-with: the members' recipes under models/crossval, whose fold predictions give "
        "the ensemble's cross-validated figures and safe-driving bias",
    )
    p.add_argument("--fp16", action="store_true", help="also write OUTPUT-fp16.onnx and measure it against fp32")
    p.add_argument(
        "--int8", action="store_true", help="also write OUTPUT-int8.onnx (static, calibrated on real photos)"
    )
    p.add_argument("--calibration-photos", type=int, default=64)
    p.add_argument("--variant-photos", type=int, default=200, help="held-out photos used to measure the variants")
    return p


def crossval_metadata(cfg: dict[str, Any]) -> dict[str, str]:
    """Metadata entries that state the cross-validated accuracy a model trained by ``crossval.py --final`` carries.

    A model trained on every driver has no held-out accuracy of its own; its
    expected accuracy on a new driver is the cross-validation's, which
    ``crossval.py --final`` stores in the checkpoint's ``crossval`` block.
    """
    block = cfg.get("crossval")
    if not block:
        return {}
    worst = block.get("worst_driver") or {}
    return {
        "all_drivers_used": "true" if not cfg.get("heldout_subjects") else "false",
        "crossval_accuracy_mean": str(block.get("accuracy_mean", "")),
        "crossval_accuracy_range": f"{block.get('accuracy_min', '')}-{block.get('accuracy_max', '')}",
        "crossval_grey_accuracy_mean": str(block.get("grey_accuracy_mean", "")),
        "crossval_worst_driver": json.dumps(worst, sort_keys=True),
        "crossval_complete": str(bool(block.get("complete"))).lower(),
    }


def apply_c0_bias(net: nn.Module, bias: float) -> None:
    """Add ``bias`` to the classifier's safe-driving logit: a decision rule chosen on held-out predictions.

    Only the scores move; the CAMs are the linear weights applied to the
    feature maps and do not contain the bias.
    """
    with torch.no_grad():
        net._fc.bias[0] += bias


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    net, cfg = load_network(args.checkpoint)
    architecture = f"efficientnet-lite0, output stride {cfg['output_stride']}" + (", dilated" if cfg["dilate"] else "")
    if args.ensemble_with:
        net, cfg = ensemble_network(net, cfg, args)
        architecture = f"ensemble of {len(args.ensemble_with) + 1} x ({architecture}), feature maps stacked"
    c0_bias = float(cfg.get("c0_bias", 0.0) if args.c0_bias is None else args.c0_bias)
    apply_c0_bias(net, c0_bias)
    size = tuple(cfg["input_size"])
    data = args.data or default_data_dir()
    photos, _ = real_photos(data, cfg.get("heldout_subjects"), args.parity_photos, size)
    check_gap_head(net, CamModel(net).network_input(torch.from_numpy(photos)))
    history = cfg.get("history") or [{}]
    metadata = {
        "architecture": architecture + ", global average pooling, linear",
        "training_data": TRAINING_DATA,
        "train_subjects": json.dumps(cfg.get("train_subjects", [])),
        "heldout_subjects": json.dumps(cfg.get("heldout_subjects", [])),
        "license": "weights: non-commercial research use (training data terms); code: Apache-2.0",
        "description": args.description,
        "exported_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "c0_bias": str(c0_bias),
        **crossval_metadata(cfg),
    }
    if "heldout_accuracy" in history[-1]:  # a model trained on every driver has none
        metadata["heldout_accuracy"] = str(history[-1]["heldout_accuracy"])
    args.output.parent.mkdir(parents=True, exist_ok=True)
    export(net, args.output, input_size=size, stride=cfg["output_stride"], metadata=metadata, opset=args.opset)
    try:
        parity = check_parity(net, args.output, photos, atol_probs=args.atol_probs, rtol_cams=args.rtol_cams)
    except RuntimeError:
        args.output.unlink()
        raise
    log.info(
        "wrote %s (%.1f MB); parity on %d real photos: %s",
        args.output,
        args.output.stat().st_size / 1e6,
        len(photos),
        parity,
    )
    if args.fp16 or args.int8:
        write_variants(args, cfg, data, size)
    return 0


def ensemble_network(net: nn.Module, cfg: dict, args: argparse.Namespace) -> tuple[nn.Module, dict]:
    """``net`` and the ``--ensemble-with`` networks as one; the config says what the ensemble was trained on.

    The members' own safe-driving biases are not used: the ensemble's is chosen on
    its recipes' fold predictions (``--ensemble-recipes``) or given by ``--c0-bias``.
    """
    from ensemble import EnsembleNet, crossval_block

    nets, subjects, heldout = [net], set(cfg.get("train_subjects", [])), set(cfg.get("heldout_subjects", []))
    for path in args.ensemble_with:
        other, other_cfg = load_network(path)
        for key in ("input_size", "output_stride", "num_classes"):
            if other_cfg[key] != cfg[key]:
                raise SystemExit(f"{path}: {key} {other_cfg[key]} differs from {args.checkpoint}'s {cfg[key]}")
        nets.append(other)
        subjects |= set(other_cfg.get("train_subjects", []))
        heldout |= set(other_cfg.get("heldout_subjects", []))
    # A driver any member trained on is not held out from the ensemble.
    merged = {**cfg, "train_subjects": sorted(subjects), "heldout_subjects": sorted(heldout - subjects), "c0_bias": 0.0}
    merged.pop("crossval", None)
    if args.ensemble_recipes:
        block = crossval_block(args.ensemble_recipes.split(","), REPO / "models" / "crossval")
        merged["crossval"], merged["c0_bias"] = block, block["c0_bias"]
    elif args.c0_bias is None:
        raise SystemExit("an ensemble needs --ensemble-recipes (figures and bias from its folds) or --c0-bias")
    return EnsembleNet(nets).eval(), merged


def write_variants(args: argparse.Namespace, cfg: dict, data: Path, size: tuple[int, int]) -> None:
    import variants

    heldout = cfg.get("heldout_subjects") or None
    images, labels = real_photos(data, heldout, args.variant_photos, size, seed=1)
    report = {}
    todo = [("fp16", args.fp16), ("int8", args.int8)]
    for name, wanted in todo:
        if not wanted:
            continue
        dst = args.output.with_name(f"{args.output.stem}-{name}.onnx")
        if name == "fp16":
            variants.to_fp16(args.output, dst)
        else:
            calib, _ = real_photos(data, cfg.get("train_subjects"), args.calibration_photos, size, seed=2)
            variants.to_int8(args.output, dst, calib)
        # Accuracy means something only on drivers the model never saw.
        report[name] = variants.compare(args.output, dst, images, labels if heldout else None)
        log.info("%s: %s (%.1f MB): %s", name, dst, dst.stat().st_size / 1e6, report[name])
    out = args.output.with_name(f"{args.output.stem}-variants.json")
    out.write_text(json.dumps(report, indent=2) + "\n")
    log.info("wrote %s", out)


if __name__ == "__main__":
    sys.exit(main())
