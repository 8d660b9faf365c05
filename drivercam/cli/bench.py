"""``drivercam bench``: per-stage timings of the real pipeline for each model and device."""

from __future__ import annotations

import argparse
import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from drivercam.bench import sysinfo
from drivercam.bench.report import build_report, format_table
from drivercam.bench.runner import BenchSettings, run_one, usable_devices
from drivercam.bench.synthetic import SyntheticSource, parse_size
from drivercam.cli.exits import EXIT_OK
from drivercam.cli.options import MODEL_ENV, OptionError, count, positive
from drivercam.model import default_model_path
from drivercam.sources import open_source, source_kind
from drivercam.types import FrameSource

logger = logging.getLogger(__name__)


def _size_arg(text: str) -> tuple[int, int]:
    try:
        return parse_size(text)
    except ValueError as e:
        w, sep, h = text.lower().partition("x")
        if sep and w.strip().isdigit() and h.strip().isdigit():  # a size, too small
            raise OptionError("--synthetic", text, "WIDTHxHEIGHT with both >= 16, e.g. 640x480") from None
        raise argparse.ArgumentTypeError(str(e)) from None


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``bench`` to the subcommands."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "bench",
        help="time every pipeline stage per model and device",
        description="Time capture, preprocess, inference, CAM, render and encode of the real pipeline "
        "(median, p90, p99 ms), end-to-end FPS, and in live mode dropped frames and frame age.",
    )
    src = p.add_mutually_exclusive_group()
    src.add_argument(
        "--synthetic", type=_size_arg, metavar="WxH", help="generated frames of this size (the default, at 640x480)"
    )
    src.add_argument("--source", help="a video file, or a camera index or /dev/video*")
    p.add_argument(
        "--live",
        action="store_true",
        help="play the file or synthetic frames in real time, keeping only the newest frame",
    )
    p.add_argument(
        "--fps", type=positive("--fps", "a frame rate"), default=30.0, help="synthetic frame rate (default 30)"
    )
    p.add_argument("--frames", type=count("--frames"), default=300, help="frames measured (default 300)")
    p.add_argument(
        "--warmup", type=count("--warmup", 0), default=20, help="frames run first, not measured (default 20)"
    )
    p.add_argument(
        "--model",
        action="append",
        metavar="PATH",
        help="drivercam ONNX model; repeat to compare models (e.g. fp32, fp16, int8)",
    )
    p.add_argument(
        "--device",
        action="append",
        metavar="DEVICE",
        help="auto, cpu, cuda, tensorrt, ..., or 'all' for every provider that works here; repeatable",
    )
    p.add_argument(
        "--threads",
        type=count("--threads"),
        help="ONNX Runtime intra-op threads per inference thread (default: as annotate decides)",
    )
    p.add_argument(
        "--workers",
        type=count("--workers"),
        help="inference threads for files (default: 2 on a CPU with 2+ cores, else 1; live: 1)",
    )
    p.add_argument("--batch", type=count("--batch"), default=1, help="frames per inference call (files only)")
    p.add_argument("--no-encode", action="store_true", help="skip H.264 encoding")
    p.add_argument("--output", metavar="OUT.mp4", help="keep the annotated video of the last run")
    p.add_argument("--json", metavar="FILE", help="also write figures, machine and settings as JSON")
    p.add_argument("-v", "--verbose", action="count", default=0, help="log details (-vv: debug)")
    return p


def _devices(requested: Sequence[str] | None) -> list[str]:
    devices: list[str] = []
    for device in requested or ["auto"]:
        for name in usable_devices() if device.strip().lower() == "all" else [device]:
            if name not in devices:
                devices.append(name)
    return devices


def run(args: argparse.Namespace) -> int:
    """Run ``drivercam bench`` with parsed arguments; print the table; 0 on success."""
    settings = BenchSettings(
        frames=args.frames,
        warmup=args.warmup,
        threads=args.threads,
        workers=args.workers,
        batch_size=args.batch,
        encode=not args.no_encode,
        output=Path(args.output) if args.output else None,
    )
    env_model = os.environ.get(MODEL_ENV)
    models = [Path(m) for m in args.model] if args.model else [Path(env_model) if env_model else default_model_path()]
    devices = _devices(args.device)
    pace = False
    if args.source is None:
        width, height = args.synthetic or (640, 480)
        count = None if args.live else settings.warmup + settings.frames
        source_info: dict[str, Any] = {
            "kind": "synthetic",
            "width": width,
            "height": height,
            "fps": args.fps,
            "live": args.live,
        }

        def make_source() -> FrameSource:
            return SyntheticSource(width, height, fps=args.fps, frames=count, live=args.live)

        pace = args.live
    else:
        spec: str | int = int(args.source) if args.source.isdigit() else args.source
        camera = source_kind(spec) == "camera"
        source_info = {"kind": "camera" if camera else "file", "spec": args.source, "live": camera or args.live}
        if not camera:
            source_info["sha256"] = sysinfo.sha256_of(str(spec))

        def make_source() -> FrameSource:
            return open_source(spec)

        pace = args.live and not camera
    runs = []
    for model_path in models:
        for device in devices:
            logger.info("benchmarking %s on %s", model_path, device)
            runs.append(run_one(model_path, device, make_source, settings, pace=pace, live=source_info["live"]))
    report = build_report(runs, settings, source_info, vars(args))
    print(format_table(report))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
        print(f"wrote {args.json}")
    return EXIT_OK
