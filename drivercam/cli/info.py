"""``drivercam info``: a model's labels, input and CAM sizes, metadata and execution providers."""

from __future__ import annotations

import argparse
from typing import Any

from drivercam.cli.exits import EXIT_OK
from drivercam.cli.options import model_path


def add_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add ``info`` to the subcommands."""
    info = commands.add_parser(
        "info",
        parents=[common],
        help="show a model's labels, sizes, metadata and providers",
        description="Show a model's labels, input and CAM sizes, metadata and execution providers.",
    )
    info.add_argument("model_path", nargs="?", metavar="MODEL", help="model to describe (default: --model)")


def run(args: argparse.Namespace) -> int:
    """Print what the model says about itself and where it runs."""
    from drivercam.model import OnnxClassifier, available_providers, split_providers

    path = model_path(args, args.model_path)
    classifier = OnnxClassifier(path, device=args.device, intra_op_threads=args.threads)
    labels = tuple(classifier.labels)
    class_ids = tuple(classifier.class_ids)
    height, width = classifier.input_size
    cam_h, cam_w = classifier.cam_size
    lines = [
        f"model: {classifier.path}",
        f"classes: {len(labels)}",
        *(f"  {i:2d}  {cid:<4} {label}" for i, (cid, label) in enumerate(zip(class_ids, labels))),
        f"input size: {width}x{height} (width x height)",
        f"cam size: {cam_w}x{cam_h} (width x height)",
        f"feature stride: {classifier.feature_stride}",
        f"colour order: {classifier.color_order}",
        "metadata:",
        *(f"  {key}: {value}" for key, value in sorted(classifier.metadata.items())),
    ]
    compiled = available_providers()
    loads, broken = split_providers(compiled)
    lines += [
        f"providers compiled into ONNX Runtime: {', '.join(compiled)}",
        f"providers that load on this machine: {', '.join(loads)}",
    ]
    if broken:
        lines.append(
            f"compiled in but not loading here: {', '.join(broken)} "
            "(no GPU, driver or libraries they need; see ONNX Runtime's requirements page)"
        )
    lines.append(f"chosen providers ({args.device}): {', '.join(classifier.providers)}")
    print("\n".join(lines))
    return EXIT_OK
